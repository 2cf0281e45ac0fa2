"""Date and number formats for languages Django ships without them (FORMAT_MODULE_PATH)."""
