"""1Bill's wire format: what the bank network sends the biller API and what it gets back.

Pure functions, no database: amounts in paisa as 1LINK writes them, dates and times, and the
checks that turn a request body into a payment the fees services can post (or say "04").

- Inquiry amounts are a sign and 13 digits, the last two paisa: Rs 8,000 is ``+0000000800000``.
- Payment amounts are 12 digits, unsigned (``000000800000``); the signed 14-character form of
  the inquiry is accepted too.
- Dates ``YYYYMMDD``, times ``HHMMSS`` (Pakistan time), billing month ``YYMM``.
"""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone

DONE = "00"
NOT_FOUND = "01"
BLOCKED = "02"
DUPLICATE = "03"
INVALID = "04"

UNPAID, PAID, BLOCKED_STATUS = "U", "P", "B"

CONSUMER_NUMBER = re.compile(r"^[0-9]{18}$")
TRAN_AUTH_ID = re.compile(r"^[0-9]{6}$")
BANK_MNEMONIC = re.compile(r"^[A-Za-z0-9]{1,20}$")
UNSIGNED_AMOUNT = re.compile(r"^[0-9]{12}$")
SIGNED_AMOUNT = re.compile(r"^\+[0-9]{13}$")


class Invalid(Exception):
    """A field of the request is missing or malformed (answered with "04")."""


def amount_signed(rupees: int) -> str:
    """``8000`` → ``"+0000000800000"``."""
    return f"+{rupees * 100:013d}"


def amount_unsigned(rupees: int) -> str:
    """``8000`` → ``"000000800000"``."""
    return f"{rupees * 100:012d}"


def amount_paisa(value: object) -> int:
    """A payment's ``transaction_amount`` in paisa, from either of 1Bill's two forms."""
    text = value if isinstance(value, str) else ""
    if UNSIGNED_AMOUNT.match(text):
        return int(text)
    if SIGNED_AMOUNT.match(text):
        return int(text[1:])
    raise Invalid("transaction_amount")


def day_format(day: datetime.date | None) -> str:
    return day.strftime("%Y%m%d") if day else ""


def month_format(day: datetime.date) -> str:
    return day.strftime("%y%m")


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise Invalid(name)
    return value.strip()


def consumer_number_read(body: dict) -> str:
    number = _text(body, "consumer_number")
    if not CONSUMER_NUMBER.match(number):
        raise Invalid("consumer_number")
    return number


@dataclass(frozen=True)
class IncomingPayment:
    """A payment as a bank reported it, checked for shape (not yet against any bill)."""

    consumer_number: str
    amount_paisa: int
    paid_at: datetime.datetime
    tran_auth_id: str
    bank: str


def payment_read(body: object) -> IncomingPayment:
    """The BillPayment request body as a payment; ``Invalid`` names the first field that is wrong."""
    if not isinstance(body, dict):
        raise Invalid("body")
    number = consumer_number_read(body)
    tran_auth_id = _text(body, "tran_auth_id")
    if not TRAN_AUTH_ID.match(tran_auth_id):
        raise Invalid("tran_auth_id")
    amount = amount_paisa(body.get("transaction_amount"))
    if amount <= 0:
        raise Invalid("transaction_amount")
    bank = _text(body, "bank_mnemonic")
    if not BANK_MNEMONIC.match(bank):
        raise Invalid("bank_mnemonic")
    try:
        when = datetime.datetime.strptime(_text(body, "tran_date") + _text(body, "tran_time"), "%Y%m%d%H%M%S")
    except ValueError:
        raise Invalid("tran_date") from None
    return IncomingPayment(
        consumer_number=number,
        amount_paisa=amount,
        paid_at=timezone.make_aware(when),
        tran_auth_id=tran_auth_id,
        bank=bank.upper(),
    )
