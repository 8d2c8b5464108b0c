"""Finding identity numbers in free text (R-AVV-1: a deviation report says what happened, not who).

A match is a personnummer or samordningsnummer in any usual form (10 or 12 digits, with or without ``-``/``+``
or a space before the last four) whose date part is a possible date, or a reserve number of the regional form.
Without a separator the Luhn check digit must also hold, so an ordinary ten-digit number (a phone number, an
order number) is not taken for one; with a separator a wrong check digit is still refused, since a mistyped
personnummer is still personal data. Names cannot be found this way: the forms say so."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from brygga.core.errors import Problem
from brygga.core.identifiers import luhn_checksum_ok

_ID_RE = re.compile(r"(?<![\d])(?:(?:19|20)(?=\d{6}))?(?P<date>\d{6})(?P<sep>[-+ ]?)(?P<tail>\d{4})(?![\d])")
_RESERVE_RE = re.compile(r"(?<![\d])\d{8}-?[A-Za-z]\d{3}(?![\d])")


def _possible_date(yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if day > 60:  # samordningsnummer: day + 60
        day -= 60
    return 1 <= month <= 12 and 1 <= day <= 31


def find_identity_numbers(text: str) -> list[str]:
    """Every substring of ``text`` that looks like a Swedish identity number (see the module text)."""
    found: list[str] = []
    for match in _ID_RE.finditer(text or ""):
        if not _possible_date(match["date"]):
            continue
        if match["sep"] or luhn_checksum_ok(match["date"] + match["tail"]):
            found.append(match.group(0))
    found += [m.group(0) for m in _RESERVE_RE.finditer(text or "")]
    return found


def personal_data_problems(fields: dict[str, str], rule: str = "R-AVV-1") -> list[Problem]:
    """One problem per field whose text holds an identity number. The number itself is not repeated back."""
    return [
        Problem(
            name,
            rule,
            _(
                "Texten innehåller något som liknar ett personnummer. Skriv vad som hände, inte vem det "
                "gällde: ta bort personnummer och andra personuppgifter."
            ),
        )
        for name, text in fields.items()
        if find_identity_numbers(text)
    ]
