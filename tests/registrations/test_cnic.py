"""CNIC / B-form numbers: the shapes people really type, and what they are told when it is wrong."""

import pytest

from registrations.cnic import cnic_format, cnic_mask, cnic_normalise

EXPECTED_SHAPE = "12345-1234567-1"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("12345-1234567-1", "1234512345671"),
        ("1234512345671", "1234512345671"),
        ("  35202-1234567-9  ", "3520212345679"),
        ("\t3520212345679\n", "3520212345679"),
        ("\u00a061101-1234567-2\u00a0", "6110112345672"),  # no-break spaces from a copied web page
        ("00000-0000001-0", "0000000000010"),  # province digit is not judged
        ("90000-0000000-0", "9000000000000"),  # a province digit some validators refuse
        ("12345-1234567-0", "1234512345670"),  # gender digit even / zero: not judged
        ("12345-1234567-8", "1234512345678"),
        ("42101-9876543-3", "4210198765433"),
    ],
)
def test_accepted_shapes_are_stored_as_13_digits(typed: str, stored: str) -> None:
    assert cnic_normalise(typed) == stored
    assert cnic_normalise(stored) == stored  # idempotent


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        # too few / too many digits
        ("123451234567", "too short: it has 12 of the 13 digits"),
        ("12345-123456-1", "too short: it has 12 of the 13 digits"),
        ("1", "too short: it has 1 of the 13 digits"),
        ("12345123456712", "too long: it has 14 digits instead of 13"),
        ("12345-12345678-1", "too long: it has 14 digits instead of 13"),
        ("-", "too short: it has 0 of the 13 digits"),
        ("-------------", "too short: it has 0 of the 13 digits"),
        # dashes in the wrong places
        ("1234-51234567-1", "dashes are in the wrong places"),
        ("12345-123456-71", "dashes are in the wrong places"),
        ("12345-12345671", "dashes are in the wrong places"),
        ("123451234567-1", "dashes are in the wrong places"),
        ("-1234512345671", "dashes are in the wrong places"),
        ("1234512345671-", "dashes are in the wrong places"),
        ("12345--1234567-1", "dashes are in the wrong places"),
        ("1-2-3-4-5-1-2-3-4-5-6-7-1", "dashes are in the wrong places"),
        # letters
        ("12345-1234567-X", "has no letters"),
        ("ABCDE-FGHIJKL-M", "has no letters"),
        ("O1234-1234567-1", "has no letters"),  # letter O for zero
        ("CNIC 12345-1234567-1", "has no letters"),
        ("12345-1234567-1 ب", "has no letters"),
        # other characters
        ("12345 1234567 1", "no spaces or other signs"),
        ("12345.1234567.1", "no spaces or other signs"),
        ("12345/1234567/1", "no spaces or other signs"),
        ("+1234512345671", "no spaces or other signs"),
        ("12345_1234567_1", "no spaces or other signs"),
        ("12345-1234567-1\x00", "no spaces or other signs"),
        ("12345\u200b1234567-1", "no spaces or other signs"),  # zero-width space
        # long dashes pasted from a word processor
        ("12345\u20131234567\u20131", "ordinary dash"),  # en dash
        ("12345\u20101234567\u20101", "ordinary dash"),  # unicode hyphen
        ("12345\u20111234567\u20111", "ordinary dash"),  # non-breaking hyphen
        # digits from other scripts
        ("۱۲۳۴۵-۱۲۳۴۵۶۷-۱", "English digits 0–9"),  # Eastern Arabic (Urdu keyboard)
        ("١٢٣٤٥-١٢٣٤٥٦٧-١", "English digits 0–9"),  # Arabic-Indic
        ("12345-123456٧-1", "English digits 0–9"),  # one stray digit is enough
        ("１２３４５-１２３４５６７-１", "English digits 0–9"),  # full-width
        ("१२३४५१२३४५६७१", "English digits 0–9"),  # Devanagari
        # missing
        ("", "missing"),
        ("   ", "missing"),
        ("\n\t", "missing"),
    ],
)
def test_refused_shapes_say_what_is_wrong_and_what_is_expected(typed: str, says: str) -> None:
    with pytest.raises(ValueError, match="CNIC|number|dash|digit|letters") as refused:
        cnic_normalise(typed)
    message = str(refused.value)
    assert says in message
    assert EXPECTED_SHAPE in message
    problem = message.split(" Enter the 13-digit")[0]
    if len(typed.strip()) > 3:
        assert typed.strip() not in problem  # never echoes what was typed


@pytest.mark.parametrize("value", [None, 1234512345671, b"1234512345671", ["1234512345671"]])
def test_not_a_string_is_refused_as_missing(value: object) -> None:
    with pytest.raises(ValueError, match="is missing") as refused:
        cnic_normalise(value)  # type: ignore[arg-type]
    assert EXPECTED_SHAPE in str(refused.value)


@pytest.mark.parametrize(
    ("huge", "says"),
    [
        ("1" * 10_000, "too long: it has 10000 digits instead of 13"),
        ("a" * 10_000, "has no letters"),
        ("1234512345671" + " " * 9_987, None),  # trailing spaces are trimmed: accepted
        (" " * 4_993 + "12345-1234567-1" + " " * 4_992, None),
        ("-" * 10_000, "it has 0 of the 13 digits"),
        ("۱" * 10_000, "English digits"),
    ],
)
def test_ten_thousand_characters(huge: str, says: str | None) -> None:
    assert len(huge) == 10_000
    if says is None:
        assert len(cnic_normalise(huge)) == 13
        return
    with pytest.raises(ValueError) as refused:
        cnic_normalise(huge)
    assert says in str(refused.value)
    assert len(str(refused.value)) < 300


@pytest.mark.parametrize(
    ("value", "formatted", "masked"),
    [
        ("1234512345671", "12345-1234567-1", "*****-*****67-1"),
        ("12345-1234567-1", "12345-1234567-1", "*****-*****67-1"),
        ("3520298765430", "35202-9876543-0", "*****-*****43-0"),
        ("0000000000010", "00000-0000001-0", "*****-*****01-0"),
    ],
)
def test_format_and_mask(value: str, formatted: str, masked: str) -> None:
    assert cnic_format(value) == formatted
    assert cnic_mask(value) == masked
    assert len(masked) == len(formatted) == 15
    assert sum(ch.isdigit() for ch in masked) == 3


@pytest.mark.parametrize("bad", ["", "123", "12345-1234567", None, "12345-1234567-X"])
def test_format_and_mask_refuse_what_is_not_a_cnic(bad: str) -> None:
    with pytest.raises(ValueError):
        cnic_format(bad)
    with pytest.raises(ValueError):
        cnic_mask(bad)


def test_messages_are_sentences_for_people() -> None:
    with pytest.raises(ValueError) as refused:
        cnic_normalise("12345-123")
    assert str(refused.value) == (
        "This number is too short: it has 8 of the 13 digits. "
        "Enter the 13-digit CNIC or B-form number, for example 12345-1234567-1 or 1234512345671."
    )


@pytest.mark.parametrize("same", ["0000000000000", "11111-1111111-1", "7777777777777"])
def test_one_digit_thirteen_times_is_no_cnic(same: str) -> None:
    with pytest.raises(ValueError, match="one digit 13 times"):
        cnic_normalise(same)
