"""Swedish identity numbers and HSA-ids: the century and plus rules, samordningsnummer, reserve numbers,
and a clear error naming the rule for every kind of bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from brygga.core.errors import DomainError
from brygga.organisations.hsa import hsa_id_problem
from brygga.people.identifiers import IdKind, parse_identity_number

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("raw", "canonical", "birth"),
    [
        ("19121212-1212", "191212121212", dt.date(1912, 12, 12)),
        ("191212121212", "191212121212", dt.date(1912, 12, 12)),
        ("121212+1212", "191212121212", dt.date(1912, 12, 12)),  # plus: 100 years or older
        ("121212-1212", "201212121212", dt.date(2012, 12, 12)),  # ten digits, hyphen: the latest century
        (" 20121212-1212 ", "201212121212", dt.date(2012, 12, 12)),
    ],
)
def test_personnummer_century_and_plus_rules(raw: str, canonical: str, birth: dt.date) -> None:
    number = parse_identity_number(raw, today=TODAY)
    assert number.value == canonical
    assert number.kind is IdKind.PERSONNUMMER
    assert number.birth_date == birth
    assert number.formatted() == f"{canonical[:8]}-{canonical[8:]}"


def test_samordningsnummer_is_day_plus_sixty() -> None:
    # 1985-07-09 as a samordningsnummer has day 69.
    number = parse_identity_number("198507699802", today=TODAY)
    assert number.kind is IdKind.SAMORDNINGSNUMMER
    assert number.birth_date == dt.date(1985, 7, 9)


def test_reserve_number_is_recognised_and_never_confused_with_a_personnummer() -> None:
    number = parse_identity_number("19500101-R123", today=TODAY)
    assert number.kind is IdKind.RESERVE
    assert number.value == "19500101R123"
    assert number.birth_date == dt.date(1950, 1, 1)


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("", "ID-SAKNAS"),
        ("1912121212", "PNR-KONTROLLSIFFRA"),  # last digit wrong (should be 2)
        ("19121212-1213", "PNR-KONTROLLSIFFRA"),
        ("12345", "PNR-FORMAT"),
        ("19121212+1212", "PNR-FORMAT"),  # plus only with ten digits
        ("19121232-1218", "PNR-DATUM"),  # 32 December does not exist (checksum valid)
        ("20991212-1218", "PNR-DATUM"),  # in the future
    ],
)
def test_bad_identity_numbers_name_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(DomainError) as excinfo:
        parse_identity_number(raw, field="identifier", today=TODAY)
    problem = excinfo.value.problems[0]
    assert problem.field == "identifier"
    assert problem.rule == rule
    assert problem.message  # a Swedish sentence for the user


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("SE2321000131-E000000000001", True),
        ("se2321000131-s10med", True),  # normalised to upper case
        ("SE2321000132-E0001", False),  # organisation number fails the Luhn check
        ("2321000131-E0001", False),  # no country prefix
        ("SE2321000131E0001", False),  # no hyphen
        ("SE2321000131-" + "A" * 19, False),  # too long
        ("", False),
    ],
)
def test_hsa_id_validation(value: str, ok: bool) -> None:
    assert (hsa_id_problem(value) is None) is ok
