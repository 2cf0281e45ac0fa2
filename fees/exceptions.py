"""The fees app's one exception: views turn it into a message, commands into an exit code."""

from core.exceptions import PortalError


class FeeError(PortalError):
    """A fee rule was broken; the message is for people (already translated)."""
