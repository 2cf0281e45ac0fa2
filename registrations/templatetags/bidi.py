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
