"""Views of this app: thin, a form and one service call each."""
