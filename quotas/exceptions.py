"""The quotas app's one exception: views turn it into a message, commands into an exit code."""

from core.exceptions import PortalError


class QuotaError(PortalError):
    """A business rule of the quota allocation was broken; the message is for people."""
