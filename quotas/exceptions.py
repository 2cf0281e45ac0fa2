"""The quotas app's one exception: views turn it into a message, commands into an exit code."""


class QuotaError(Exception):
    """A business rule of the quota allocation was broken; the message is for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
