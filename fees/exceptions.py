"""The fees app's one exception: views turn it into a message, commands into an exit code."""


class FeeError(Exception):
    """A fee rule was broken; the message is for people (already translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
