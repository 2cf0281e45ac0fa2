"""Rupee amounts in words, as Pakistani banks print them on challans.

A challan carries the amount twice, in figures and in words, so that a teller can catch a
mistyped figure. Banks here count in the South Asian system (thousand, lakh = 1,00,000,
crore = 1,00,00,000) and print e.g. "Rupees One Lakh Twenty Thousand Five Hundred Only".
Amounts of a hundred crore and more repeat the system ("One Hundred Crore", "One Lakh Crore").

The words are always English: the challan is an English bank document in both languages of the
portal. Only the refusal messages are marked for translation.
"""

from core.i18n import tr as _

# fmt: off
_ONES = ("Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
         "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen")
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")
# fmt: on
_CRORE = 10_000_000
_SCALES = ((100_000, "Lakh"), (1_000, "Thousand"), (100, "Hundred"))


def _below_hundred(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    tens, ones = divmod(n, 10)
    return [_TENS[tens]] + ([_ONES[ones]] if ones else [])


def _words(n: int) -> list[str]:
    """Words for 1 <= n, without "Rupees"/"Only"."""
    words: list[str] = []
    crores, n = divmod(n, _CRORE)
    if crores:
        words += _words(crores) + ["Crore"]
    for size, name in _SCALES:
        count, n = divmod(n, size)
        if count:
            words += _below_hundred(count) + [name]
    if n:
        words += _below_hundred(n)
    return words


def rupees_in_words(amount: int) -> str:
    """``120500`` → ``"Rupees One Lakh Twenty Thousand Five Hundred Only"``; ``0`` → ``"Rupees Zero Only"``.

    Raises ValueError for anything but a whole number of rupees that is zero or more
    (``True``, ``8000.0`` and ``Decimal(8000)`` are refused: amounts are ints everywhere).
    """
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ValueError(
            _("An amount in words needs a whole number of rupees, not %(kind)s.") % {"kind": type(amount).__name__}
        )
    if amount < 0:
        raise ValueError(_("An amount in words cannot be negative (%(amount)d).") % {"amount": amount})
    body = _words(amount) if amount else ["Zero"]
    return " ".join(["Rupees", *body, "Only"])
