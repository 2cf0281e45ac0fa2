"""allauth's sign-in by code, with the portal's rule of who an account belongs to.

Two of allauth's views are wrapped, each to call one service of ``registrations.accounts``:
asking for a code finds (or, for a nominee, makes) the account the code is for, and typing the
code gives the account to the owner of the address. Everything else is allauth's own.
"""

from allauth.account.views import ConfirmLoginCodeView, RequestLoginCodeView
from django.http import HttpResponse

from .accounts import learner_account_for_sign_in, learner_account_prove


class LearnerRequestLoginCodeView(RequestLoginCodeView):
    def form_valid(self, form) -> HttpResponse:
        email = form.cleaned_data.get("email")
        if email:
            # allauth's own look-up would also enter an account through an address it never
            # proved; the portal's finds the owner, or makes a nominee's account.
            form._user = learner_account_for_sign_in(email=email)
        return super().form_valid(form)


class LearnerConfirmLoginCodeView(ConfirmLoginCodeView):
    def _verify_form_valid(self, form) -> HttpResponse:
        email = self._process.state.get("email")
        if self._process.user is not None and email:
            learner_account_prove(user=self._process.user, email=email)
        return super()._verify_form_valid(form)


request_login_code = LearnerRequestLoginCodeView.as_view()
confirm_login_code = LearnerConfirmLoginCodeView.as_view()
