"""Free text people type (names, degrees, universities, phones): what it may not hold.

Control characters (tabs and line breaks are only spaces) and the invisible characters that
reorder or hide text are refused: a name with a right-to-left override (U+202E) in it reverses
everything after it wherever it is shown (messages, e-mails, lists), and a name of zero-width
spaces looks empty while it is not. The joiners Urdu script needs inside words (ZWNJ, ZWJ) are
allowed.
"""

import unicodedata

from django.utils.translation import gettext as _

# Bidi embeddings, overrides and isolates, the direction marks, the Arabic letter mark, zero-width
# space, word joiner and BOM: none belongs in a name.
_HIDDEN = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u2060\ufeff")


def text_problems(value: str, *, label: str) -> list[str]:
    """Why ``value`` cannot be stored as typed, in words that name the field (empty: it can)."""
    # Tabs and line breaks are spaces to the portal (a pasted cell); other control characters are not text.
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        return [_("%(label)s contains a control character; type it again without pasting.") % {"label": label}]
    if any(ch in _HIDDEN for ch in value):
        return [
            _(
                "%(label)s contains an invisible character that changes how text is shown (a direction mark or "
                "a zero-width space); type it again without pasting."
            )
            % {"label": label}
        ]
    return []
