"""The deletion job and the report of what expires next (ADR 0405).

``apply_retention`` deletes, kind by kind, every record whose period has run out, unless a legal hold names
its person or the record itself, and logs each deletion as a ``RetentionDeletion`` in the same transaction as
the deletion (files are removed after the commit, so a rolled-back deletion never loses a file). It is
idempotent: run it again and it finds nothing more. ``expiring_report`` lists what will expire in a period,
and which of it is held."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, AccessLogSeal
from brygga.accounts.models import User
from brygga.core.errors import DomainError
from brygga.people.models import Person
from brygga.retention.models import LegalHold, RetentionDeletion
from brygga.retention.rules import Candidate, Kind, kinds, rule_for, years_before

log = logging.getLogger(__name__)


@dataclass
class RetentionResult:
    deleted: Counter[str] = field(default_factory=Counter)
    held: Counter[str] = field(default_factory=Counter)
    files: int = 0


def _holds() -> tuple[set[int], set[tuple[str, str]]]:
    active = LegalHold.objects.filter(released_at__isnull=True)
    persons = {pid for pid in active.values_list("person_id", flat=True) if pid is not None}
    objects = {(k, o) for k, o in active.exclude(object_id="").values_list("kind", "object_id")}
    return persons, objects


def _is_held(candidate: Candidate, persons: set[int], objects: set[tuple[str, str]]) -> bool:
    return candidate.person_id in persons or (candidate.kind, candidate.object_id) in objects


def apply_retention(now: dt.datetime | None = None, dry_run: bool = False) -> RetentionResult:
    """Delete what has expired (files too) and log it; held records are counted, not touched."""
    now = now or timezone.now()
    result = RetentionResult()
    persons, objects = _holds()
    for kind in kinds():
        rule = rule_for(kind)
        cutoff = years_before(now, rule.years)
        for candidate in list(kind.candidates(cutoff)):
            if _is_held(candidate, persons, objects):
                result.held[kind.key] += 1
                continue
            if dry_run:
                result.deleted[kind.key] += 1
                continue
            with transaction.atomic():
                files = kind.delete(candidate.object_id)
                RetentionDeletion.objects.create(
                    deleted_at=now,
                    kind=kind.key,
                    object_id=candidate.object_id,
                    person_id=candidate.person_id,
                    record_date=candidate.record_date,
                    retention_years=rule.years,
                    legal_source=rule.legal_source[:300],
                    files_deleted=files,
                )
            result.deleted[kind.key] += 1
            result.files += files
            log.info("Retention deleted %s %s (%s years)", kind.key, candidate.object_id, rule.years)
    segments = prune_access_log_segments(now, dry_run)
    if segments:
        result.deleted["access_log"] += segments
    return result


ACCESS_LOG_SOURCE = (
    "HSLF-FS 2016:40 4 kap. 9 § (åtkomstloggar sparas minst fem år) och Patientdatalagen (2008:355) "
    "4 kap. 3 §; gallras i hela förseglade avsnitt (ADR 0409)."
)


def _held_identifiers() -> set[str]:
    held = LegalHold.objects.filter(released_at__isnull=True, person__isnull=False).select_related("person")
    return {hold.person.identifier for hold in held if hold.person is not None}


def prune_access_log_segments(now: dt.datetime, dry_run: bool = False) -> int:
    """The access log's retention: whole sealed segments older than ``BRYGGA_ACCESS_LOG_RETENTION_YEARS``,
    oldest first, never past a segment with an entry of a person under a legal hold, never the newest seal.
    Logged as one ``RetentionDeletion`` (kind ``access_log``) per run. Returns the number of segments."""
    from brygga.access.services import prunable_seals, prune_access_log

    years = int(settings.BRYGGA_ACCESS_LOG_RETENTION_YEARS)
    cutoff = years_before(now, years)
    held = _held_identifiers()
    if dry_run:
        return len(prunable_seals(cutoff, held))
    first = AccessLogSeal.objects.order_by("sequence").values_list("sequence", flat=True).first()
    with transaction.atomic():
        prune = prune_access_log(cutoff, years, held, now=now)
        if prune is None:
            return 0
        RetentionDeletion.objects.create(
            deleted_at=now,
            kind="access_log",
            object_id=f"seal {first}-{prune.through_sequence}"[:40],
            person_id=None,
            record_date=prune.newest_entry_at,
            retention_years=years,
            legal_source=ACCESS_LOG_SOURCE[:300],
            files_deleted=0,
        )
    log.info("Retention deleted access-log seals %s–%s", first, prune.through_sequence)
    return prune.through_sequence - (first or 1) + 1


@dataclass
class ExpiringLine:
    kind: Kind
    years: int
    legal_source: str
    expiring: int
    held: int


def expiring_report(start: dt.datetime, end: dt.datetime) -> list[ExpiringLine]:
    """Per kind, how many records reach the end of their period between ``start`` and ``end`` (for the report
    of what expires next month), and how many of them a legal hold will keep."""
    persons, objects = _holds()
    lines = []
    for kind in kinds():
        rule = rule_for(kind)
        first, last = years_before(start, rule.years), years_before(end, rule.years)
        expiring = held = 0
        for candidate in kind.candidates(last):
            if candidate.record_date < first:
                continue  # already expired: the next run deletes it
            expiring += 1
            held += _is_held(candidate, persons, objects)
        lines.append(ExpiringLine(kind, rule.years, rule.legal_source, expiring, held))
    return lines


def access_log_past_retention(now: dt.datetime | None = None) -> tuple[int, int]:
    """Access-log entries older than ``BRYGGA_ACCESS_LOG_RETENTION_YEARS`` and the number of whole sealed
    segments they fill (the job deletes the segments, ``prune_access_log_segments``; the entries of a segment
    that also holds newer ones, and those after the newest seal, wait)."""
    now = now or timezone.now()
    cutoff = years_before(now, int(settings.BRYGGA_ACCESS_LOG_RETENTION_YEARS))
    entries = AccessLogEntry.objects.filter(at__lt=cutoff).count()
    newest_old = (
        AccessLogEntry.objects.filter(at__lt=cutoff).order_by("-id").values_list("id", flat=True).first()
    )
    segments = 0
    if newest_old is not None:
        segments = AccessLogSeal.objects.filter(last_id__lte=newest_old).count()
    return entries, segments


def place_hold(
    user: User, reason: str, person: Person | None = None, kind: str = "", object_id: str = ""
) -> LegalHold:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError.single("reason", "GALL-1", _("Ange skälet till att uppgifterna ska bevaras."))
    if person is None and not object_id:
        raise DomainError.single("person", "GALL-1", _("Ange en person eller en uppgift som ska bevaras."))
    return LegalHold.objects.create(
        person=person, kind=kind, object_id=object_id, reason=reason, placed_by=user, placed_at=timezone.now()
    )


def release_hold(user: User, hold: LegalHold) -> LegalHold:
    if hold.released_at is None:
        hold.released_at, hold.released_by = timezone.now(), user
        hold.save(update_fields=["released_at", "released_by"])
    return hold


def active_holds() -> list[LegalHold]:
    return list(LegalHold.objects.filter(Q(released_at__isnull=True)).select_related("person"))
