"""E-mails of registration: a seat freed up for you (promotion), your alumni seat hold expired,
your disability certificate did not arrive in time.

Called only through ``transaction.on_commit`` with a primary key, so nobody is told about a
seat that a rolled-back transaction never gave them. Text and HTML from templates under
``templates/registrations/email/``, in English and in Urdu (``core.mail``).
"""

from django.utils import formats, timezone

from core.mail import bilingual_email_from

from .learner_page import learner_page_url
from .models import Nomination, NominationStatus, Pool


def _send(*, nomination: Nomination, template: str, context: dict) -> None:
    context = {"nomination": nomination, "phase": nomination.phase, "status_url": learner_page_url(), **context}
    bilingual_email_from(prefix=f"registrations/email/{template}", context=context, to=[nomination.email]).send()


def _held_until(nomination: Nomination) -> str:
    if nomination.hold_expires_at is None:
        return ""
    return formats.date_format(timezone.localtime(nomination.hold_expires_at), "j F Y, H:i")


def promotion_notify(*, nomination_id: int) -> None:
    """Tell a person promoted from the waiting list that they now hold a seat."""
    nomination = Nomination.objects.select_related("phase", "university").filter(pk=nomination_id).first()
    if nomination is None or nomination.status != NominationStatus.SEATED:
        return  # withdrawn again before the e-mail went out: nothing to tell
    _send(
        nomination=nomination,
        template="promoted",
        context={"is_alumnus": nomination.pool == Pool.ALUMNI, "held_until": _held_until(nomination)},
    )


def hold_expired_notify(*, nomination_id: int) -> None:
    """Tell an alumnus that their seat hold ran out before the paid challan arrived."""
    nomination = Nomination.objects.select_related("phase").filter(pk=nomination_id).first()
    if nomination is None or nomination.status != NominationStatus.EXPIRED:
        return
    _send(nomination=nomination, template="hold_expired", context={})


def certificate_overdue_notify(*, nomination_id: int) -> None:
    """Tell a student whose disability certificate did not arrive in time where their seat went."""
    nomination = Nomination.objects.select_related("phase", "university").filter(pk=nomination_id).first()
    if nomination is None or nomination.status not in (NominationStatus.SEATED, NominationStatus.WAITING):
        return
    _send(nomination=nomination, template="certificate_overdue", context={})
