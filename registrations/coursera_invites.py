"""Coursera's bulk-invite CSV: the learners as the file Coursera's admin accepts for inviting
many at once (``export_coursera_invites``, and the invitations admin's action)."""

from django.db.models import QuerySet

from core.tabular import write_csv

from .models import Nomination

COURSERA_INVITE_HEADER = ["Full Name", "Email", "External ID"]


def coursera_invites_csv(*, nominations: QuerySet[Nomination]) -> bytes:
    """Learners as Coursera's bulk-invite CSV (Full Name, Email, External ID = our learner id),
    formulas neutralised. Pass `selectors.cleared_learners(phase=...)` or a narrower set of them."""
    rows = ((n.full_name, n.email, n.learner_id_external) for n in nominations.order_by("id").iterator())
    return write_csv(rows, COURSERA_INVITE_HEADER)
