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
    if match["serial"] == "000":
        # Skatteverket never issues birth number 000: the date may well exist, the number does not.
        raise _fail(
            field,
            "PNR-FODELSENUMMER",
            _("Födelsenumret 000 delas aldrig ut. Kontrollera de tre siffrorna efter datumet."),
        )
    month, day = int(match["yymmdd"][2:4]), int(match["yymmdd"][4:6])
    kind = IdKind.SAMORDNINGSNUMMER if day >= 60 else IdKind.PERSONNUMMER
    if kind is IdKind.SAMORDNINGSNUMMER:
        day -= 60
    today = today or timezone.localdate()
    if kind is IdKind.SAMORDNINGSNUMMER and (month == 0 or day == 0):
        return _incomplete_samordningsnummer(match, month, day, field, today)
    try:
        parsed = pnr_lib.parse(text)
    except pnr_lib.PersonnummerException as exc:
        raise _fail(field, "PNR-DATUM", _("Födelsedatumet i numret finns inte.")) from exc
    canonical = parsed.format(True)
    birth = dt.date(int(canonical[:4]), month, day)
    if birth > today:
        raise _fail(field, "PNR-DATUM", _("Födelsedatumet i numret ligger i framtiden."))
    return IdentityNumber(value=canonical, kind=kind, birth_date=birth)


def _incomplete_samordningsnummer(
    match: re.Match[str], month: int, day: int, field: str, today: dt.date
) -> IdentityNumber:
    """A samordningsnummer whose date is not fully known: Skatteverket writes month 00 and/or day 00 (60 in
    the number), e.g. 191500722390 (month unknown) or 191711602399 (day unknown). The number is valid; the
    birth date is then unknown (None). The parts that are given must still be possible."""
    if month > 12 or day > 31:
        raise _fail(field, "PNR-DATUM", _("Födelsedatumet i numret finns inte."))
    yy = int(match["yymmdd"][:2])
    if match["century"]:
        year = int(match["century"]) * 100 + yy
    else:
        # Ten digits: the latest century that is not in the future; "+" means a hundred years more.
        year = (today.year // 100) * 100 + yy
        if year > today.year:
            year -= 100
        if match["sep"] == "+":
            year -= 100
    if year > today.year:
        raise _fail(field, "PNR-DATUM", _("Födelsedatumet i numret ligger i framtiden."))
    value = f"{year:04d}{match['yymmdd'][2:]}{match['serial']}{match['check']}"
    return IdentityNumber(value=value, kind=IdKind.SAMORDNINGSNUMMER, birth_date=None)


def _date_or_none(yyyymmdd: str) -> dt.date | None:
    try:
        return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None
