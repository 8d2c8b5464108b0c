"""Retention of the access log in whole sealed segments (issue 16, ADR 0409): the job drops the oldest sealed
segments past BRYGGA_ACCESS_LOG_RETENTION_YEARS, records a keyed boundary (the last dropped seal's digest)
and logs the deletion; verify_access_log still says intact, with and without the anchor. A segment holding an
entry of a person under a legal hold stays (and everything after it), the newest seal stays, the triggers
still refuse any other deletion, and a forged boundary is detected. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from brygga.access.models import AccessLogEntry, AccessLogPrune, AccessLogSeal, Involvement
from brygga.access.services import involve, open_person, seal_access_log, verify_access_log
from brygga.accounts.permissions import Role
from brygga.people.models import Person
from brygga.retention.models import LegalHold, RetentionDeletion
from brygga.retention.services import apply_retention, place_hold
from tests.factories import WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
NOW = START + dt.timedelta(days=6 * 365)  # five-year retention: the first two segments are past it


def _reads(person: Person, count: int, start: dt.datetime) -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, f"case:{start.timestamp()}")
    for minute in range(count):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            open_person(nurse, person.pk)


def _three_segments(capture, first: Person | None = None) -> list[AccessLogSeal]:  # type: ignore[no-untyped-def]
    """Two old segments (March and September 2026) and a recent one."""
    seals = []
    for person, at in (
        (first or make_person(given_name="Första"), START),
        (make_person(given_name="Andra"), START + dt.timedelta(days=200)),
        (make_person(given_name="Tredje"), NOW - dt.timedelta(days=30)),
    ):
        _reads(person, 3, at)
        with capture(execute=True):
            seal = seal_access_log(now=at + dt.timedelta(hours=1))
        assert seal is not None
        seals.append(seal)
    return seals


@pytest.fixture
def anchor(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "anchor.jsonl"
    settings.BRYGGA_ACCESS_LOG_ANCHOR = str(path)
    return path


def test_expired_segments_are_deleted_and_the_log_still_verifies_intact(  # type: ignore[no-untyped-def]
    settings, anchor: Path, django_capture_on_commit_callbacks
) -> None:
    settings.BRYGGA_ACCESS_LOG_RETENTION_YEARS = 5
    old, older, recent = _three_segments(django_capture_on_commit_callbacks)
    newest_entries = AccessLogEntry.objects.filter(id__gte=recent.first_id).count()
    assert verify_access_log() == []
    with django_capture_on_commit_callbacks(execute=True):
        result = apply_retention(now=NOW)
    assert result.deleted["access_log"] == 2
    assert list(AccessLogSeal.objects.values_list("sequence", flat=True)) == [recent.sequence]
    assert AccessLogEntry.objects.count() == newest_entries  # the recent segment and nothing older
    [boundary] = AccessLogPrune.objects.all()
    assert boundary.through_sequence == older.sequence and boundary.seal_digest == older.digest
    assert boundary.entry_count == older.last_id - old.first_id + 1
    assert verify_access_log() == []  # the chain starts at the boundary; the anchor agrees with it
    [logged] = RetentionDeletion.objects.filter(kind="access_log")
    assert logged.object_id == "seal 1-2" and "HSLF-FS 2016:40" in logged.legal_source
    # Idempotent: nothing more is old enough, and the newest seal always stays.
    assert apply_retention(now=NOW + dt.timedelta(days=10 * 365)).deleted["access_log"] == 0
    assert AccessLogSeal.objects.count() == 1 and verify_access_log() == []


def test_a_segment_with_a_held_persons_entries_is_kept_with_everything_after_it(  # type: ignore[no-untyped-def]
    settings, django_capture_on_commit_callbacks
) -> None:
    settings.BRYGGA_ACCESS_LOG_RETENTION_YEARS = 5
    held = make_person(given_name="Första")
    _three_segments(django_capture_on_commit_callbacks, first=held)
    before = AccessLogEntry.objects.count()
    place_hold(actor(Role.LOCAL_ADMIN, WARD).user, "Anmälan till IVO", person=held)
    assert apply_retention(now=NOW).deleted["access_log"] == 0
    assert AccessLogEntry.objects.count() == before and AccessLogSeal.objects.count() == 3
    assert not AccessLogPrune.objects.exists() and not RetentionDeletion.objects.filter(kind="access_log")
    LegalHold.objects.update(released_at=NOW)  # released (update: the hold table is not append-only)
    assert apply_retention(now=NOW).deleted["access_log"] == 2
    assert verify_access_log() == []


def test_the_triggers_still_refuse_any_other_deletion(settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    settings.BRYGGA_ACCESS_LOG_RETENTION_YEARS = 5
    _three_segments(django_capture_on_commit_callbacks)
    apply_retention(now=NOW)
    kept = AccessLogEntry.objects.count()
    for statement in (
        "DELETE FROM access_accesslogentry",
        "DELETE FROM access_accesslogseal",
        "DELETE FROM access_accesslogprune",
        "UPDATE access_accesslogprune SET last_id = last_id + 1000",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AccessLogEntry.objects.count() == kept and AccessLogSeal.objects.count() == 1
    assert verify_access_log() == []


def test_a_boundary_made_without_the_log_key_is_detected(
    settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Someone who can write to the database but has no log key records a boundary to excuse deleting the
    first segment: the triggers let the deletion through, verify_access_log does not."""
    _three_segments(django_capture_on_commit_callbacks)
    first = AccessLogSeal.objects.get(sequence=1)
    AccessLogPrune.objects.create(
        through_sequence=1,
        last_id=first.last_id,
        seal_digest=first.digest,
        entry_count=first.entry_count,
        newest_entry_at=START,
        pruned_at=NOW,
        retention_years=5,
        mac="0" * 64,
    )
    AccessLogEntry.objects.filter(id__lte=first.last_id).delete()
    AccessLogSeal.objects.filter(sequence=1).delete()
    problems = verify_access_log()
    assert "Gallringsgränsen vid försegling 1 har ändrats." in problems
    assert any("hänger inte ihop" in p or "saknas" in p for p in problems), problems
