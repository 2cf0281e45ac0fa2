"""How django-allauth fits the portal: only alumni sign up themselves; e-mails are lower case.

Focal persons never sign up: HEC staff create their accounts (registrations.focal_accounts).
Students and faculty get an account when they are nominated and sign in with an e-mailed code.
Everyone lands on the home page after signing in, which sends each person to their own page.
"""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class PortalAccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        return super().clean_email(email).strip().lower()

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        from django.urls import reverse

        return reverse("home")

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        """A self sign-up is an alumnus-to-be: a learner, never staff or a focal person."""
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            from django.contrib.auth.models import Group

            from .roles import LEARNER

            user.groups.add(Group.objects.get_or_create(name=LEARNER)[0])
        return user
