"""Days typed by people: one convention everywhere, a sensible range, a clear refusal.

Pakistan writes the day first: 02/03/2020 is 2 March 2020, never 3 February. ISO (2020-03-02) is
always accepted. Years have four digits; any other shape is refused with the expected format
shown, and so is a day outside 2000–2100 (a typo such as 0202, or 0001 sent on purpose).
"""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2100, 12, 31)
# Four-digit years only: "02/03/20" could be 1920 or 2020, and a two-digit order is guesswork.
FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")


def day_expected() -> str:
    return _("Write the date as YYYY-MM-DD or DD/MM/YYYY (day first), e.g. 2021-09-15 or 15/09/2021.")


def day_parse(text: str, *, not_after_today: bool = False) -> datetime.date:
    """The day ``text`` names, or ValueError with a sentence saying what is wrong."""
    text = (text or "").strip()
    for pattern in FORMATS:
        try:
            day = datetime.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar day
        except ValueError:
            continue
        if len(text.replace(".", "-").replace("/", "-").split("-")[2 if pattern != "%Y-%m-%d" else 0]) != 4:
            break  # strptime reads "5" as the year 0005: only four-digit years are years here
        return day_check(day, not_after_today=not_after_today)
    raise ValueError(_("“%(value)s” is not a date. %(expected)s") % {"value": text, "expected": day_expected()})


def day_check(day: datetime.date, *, not_after_today: bool = False) -> datetime.date:
    if not EARLIEST <= day <= LATEST:
        raise ValueError(
            _("%(day)s is outside the years the portal works with (2000 to 2100). Check the year.")
            % {"day": day.isoformat()}
        )
    if not_after_today and day > timezone.localdate():
        raise ValueError(_("%(day)s is in the future.") % {"day": day.isoformat()})
    return day


class DayInput(forms.DateInput):
    """A browser date picker where there is one; the value goes out as YYYY-MM-DD."""

    input_type = "date"

    def __init__(self, **kwargs):
        kwargs.setdefault("attrs", {}).setdefault("dir", "ltr")
        super().__init__(format="%Y-%m-%d", **kwargs)


class DayField(forms.DateField):
    """A day typed by a person: the portal's convention and range; ``not_after_today`` where a
    future day makes no sense (a payment, a graduation, a decision)."""

    widget = DayInput
    default_error_messages = {"invalid": gettext_lazy("This is not a date.")}

    def __init__(self, *, not_after_today: bool = False, **kwargs):
        self.not_after_today = not_after_today
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            value = value.date()
        try:
            if isinstance(value, datetime.date):
                return day_check(value, not_after_today=self.not_after_today)
            return day_parse(str(value), not_after_today=self.not_after_today)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None
