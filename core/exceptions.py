"""The one base of the apps' exceptions: views turn it into a message, commands into an exit code."""


class PortalError(Exception):
    """A business rule was broken; ``message`` is for people (already translated)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
