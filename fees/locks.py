"""The lock every fees service takes first on the learner whose money side it changes.

Challans, alumni payments, deposit corrections and disability waivers each lock the nomination
(``select_for_update``) before reading anything about it, so two requests about the same learner
run one after the other. The many deposits of a nominations file lock their nominations together
(``fees.deposits.deposits_record``).
"""

from registrations.models import Nomination


def nomination_lock(nomination: Nomination) -> Nomination:
    """The nomination's row, locked until the transaction ends, with its phase and university."""
    return (
        Nomination.objects.select_for_update(of=("self",)).select_related("phase", "university").get(pk=nomination.pk)
    )
