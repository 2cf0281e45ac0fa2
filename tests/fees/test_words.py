"""Amounts in words as Pakistani banks print them on challans (lakh / crore system)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fees.words import rupees_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Rupees Zero Only"),
        (1, "Rupees One Only"),
        (9, "Rupees Nine Only"),
        (10, "Rupees Ten Only"),
        (11, "Rupees Eleven Only"),
        (15, "Rupees Fifteen Only"),
        (19, "Rupees Nineteen Only"),
        (20, "Rupees Twenty Only"),
        (21, "Rupees Twenty One Only"),
        (40, "Rupees Forty Only"),
        (99, "Rupees Ninety Nine Only"),
        (100, "Rupees One Hundred Only"),
        (101, "Rupees One Hundred One Only"),
        (110, "Rupees One Hundred Ten Only"),
        (999, "Rupees Nine Hundred Ninety Nine Only"),
        (1_000, "Rupees One Thousand Only"),
        (1_001, "Rupees One Thousand One Only"),
        (4_000, "Rupees Four Thousand Only"),
        (8_000, "Rupees Eight Thousand Only"),
        (12_000, "Rupees Twelve Thousand Only"),
        (16_000, "Rupees Sixteen Thousand Only"),
        (24_000, "Rupees Twenty Four Thousand Only"),
        (99_999, "Rupees Ninety Nine Thousand Nine Hundred Ninety Nine Only"),
        (1_00_000, "Rupees One Lakh Only"),
        (1_00_001, "Rupees One Lakh One Only"),
        (1_20_500, "Rupees One Lakh Twenty Thousand Five Hundred Only"),
        (5_20_000, "Rupees Five Lakh Twenty Thousand Only"),  # 650 licenses x 8,000
        (10_00_000, "Rupees Ten Lakh Only"),
        (28_80_000, "Rupees Twenty Eight Lakh Eighty Thousand Only"),  # 360 x 8,000
        (99_99_999, "Rupees Ninety Nine Lakh Ninety Nine Thousand Nine Hundred Ninety Nine Only"),
        (1_00_00_000, "Rupees One Crore Only"),
        (2_88_00_000, "Rupees Two Crore Eighty Eight Lakh Only"),  # 3,600 private licenses x 8,000
        (9_60_00_000, "Rupees Nine Crore Sixty Lakh Only"),  # 24,000 x 4,000
        (19_20_00_000, "Rupees Nineteen Crore Twenty Lakh Only"),  # 24,000 x 8,000 = 192,000,000
        (9_99_99_999, "Rupees Nine Crore Ninety Nine Lakh Ninety Nine Thousand Nine Hundred Ninety Nine Only"),
        (10_00_00_000, "Rupees Ten Crore Only"),
        (12_34_56_789, "Rupees Twelve Crore Thirty Four Lakh Fifty Six Thousand Seven Hundred Eighty Nine Only"),
        (99_00_00_000, "Rupees Ninety Nine Crore Only"),
        (1_00_00_00_000, "Rupees One Hundred Crore Only"),
        (10**12, "Rupees One Lakh Crore Only"),
        (10**11, "Rupees Ten Thousand Crore Only"),
        (10**14, "Rupees One Crore Crore Only"),
        (1_00_00_001, "Rupees One Crore One Only"),
        (1_01_01_101, "Rupees One Crore One Lakh One Thousand One Hundred One Only"),
    ],
)
def test_exact_words(amount: int, words: str) -> None:
    assert rupees_in_words(amount) == words


@pytest.mark.parametrize(
    "bad",
    [-1, -8000, True, False, 8000.0, 1.5, Decimal("8000"), "8000", None, b"8000", [8000]],
)
def test_refuses_negative_and_non_int(bad: object) -> None:
    with pytest.raises(ValueError, match="amount in words"):
        rupees_in_words(bad)  # type: ignore[arg-type]


def test_refusal_messages() -> None:
    with pytest.raises(ValueError) as refused:
        rupees_in_words(-5)
    assert refused.value.args[0] == "An amount in words cannot be negative (-5)."
    with pytest.raises(ValueError) as refused:
        rupees_in_words(True)
    assert refused.value.args[0] == "An amount in words needs a whole number of rupees, not bool."


_VALUES = {
    "Zero": 0, "One": 1, "Two": 2, "Three": 3, "Four": 4, "Five": 5, "Six": 6, "Seven": 7, "Eight": 8,
    "Nine": 9, "Ten": 10, "Eleven": 11, "Twelve": 12, "Thirteen": 13, "Fourteen": 14, "Fifteen": 15,
    "Sixteen": 16, "Seventeen": 17, "Eighteen": 18, "Nineteen": 19, "Twenty": 20, "Thirty": 30,
    "Forty": 40, "Fifty": 50, "Sixty": 60, "Seventy": 70, "Eighty": 80, "Ninety": 90,
}  # fmt: skip
_SCALES = {"Hundred": 100, "Thousand": 1_000, "Lakh": 1_00_000, "Crore": 1_00_00_000}


def _read_back(words: str) -> int:
    """An independent reader of the printed words, as a teller would add them up."""
    parts = words.split()
    assert parts[0] == "Rupees" and parts[-1] == "Only"
    return _value(parts[1:-1])


def _value(parts: list[str]) -> int:
    if "Crore" in parts:  # everything before the last "Crore" counts crores
        last = len(parts) - 1 - parts[::-1].index("Crore")
        return _value(parts[:last]) * _SCALES["Crore"] + _value(parts[last + 1 :])
    total = group = 0
    for word in parts:
        if word in _VALUES:
            group += _VALUES[word]
        else:
            total, group = total + group * _SCALES[word], 0
    return total + group


@given(st.integers(min_value=0, max_value=10**18))
def test_words_read_back_to_the_amount(amount: int) -> None:
    words = rupees_in_words(amount)
    assert _read_back(words) == amount
    assert "  " not in words
    assert words.count("Only") == 1


def test_no_and_no_hyphens_no_commas() -> None:
    words = rupees_in_words(98_76_54_321)
    assert " and " not in words and "-" not in words and "," not in words
