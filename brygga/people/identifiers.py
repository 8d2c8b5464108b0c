"""Swedish identity numbers: personnummer, samordningsnummer and reserve numbers.

Validation uses the `personnummer` library for the century rules; the checks before it exist only to give
a precise Swedish message naming what is wrong (length, date, check digit)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from personnummer import personnummer as pnr_lib

from brygga.core.errors import DomainError
from brygga.core.identifiers import luhn_checksum_ok

PNR_RE = re.compile(r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$")
# Reserve numbers are regional. Default: the birth date (or 00 for unknown parts), a letter and three digits,
# e.g. 19500101R123. The letter makes a mix-up with a real personnummer impossible. Configurable per region.
DEFAULT_RESERVE_RE = r"^(?P<date>\d{8})-?(?P<letter>[A-Z])(?P<serial>\d{3})$"


class IdKind(StrEnum):
    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"
    RESERVE = "reservnummer"


@dataclass(frozen=True)
class IdentityNumber:
    value: str  # canonical: 12 digits, or the normalised reserve number
    kind: IdKind
    birth_date: dt.date | None

    def formatted(self) -> str:
        if self.kind is IdKind.RESERVE:
            return self.value
        return f"{self.value[:8]}-{self.value[8:]}"


def _fail(field: str, rule: str, message: str) -> DomainError:
    return DomainError.single(field, rule, message)


def parse_identity_number(
    raw: str, field: str = "identifier", today: dt.date | None = None
) -> IdentityNumber:
    """Parse a personnummer, samordningsnummer or reserve number into canonical form, or raise DomainError."""
    text = (raw or "").strip().upper().replace(" ", "")
    if not text:
        raise _fail(field, "ID-SAKNAS", _("Ange personnummer, samordningsnummer eller reservnummer."))
    reserve_re = re.compile(getattr(settings, "BRYGGA_RESERVE_NUMBER_PATTERN", DEFAULT_RESERVE_RE))
    if reserve_match := reserve_re.match(text):
        return IdentityNumber(
            value=f"{reserve_match['date']}{reserve_match['letter']}{reserve_match['serial']}",
            kind=IdKind.RESERVE,
            birth_date=_date_or_none(reserve_match["date"]),
        )
    match = PNR_RE.match(text)
    if not match:
        raise _fail(
            field,
            "PNR-FORMAT",
            _("Personnumret ska ha 10 eller 12 siffror, t.ex. 19121212-1212 eller 121212-1212."),
        )
    if match["century"] and match["sep"] == "+":
        raise _fail(field, "PNR-FORMAT", _("Plustecken används bara med tiosiffrigt personnummer."))
    ten = match["yymmdd"] + match["serial"] + match["check"]
    if not luhn_checksum_ok(ten):
        raise _fail(field, "PNR-KONTROLLSIFFRA", _("Personnumret har fel kontrollsiffra."))
    day = int(match["yymmdd"][4:6])
    kind = IdKind.SAMORDNINGSNUMMER if day > 60 else IdKind.PERSONNUMMER
    try:
        parsed = pnr_lib.parse(text)
    except pnr_lib.PersonnummerException as exc:
        raise _fail(field, "PNR-DATUM", _("Födelsedatumet i numret finns inte.")) from exc
    canonical = parsed.format(True)
    birth = dt.date(int(canonical[:4]), int(canonical[4:6]), int(canonical[6:8]) - (60 if day > 60 else 0))
    if birth > (today or timezone.localdate()):
        raise _fail(field, "PNR-DATUM", _("Födelsedatumet i numret ligger i framtiden."))
    return IdentityNumber(value=canonical, kind=kind, birth_date=birth)


def _date_or_none(yyyymmdd: str) -> dt.date | None:
    try:
        return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
