"""Import of HSA's file export (ADR 0503): the directory's units as LDIF (RFC 2849), with the HSA schema's
attribute names (hsaIdentity, ou, hsaStreetAddress, hsaPostalAddress, hsaTelephoneNumber, hsaMunicipalityCode,
hsaEndDate, hsaHealthCareProvider). The hierarchy is the directory's: a unit's parent is the entry above it in
its DN, its care provider the nearest entry above (or itself) marked hsaHealthCareProvider.

All or nothing: every row is checked first; with any broken row nothing is written and the report names each
one (line, DN, attribute, rule). A full file lists every unit, so a unit missing from it — or with an end date
that has passed — is closed. Running the same file twice changes nothing the second time."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ldif import LDIFParser

from brygga.hsa.models import HsaImport, HsaUnit
from brygga.organisations.hsa import hsa_id_problem
from brygga.organisations.models import Unit

FIELDS = (
    "name",
    "parent_hsa_id",
    "care_provider_hsa_id",
    "street_address",
    "postal_address",
    "telephone",
    "municipality_code",
    "end_date",
)


@dataclass
class Report:
    new: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "changed": self.changed,
            "closed": self.closed,
            "reopened": self.reopened,
            "unchanged": self.unchanged,
            "problems": self.problems,
            "applied": self.applied,
        }


def _one(record: dict[str, list[Any]], name: str) -> str:
    values = record.get(name) or []
    value = values[0] if values else ""
    return (value.decode() if isinstance(value, bytes) else str(value)).strip()


def _end_date(text: str) -> dt.date | None:
    """hsaEndDate is a GeneralizedTime (YYYYMMDDhhmmssZ); a date alone is accepted too."""
    digits = text[:8]
    if len(digits) != 8 or not digits.isdecimal():
        raise ValueError(text)
    return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def parse(handle: BinaryIO) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The units of the file by HSA-id, and the problems found (never raises for a bad row)."""
    parser = LDIFParser(handle, strict=False)
    entries: list[tuple[int, str, dict[str, list[Any]]]] = []
    problems: list[dict[str, Any]] = []
    try:
        for dn, record in parser.parse():
            entries.append((parser.line_counter, dn, record))
    except ValueError as exc:
        return {}, [{"line": parser.line_counter, "dn": "", "field": "", "rule": "LDIF", "message": str(exc)}]
    by_dn: dict[str, str] = {}
    providers: set[str] = set()
    rows: dict[str, dict[str, Any]] = {}
    for line, dn, record in entries:
        hsa_id = _one(record, "hsaIdentity")
        if not hsa_id:
            continue  # a directory node without an HSA-id (country, county): structure only
        row_problems = []
        if problem := hsa_id_problem(hsa_id):
            row_problems.append(("hsaIdentity", "HSA-ID", problem))
        name = _one(record, "ou") or _one(record, "o") or _one(record, "cn")
        if not name:
            row_problems.append(("ou", "NAMN", _("Enheten saknar namn (ou).")))
        end_text = _one(record, "hsaEndDate")
        end_date = None
        if end_text:
            try:
                end_date = _end_date(end_text)
            except ValueError:
                row_problems.append(
                    (
                        "hsaEndDate",
                        "DATUM",
                        _("Slutdatumet %(value)s går inte att läsa.") % {"value": end_text},
                    )
                )
        municipality = _one(record, "hsaMunicipalityCode")
        if municipality and not (len(municipality) == 4 and municipality.isdecimal()):
            row_problems.append(
                (
                    "hsaMunicipalityCode",
                    "KOMMUNKOD",
                    _("Kommunkoden %(value)s är inte fyra siffror.") % {"value": municipality},
                )
            )
        if hsa_id in rows:
            row_problems.append(
                (
                    "hsaIdentity",
                    "DUBBLETT",
                    _("HSA-id %(value)s förekommer flera gånger.") % {"value": hsa_id},
                )
            )
        for attribute, rule, message in row_problems:
            problems.append({"line": line, "dn": dn, "field": attribute, "rule": rule, "message": message})
        if row_problems:
            continue
        by_dn[_norm(dn)] = hsa_id
        if _one(record, "hsaHealthCareProvider").upper() == "TRUE":
            providers.add(hsa_id)
        rows[hsa_id] = {
            "dn": dn,
            "name": name[:200],
            "street_address": _one(record, "hsaStreetAddress").replace("$", ", ")[:200],
            "postal_address": _one(record, "hsaPostalAddress").replace("$", ", ")[:300],
            "telephone": (_one(record, "hsaTelephoneNumber") or _one(record, "hsaPublicTelephoneNumber"))[
                :60
            ],
            "municipality_code": municipality,
            "end_date": end_date,
        }
    for hsa_id, row in rows.items():
        ancestors = [by_dn[a] for a in _ancestors(row["dn"]) if a in by_dn]
        row["parent_hsa_id"] = ancestors[0] if ancestors else ""
        chain = [hsa_id, *ancestors]
        row["care_provider_hsa_id"] = next((h for h in chain if h in providers), "")
    return rows, problems


