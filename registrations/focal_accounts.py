"""Focal person accounts: created by HEC staff, opened by a one-time set-your-password link.

allauth has no invitations, so the portal builds the small flow itself with Django's
``PasswordResetTokenGenerator``: the link carries the user's id and a token that is valid until
``PASSWORD_RESET_TIMEOUT`` passes or the password changes (so it works exactly once). Setting the
password proves the person reads that mailbox, so their allauth ``EmailAddress`` becomes verified.
"""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.mail import bilingual_email_from, email_after_commit
from quotas.models import University

from .exceptions import RegistrationError
from .models import FocalPerson
from .roles import FOCAL_PERSON, roles_ensure

welcome_token_generator = PasswordResetTokenGenerator()


def focal_welcome_path(*, user) -> str:
    """The one-time /registrations/welcome/<uidb64>/<token>/ path for ``user``."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = welcome_token_generator.make_token(user)
    return reverse("registrations:welcome", kwargs={"uidb64": uidb64, "token": token})


def focal_welcome_user(*, uidb64: str, token: str):
    """The user a welcome link belongs to, or None if the link is unknown, used or expired."""
    try:
        pk = force_str(urlsafe_base64_decode(uidb64))
        user = get_user_model().objects.select_related("focal_person__university").get(pk=pk)
    except (TypeError, ValueError, OverflowError, get_user_model().DoesNotExist):
        return None
    if not hasattr(user, "focal_person") or not user.is_active:
        return None
    if not welcome_token_generator.check_token(user, token):
        return None
    return user


def _welcome_enqueue_on_commit(*, user_id: int) -> None:
    from .tasks import email_send  # registrations.tasks imports this module: looked up when queued

    email_after_commit(email_send, "focal_welcome", user_id)


def focal_welcome_send(*, user_id: int) -> None:
    """Send the set-your-password e-mail (called after the creating transaction commits)."""
    user = get_user_model().objects.select_related("focal_person__university").get(pk=user_id)
    context = {
        "user": user,
        "university": user.focal_person.university,
        "link": settings.SITE_URL.rstrip("/") + focal_welcome_path(user=user),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
    }
    bilingual_email_from(
        prefix="registrations/email/focal_welcome", context=context, to=[user.email], html=False
    ).send()


@transaction.atomic
def focal_person_create(*, email: str, full_name: str, university: University, actor, phone: str = "") -> FocalPerson:
    """Create a focal person's account (no usable password) and e-mail them a set-password link."""
    email = email.strip().lower()
    if not email:
        raise RegistrationError(_("Enter the focal person's e-mail address."))
    User = get_user_model()
    if User.objects.filter(email__iexact=email).exists() or EmailAddress.objects.filter(email__iexact=email).exists():
        raise RegistrationError(
            _("An account with the e-mail address %(email)s already exists; use another address.") % {"email": email}
        )
    first, _sep, last = full_name.strip().partition(" ")
    user = User(username=email, email=email, first_name=first[:150], last_name=last[:150])
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    user.groups.add(roles_ensure()[FOCAL_PERSON])
    focal = FocalPerson.objects.create(user=user, university=university, phone=phone.strip())
    audit_record(
        actor=actor,
        action="focal_person.create",
        target=focal,
        summary=f"Focal person {email} created for {university.code}",
        data={"university": university.code},
    )
    _welcome_enqueue_on_commit(user_id=user.pk)
    return focal


@transaction.atomic
def focal_person_update(*, focal_person: FocalPerson, university: University, phone: str, actor) -> FocalPerson:
    """Change a focal person's university or phone (HEC staff, in the admin)."""
    # Read what is stored (an admin form has already changed the caller's object).
    stored = FocalPerson.objects.select_for_update().select_related("university", "user").get(pk=focal_person.pk)
    before = {"university": stored.university.code, "phone": stored.phone}
    stored.university = university
    stored.phone = phone.strip()
    stored.save(update_fields=["university", "phone"])
    audit_record(
        actor=actor,
        action="focal_person.update",
        target=stored,
        summary=f"Focal person {stored.user.email} now {university.code}",
        data={"before": before, "after": {"university": university.code, "phone": stored.phone}},
    )
    focal_person.university, focal_person.phone = stored.university, stored.phone
    return stored


@transaction.atomic
def focal_person_invite(*, focal_person: FocalPerson, actor) -> None:
    """Send the set-your-password e-mail again (a new link; earlier unused ones stay valid until expiry)."""
    if not focal_person.user.is_active:
        raise RegistrationError(
            _("The account of %(email)s is deactivated; activate it before sending the e-mail.")
            % {"email": focal_person.user.email}
        )
    audit_record(
        actor=actor,
        action="focal_person.invite",
        target=focal_person,
        summary=f"Set-password e-mail sent to {focal_person.user.email}",
    )
    _welcome_enqueue_on_commit(user_id=focal_person.user_id)


@transaction.atomic
def focal_password_set(*, user, token: str, password: str) -> None:
    """Set the password through a welcome link; the link stops working and the e-mail is verified.

    The token is checked again under a row lock, so two submissions of one link cannot both pass.
    """
    locked = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not welcome_token_generator.check_token(locked, token):
        raise RegistrationError(
            _("This link has already been used or has expired. Ask HEC to send you a new one, or reset your password.")
        )
    locked.set_password(password)
    locked.save(update_fields=["password"])
    address = EmailAddress.objects.filter(user=locked, email__iexact=locked.email).first()
    if address is None:
        EmailAddress.objects.create(user=locked, email=locked.email, verified=True, primary=True)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    audit_record(
        actor=locked, action="focal_person.password_set", target=locked, summary="Password set by welcome link"
    )
    user.password = locked.password
