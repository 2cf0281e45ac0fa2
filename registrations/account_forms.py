"""allauth's sign-up form, answering in the same time whether or not the address has an account."""

from allauth.account.forms import SignupForm
from django.contrib.auth.hashers import make_password


class PortalSignupForm(SignupForm):
    def try_save(self, request):
        if self.account_already_exists:
            # A new account costs a password hash; a taken address would answer ten times faster
            # and tell whoever times it that the address has an account. Pay the same hash.
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)
