"""How django-allauth fits the portal: only alumni sign up themselves; e-mails are lower case.

Focal persons never sign up: HEC staff create their accounts (registrations.focal_accounts).
Students and faculty get an account when they first prove their address with a sign-in code
(registrations.accounts). Everyone lands on the home page after signing in, which sends each
person to their own page.
"""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.mail import EmailMessage
from django.http import HttpRequest
from django.urls import reverse

from core.mail import bilingual_email

from .accounts import address_taken_elsewhere
from .roles import LEARNER


class PortalAccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        return super().clean_email(email).strip().lower()

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("home")

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        """A self sign-up is an alumnus-to-be: a learner, never staff or a focal person."""
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user.groups.add(Group.objects.get_or_create(name=LEARNER)[0])
        return user

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The key of allauth's failed sign-in limit: the client *and* the account, so that five
        wrong passwords from one place cannot lock the account's owner out everywhere (allauth
        keys it by the account alone)."""
        login = credentials.get("email", credentials.get("username", "")).lower()
        return f"{self.get_client_ip(request)}:{login}"

    def confirm_email(self, request: HttpRequest, email_address) -> bool:
        """An address added to an account is refused, once its code is typed, when another account
        holds it, verified or not (allauth itself refuses only a verified duplicate). Until then
        the person adding it is told what allauth tells anyone, so nothing reveals the other
        account."""
        if email_address.user_id and address_taken_elsewhere(email=email_address.email, user=email_address.user):
            self.add_message(
                request,
                messages.ERROR,
                "account/messages/email_confirmation_failed.txt",
                {"email": email_address.email},
            )
            return False
        return super().confirm_email(request, email_address)

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """allauth's mails (sign-in code, address confirmation, password reset) in English and Urdu,
        like the portal's own."""
        message = bilingual_email(
            subject_template=f"{template_prefix}_subject.txt",
            text_template=f"{template_prefix}_message.txt",
            context=context,
            to=[email] if isinstance(email, str) else list(email),
            from_email=self.get_from_email(),
            headers=headers,
            request=allauth_context.request,
        )
        message.subject = self.format_email_subject(message.subject)
        return message