def _norm(dn: str) -> str:
    return ",".join(part.strip().lower() for part in dn.split(","))


def _ancestors(dn: str) -> list[str]:
    parts = [p.strip().lower() for p in dn.split(",")]
    return [",".join(parts[i:]) for i in range(1, len(parts))]


def import_file(path: str | Path, today: dt.date | None = None, dry_run: bool = False) -> Report:
    path = Path(path)
    data = path.read_bytes()
    with path.open("rb") as handle:
        rows, problems = parse(handle)
    report = Report(problems=problems)
    today = today or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        if not problems:
            _apply(rows, report, today, now)
            report.applied = not dry_run
            if dry_run:
                transaction.set_rollback(True)
    HsaImport.objects.create(
        imported_at=now,
        file_name=path.name,
        file_sha256=hashlib.sha256(data).hexdigest(),
        applied=report.applied,
        report=report.as_dict(),
    )
    return report


def _apply(rows: dict[str, dict[str, Any]], report: Report, today: dt.date, now: dt.datetime) -> None:
    existing = {u.hsa_id: u for u in HsaUnit.objects.select_for_update()}
    units = {u.hsa_id: u for u in Unit.objects.filter(hsa_id__in=[*rows, *existing])}
    for hsa_id, row in rows.items():
        closed = row["end_date"] is not None and row["end_date"] <= today
        record = existing.get(hsa_id)
        if record is None:
            record = HsaUnit(hsa_id=hsa_id, first_imported_at=now, changed_at=now, **_fields(row))
            record.closed_at = now if closed else None
            record.unit = units.get(hsa_id)
            record.save()
            report.new.append(hsa_id)
        else:
            diff = [f for f in FIELDS if getattr(record, f) != row[f]]
            for f in FIELDS:
                setattr(record, f, row[f])
            if closed and record.closed_at is None:
                record.closed_at = now
                report.closed.append(hsa_id)
            elif not closed and record.closed_at is not None:
                record.closed_at = None
                report.reopened.append(hsa_id)
            if record.unit is None and hsa_id in units:
                record.unit = units[hsa_id]
                diff.append("unit")
            if diff:
                report.changed[hsa_id] = diff
            if diff or hsa_id in report.closed or hsa_id in report.reopened:
                record.changed_at = now
                record.save()
            else:
                report.unchanged += 1
        _follow(units.get(hsa_id), active=not closed)
    for hsa_id, record in existing.items():
        if hsa_id not in rows and record.closed_at is None:
            # Gone from a full export: closed. Never deleted — cases and logs still point at it.
            record.closed_at = now
            record.changed_at = now
            record.save(update_fields=["closed_at", "changed_at"])
            report.closed.append(hsa_id)
            _follow(units.get(hsa_id), active=False)


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return {"dn": row["dn"], **{f: row[f] for f in FIELDS}}


def _follow(unit: Unit | None, active: bool) -> None:
    """The brygga unit with the same HSA-id follows the catalogue's open/closed state. Its name stays brygga's
    (HSA's ``ou`` is the local name, e.g. "Medicinavdelning", without the hospital)."""
    if unit is not None and unit.is_active != active:
        unit.is_active = active
        unit.save(update_fields=["is_active"])
