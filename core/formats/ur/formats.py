"""Urdu (Pakistan) formats: Django has Urdu translations but no Urdu formats module.

Without this file Urdu pages would fall back to the global settings and print 24000 instead
of 24,000. Dates are written day, month name, year, as in Pakistan (9 ستمبر 2021); the month
names come from Django's Urdu catalogue. Digits stay 0-9, as on CNICs, challans and receipts.
"""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "j F Y، g:i A"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y g:i A"
FIRST_DAY_OF_WEEK = 1  # Monday

# The forms ask for YYYY-MM-DD; day-first forms are what people in Pakistan also type.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # '2021-09-25'
    "%d/%m/%Y",  # '25/09/2021'
    "%d-%m-%Y",  # '25-09-2021'
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
