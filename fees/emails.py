"""Queueing the e-mails of fees: each leaves through ``fees.tasks.email_send`` (primary keys,
retries), after the transaction that decided it commits."""

from core.mail import email_after_commit


def email_queue(*, kind: str, object_id: int) -> None:
    """Send the e-mail ``kind`` (a key of ``fees.tasks.EMAILS``) about ``object_id`` after commit."""
    from .tasks import email_send  # fees.tasks imports the modules that call this: looked up when queued

    email_after_commit(email_send, kind, object_id)
