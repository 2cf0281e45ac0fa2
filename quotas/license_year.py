"""The license year: from activation to the day before the same date a year later.

A calendar year, not 365 days: activation on 1 March 2023 runs to the end of 29 February 2024.
A license activated on 29 February runs to the end of 28 February (its "same date" a year later
is 1 March). The phase says how many years a license lasts (``Phase.license_years``, 1 by SOP).
"""

import datetime as dt


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none: the year ends with 28 February
        return dt.date(day.year + years, 3, 1)


def license_year_end(*, activated_on: dt.date | None, years: int) -> dt.date | None:
    """The first day after the license year (the year is [activated_on, end)); None before activation."""
    return _years_later(activated_on, years) if activated_on else None


def license_last_day(*, activated_on: dt.date | None, years: int) -> dt.date | None:
    """The license's last day, as the invitation and the learner's page name it."""
    end = license_year_end(activated_on=activated_on, years=years)
    return end - dt.timedelta(days=1) if end else None


def latest_activation_ended_by(*, day: dt.date, years: int) -> dt.date:
    """The latest activation date whose license year has ended on ``day`` (its end is on or before
    ``day``): the same date ``years`` earlier, 28 February for a 29 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return dt.date(day.year - years, 2, 28)
