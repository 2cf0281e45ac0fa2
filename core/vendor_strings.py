"""Strings of django-allauth and Django that appear on portal pages, marked for our Urdu catalogue.

allauth ships no Urdu translation and Django's is incomplete, so a learner reading the portal in
Urdu would otherwise meet English field labels, sign-in errors and password rules on the sign-in,
sign-up and login-code pages. ``makemessages`` finds these strings here and ``locale/ur`` translates
them; the catalogue in LOCALE_PATHS comes first, so allauth's and Django's own ``gettext`` calls
get the Urdu text. Nothing imports this module: it exists only to be read by ``makemessages``.
Each string must stay exactly as the library writes it.
"""

from django.utils.translation import gettext_noop as _
from django.utils.translation import ngettext_lazy

ALLAUTH_FORM_LABELS = [
    _("Email"),
    _("Email address"),
    _("Password"),
    _("Password (again)"),
    _("Remember Me"),
    _("Current Password"),
    _("New Password"),
    _("New Password (again)"),
    _("Code"),
    _("You must type the same password each time."),
]

ALLAUTH_ERRORS = [
    _("This account is currently inactive."),
    _("The email address and/or password you specified are not correct."),
    _("A user is already registered with this email address."),
    _("Please type your current password."),
    _("Incorrect code."),
    _("Incorrect password."),
    _("Invalid or expired key."),
    _("Invalid login."),
    _("The password reset token was invalid."),
    _("Too many failed login attempts. Try again later."),
    _("The email address is not assigned to any user account."),
    _("Your primary email address must be verified."),
    _("Be patient, you are sending too many requests."),
]

# allauth's own e-mail addresses page (account/email.html), which the portal does not restyle.
ALLAUTH_EMAIL_PAGE = [
    _("Email Addresses"),
    _("The following email addresses are associated with your account:"),
    _("Verified"),
    _("Unverified"),
    _("Primary"),
    _("Make Primary"),
    _("Re-send Verification"),
    _("Remove"),
    _("Add Email Address"),
    _("Add Email"),
    _("Do you really want to remove the selected email address?"),
]

# allauth's templates/account/messages/*.txt, shown after signing in, out, confirming and so on.
ALLAUTH_MESSAGES = [
    _("Successfully signed in as %(name)s."),
    _("You have signed out."),
    _("You have confirmed %(email)s."),
    _("Confirmation email sent to %(email)s."),
    _("A sign-in code has been sent to %(recipient)s."),
    _("Password successfully changed."),
    _("Password successfully set."),
    _("Unable to confirm %(email)s because it is already confirmed by a different account."),
]

# allauth's e-mails (templates/account/email/*.txt): the sign-in code learners receive, the address
# confirmation alumni receive, the password reset. Sent in the language of the page that asked.
ALLAUTH_EMAILS = [
    _("Hello from %(site_name)s!"),
    _("Thank you for using %(site_name)s!\n%(site_domain)s"),
    _("Sign-In Code"),
    _("Your sign-in code is listed below. Please enter it in your open browser window."),
    _("This mail can be safely ignored if you did not initiate this action."),
    _("Please Confirm Your Email Address"),
    _(
        "You're receiving this email because user %(user_display)s has given your email address to register an "
        "account on %(site_domain)s."
    ),
    _("Your email verification code is listed below. Please enter it in your open browser window."),
    _("To confirm this is correct, go to %(activate_url)s"),
    _("Password Reset Email"),
    _(
        "You're receiving this email because you or someone else has requested a password reset for your user "
        "account.\nIt can be safely ignored if you did not request a password reset. Click the link below to reset "
        "your password."
    ),
    _("In case you forgot, your username is %(username)s."),
    _(
        "You are receiving this email because you, or someone else, tried to access an account with email "
        "%(email)s. However, we do not have any record of such an account in our database."
    ),
    _("If it was you, you can sign up for an account using the link below."),
]

# Django's password validators: the rules listed under the sign-up and new-password fields.
DJANGO_PASSWORD_RULES = [
    _("Your password can’t be too similar to your other personal information."),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
    ),
    _("Your password can’t be a commonly used password."),
    _("Your password can’t be entirely numeric."),
    _("The password is too similar to the %(verbose_name)s."),
    ngettext_lazy(
        "This password is too short. It must contain at least %(min_length)d character.",
        "This password is too short. It must contain at least %(min_length)d characters.",
    ),
    _("This password is too common."),
    _("This password is entirely numeric."),
    _("This field is required."),
    _("Enter a valid email address."),
]

# Django's dates (TIME_FORMAT "g:i A" in core/formats/ur): its Urdu catalogue calls every p.m. hour
# "evening"; Urdu writes قبل دوپہر / بعد دوپہر (before / after noon).
DJANGO_DATES = [
    _("AM"),
    _("PM"),
]
