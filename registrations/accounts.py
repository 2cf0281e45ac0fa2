"""Learner accounts: who an account belongs to, and how a nominee's account comes to be.

A nomination is a record about a person (name, CNIC, e-mail, phone); making one creates no
account. An account sees a nomination only through an e-mail address that the account has
*verified* (``registrations.selectors.nominations_of_account``): an address typed into a form
proves nothing, a code or link sent to it and used does.

* A nominee who has no account yet gets one when they ask for a sign-in code for their address
  (``learner_account_for_sign_in``): the account is made then, with no password, and the code
  verifies the address. For an address without any nomination nothing is made, and allauth sends
  its "no account" e-mail instead; the page looks the same either way.
* Proving an address by code gives its owner the account (``learner_account_prove``): a password
  that someone set on the account before the address was verified is cleared, which also ends
  every other session of the account (Django ties a session to the password).
* No two accounts hold the same address: allauth refuses a verified duplicate, the portal refuses
  any duplicate (``address_taken_elsewhere``, and a unique index on the lower-case address).
* HEC staff and focal-person accounts are not learners: their addresses cannot be nominated
  (``registrations.eligibility.account_role_problems``).
"""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from audit.services import audit_record

from .models import Nomination
from .roles import LEARNER


def _normal(email: str) -> str:
    return (email or "").strip().lower()


def address_taken_elsewhere(*, email: str, user) -> bool:
    """Another account holds ``email`` (verified or not, as an address or as its account e-mail)."""
    email = _normal(email)
    others = EmailAddress.objects.filter(email=email).exclude(user_id=user.pk)
    users = get_user_model().objects.filter(email__iexact=email).exclude(pk=user.pk)
    return others.exists() or users.exists()


def _holder_for_sign_in(email: str):
    """The account a sign-in for ``email`` may enter: the one that verified it, else one that holds
    it unverified while it has no verified address at all (a sign-up never confirmed, or a
    nominee's account whose code was not used yet). An account that proved another address never
    gets in through an address it has not proved."""
    rows = list(
        EmailAddress.objects.filter(email=email)
        .select_related("user")
        .annotate(
            account_verified=Exists(EmailAddress.objects.filter(user_id=OuterRef("user_id"), verified=True)),
        )
        .order_by("-verified", "id")
    )
    for row in rows:
        if row.verified or not row.account_verified:
            return row.user if row.user.is_active else None
    return None


@transaction.atomic
def learner_account_for_sign_in(*, email: str):
    """The account that a sign-in code for ``email`` is for, made now for a nominee who has none.

    Returns None when the address belongs to no account and to no nomination (allauth then sends
    its "no account" e-mail). An unverified claim on the address by an account that proved another
    one is dropped when a nominee's account is made: the address goes to whoever proves it.
    """
    email = _normal(email)
    if not email:
        return None
    holder = _holder_for_sign_in(email)
    if holder is not None:
        return holder
    if not Nomination.objects.filter(email=email).exists():
        return None
    User = get_user_model()
    if User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists():
        return None  # an account named after the address that holds no address row: never taken over
    claims = list(EmailAddress.objects.filter(email=email, verified=False).values_list("pk", "user_id"))
    if claims:
        EmailAddress.objects.filter(pk__in=[pk for pk, _user in claims]).delete()
    user = User(username=email, email=email)
    user.set_unusable_password()
    user.save()
    group = Group.objects.filter(name=LEARNER).first()
    if group is not None:
        user.groups.add(group)
    EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    audit_record(
        actor=None,
        action="account.learner_create",
        target=user,
        summary="Learner account made at a sign-in code request for a nominated address",
        data={"dropped_unverified_claims_of": [user_id for _pk, user_id in claims]},
    )
    return user


@transaction.atomic
def learner_account_prove(*, user, email: str) -> bool:
    """The owner of ``email`` has just typed the sign-in code sent to it: the account is theirs.

    If the address was not yet verified on the account, a password set on it before is cleared
    (whoever set it never proved the address), which ends every other session of the account.
    Returns whether a password was cleared. allauth marks the address verified right after.
    """
    email = _normal(email)
    locked = get_user_model().objects.select_for_update().get(pk=user.pk)
    proved_before = EmailAddress.objects.filter(user=locked, email=email, verified=True).exists()
    if proved_before or not locked.has_usable_password():
        return False
    locked.set_unusable_password()
    locked.save(update_fields=["password"])
    user.password = locked.password
    audit_record(
        actor=locked,
        action="account.password_cleared",
        target=locked,
        summary="Password set before the address was proved cleared at sign-in by code",
        data={"email": email},
    )
    return True
