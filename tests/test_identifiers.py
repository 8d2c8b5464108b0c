"""Swedish identity numbers and HSA-ids: the century and plus rules, samordningsnummer, reserve numbers,
and a clear error naming the rule for every kind of bad input."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

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


# --- Identifiers as Skatteverket issues them (issue 13 item 7) ------------------------------------------------

TEST_NUMBERS = Path(__file__).parent / "data" / "skatteverket_testnummer.csv"


def _test_numbers() -> list[tuple[str, str, str]]:
    lines = [
        line for line in TEST_NUMBERS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    ]
    return [(row["number"], row["kind"], row["birth_date"]) for row in csv.DictReader(lines)]


@pytest.mark.parametrize(("number", "kind", "birth"), _test_numbers())
def test_skatteverkets_test_numbers_are_valid_with_kind_and_birth_date(
    number: str, kind: str, birth: str
) -> None:
    parsed = parse_identity_number(number, today=TODAY)
    assert parsed.value == number and parsed.kind.value == kind
    assert parsed.birth_date == (dt.date.fromisoformat(birth) if birth else None)
    # the ten-digit form with the hyphen gives the same number (within a hundred years of TODAY)
    if int(number[:4]) > TODAY.year - 100:
        assert parse_identity_number(f"{number[2:8]}-{number[8:]}", today=TODAY).value == number


def test_the_test_number_file_holds_only_the_test_range() -> None:
    numbers = _test_numbers()
    assert len(numbers) >= 30
    assert all(980 <= int(n[8:11]) <= 999 for n, _k, _b in numbers)
    assert {k for _n, k, _b in numbers} == {"personnummer", "samordningsnummer"}
    assert any(not b for _n, k, b in numbers if k == "samordningsnummer")  # incomplete dates included


@pytest.mark.parametrize("raw", ["191500722390", "191711602399", "150072-2390"])
def test_samordningsnummer_with_an_incomplete_date_is_valid(raw: str) -> None:
    """Month 00 (191500722390) or day 00, written 60 (191711602399): Skatteverket issues these when the date
    of birth is not fully known. The birth date is then unknown, not refused."""
    parsed = parse_identity_number(raw, today=TODAY)
    assert parsed.kind is IdKind.SAMORDNINGSNUMMER and parsed.birth_date is None


def test_birth_number_000_is_refused_for_what_it_is() -> None:
    """1912-12-12 exists; the number is refused because birth number 000 is never issued."""
    with pytest.raises(DomainError) as excinfo:
        parse_identity_number("19121212-0008", today=TODAY)
    problem = excinfo.value.problems[0]
    assert problem.rule == "PNR-FODELSENUMMER" and "000" in problem.message
    assert "finns inte" not in problem.message


@pytest.mark.parametrize(("century", "yymmdd"), [("19", "151372"), ("19", "150092")])
def test_impossible_parts_of_an_incomplete_date_are_still_refused(century: str, yymmdd: str) -> None:
    """Month 13 with an unknown day, or day 32 (92) with an unknown month: no such date part exists."""
    from brygga.core.identifiers import luhn_check_digit

    number = f"{century}{yymmdd}990{luhn_check_digit(yymmdd + '990')}"
    with pytest.raises(DomainError) as excinfo:
        parse_identity_number(number, today=TODAY)
    assert excinfo.value.problems[0].rule == "PNR-DATUM"
