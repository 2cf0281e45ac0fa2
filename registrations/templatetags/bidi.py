"""Left-to-right tokens (masked CNICs, challan numbers, e-mail addresses, links) on Urdu pages.

Inside right-to-left text the bidirectional algorithm reorders the dashes and stars of
``*****-*****67-1`` or the dots of an e-mail address, so the reader sees a different number.
``<bdi dir="ltr">`` isolates the token and keeps it in its own order, in either language.
"""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def ltr(value) -> str:
    """``{{ challan.number|ltr }}``: the value, isolated left to right; nothing for an empty value."""
    if value is None or value == "":
        return ""
    return format_html('<bdi dir="ltr">{}</bdi>', value)


# Typed left to right on Urdu pages too (a CNIC, a phone number, an address, a code, a day).
LTR_INPUT_TYPES = frozenset({"email", "tel", "number", "date", "datetime-local", "password", "url"})
LTR_FIELD_NAMES = frozenset({"cnic", "phone", "receipt", "iban", "code", "login", "email", "account", "number"})


@register.filter
def ltr_fields(form):
    """``{% with form=form|ltr_fields %}``: the form, its number and address inputs marked ``dir="ltr"``."""
    for name, field in getattr(form, "fields", {}).items():
        widget = field.widget
        if getattr(widget, "input_type", None) in LTR_INPUT_TYPES or name in LTR_FIELD_NAMES:
            widget.attrs.setdefault("dir", "ltr")
    return form
