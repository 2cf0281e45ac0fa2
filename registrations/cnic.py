"""CNIC and B-form numbers: one normal form in the database, one clear message for people.

A CNIC (or a child's B-form) number is 13 digits, usually written ``12345-1234567-1``. People type
it with or without the dashes, paste it with spaces around it, or type it on a phone keyboard set
to Urdu, which gives Eastern Arabic digits (۱۲۳...). We store the 13 digits only, because the
"one license per person per phase" rule compares these numbers, and refuse anything else with a
sentence that says what shape is expected and what was wrong.

We deliberately do not judge the province digit (first) or the gender digit (last): public
validators disagree about them and a wrong refusal would lock a real person out.
"""

import unicodedata

from core.i18n import tr as _

CNIC_DIGITS = 13
_ASCII_DIGITS = frozenset("0123456789")
_DASH_POSITIONS = (5, 13)  # in "12345-1234567-1"


def _expected() -> str:
    return _("Enter the 13-digit CNIC or B-form number, for example 12345-1234567-1 or 1234512345671.")


def _refuse(problem: str) -> ValueError:
    return ValueError(f"{problem} {_expected()}")


def cnic_normalise(value: str) -> str:
    """Return the 13 digits of a CNIC / B-form number, or raise ValueError with a message for people.

    Accepted: ``12345-1234567-1`` and ``1234512345671``, with surrounding spaces.
    """
    if not isinstance(value, str):
        raise _refuse(_("The CNIC or B-form number is missing."))
    text = value.strip()
    if not text:
        raise _refuse(_("The CNIC or B-form number is missing."))
    if any(ch.isdigit() and ch not in _ASCII_DIGITS for ch in text):
        raise _refuse(_("Please type the number with English digits 0–9, not Urdu or Arabic digits."))
    if any(ch.isalpha() for ch in text):
        raise _refuse(_("A CNIC or B-form number has no letters."))
    if any(ch != "-" and unicodedata.category(ch) == "Pd" for ch in text):
        raise _refuse(_("Use the ordinary dash (-) from the keyboard, not a long dash."))
    if any(ch not in _ASCII_DIGITS and ch != "-" for ch in text):
        raise _refuse(_("Use only the digits 0–9 and dashes (-), with no spaces or other signs inside."))
    digits = text.replace("-", "")
    if len(digits) < CNIC_DIGITS:
        raise _refuse(_("This number is too short: it has %(count)d of the 13 digits.") % {"count": len(digits)})
    if len(digits) > CNIC_DIGITS:
        raise _refuse(_("This number is too long: it has %(count)d digits instead of 13.") % {"count": len(digits)})
    if "-" in text and tuple(i for i, ch in enumerate(text) if ch == "-") != _DASH_POSITIONS:
        raise _refuse(_("The dashes are in the wrong places: they go after the 5th and the 12th digit."))
    if len(set(digits)) == 1:
        raise _refuse(_("No CNIC or B-form number is one digit 13 times; type the number on the card."))
    return digits


def cnic_format(value: str) -> str:
    """``1234512345671`` → ``12345-1234567-1`` (ValueError if it is not a CNIC)."""
    digits = cnic_normalise(value)
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


def cnic_mask(value: str) -> str:
    """``1234512345671`` → ``*****-*****67-1``: only the last 3 digits show, in the usual layout."""
    digits = cnic_normalise(value)
    return f"*****-*****{digits[10:12]}-{digits[12]}"
