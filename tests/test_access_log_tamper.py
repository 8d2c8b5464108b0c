"""A log that cannot be quietly shortened (R-LOG-1/2; issue 20 item 4; ADR 0800). What a database owner who
bypasses the triggers could do — delete entries and recompute the seals, delete the entries newer than the last
seal, drop the last seal with everything after it — is each detected by verify_access_log, on SQLite and
PostgreSQL. The seals are keyed (HMAC) and append-only, and anchored outside the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from brygga.access.models import AccessLogEntry, AccessLogSeal, Involvement
from brygga.access.services import involve, open_person, seal_access_log, verify_access_log
from brygga.accounts.permissions import Role
from tests.factories import WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def anchor(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "anchor.jsonl"
    settings.BRYGGA_ACCESS_LOG_ANCHOR = str(path)
    return path


def _as_owner(*statements: str) -> None:
    """What someone with database-owner rights can do: get past the append-only triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            for sql in statements:
                cursor.execute(sql)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            for trigger in ("access_log_no_update", "access_log_no_delete", "access_seal_no_update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            cursor.execute("DROP TRIGGER IF EXISTS access_seal_no_delete")
            cursor.execute("DROP TRIGGER IF EXISTS access_stamp_no_delete")
            for sql in statements:
                cursor.execute(sql)


def _reads(count: int, start: dt.datetime) -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, f"case:{start.timestamp()}")
    for minute in range(count):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            open_person(nurse, person.pk)


def _seal(now: dt.datetime, capture) -> AccessLogSeal | None:  # type: ignore[no-untyped-def]
    with capture(execute=True):  # the anchor is written when the sealing transaction commits
        return seal_access_log(now=now)


def test_seals_are_append_only_in_the_database() -> None:
    _reads(2, START)
    seal_access_log(now=START + dt.timedelta(hours=1))
    for statement in ("UPDATE access_accesslogseal SET digest = 'x'", "DELETE FROM access_accesslogseal"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AccessLogSeal.objects.count() == 1
    assert verify_access_log() == []


def test_seals_are_keyed_and_recomputed_seals_are_detected() -> None:
    """R-LOG-2: delete an entry and recompute the seal as the old unkeyed chain did → detected."""
    _reads(3, START)
    seal = seal_access_log(now=START + dt.timedelta(hours=1))
    assert seal is not None and seal.scheme == AccessLogSeal.Scheme.HMAC_SHA256
    first, *rest = AccessLogEntry.objects.order_by("id")
    digest = hashlib.sha256(seal.previous_digest.encode())
    for entry in rest:
        digest.update(entry.mac.encode())
    _as_owner(
        f"DELETE FROM access_accesslogentry WHERE id = {first.pk}",
        f"UPDATE access_accesslogseal SET entry_count = 2, first_id = {rest[0].pk}, "
        f"high_count = high_count - 1, digest = '{digest.hexdigest()}' WHERE id = {seal.pk}",
    )
    problems = verify_access_log()
    assert "Posterna i försegling 1 har ändrats." in problems


def test_deleting_the_entries_newer_than_the_last_seal_is_detected() -> None:
    _reads(3, START)
    # Two more reads right before sealing: too young for this seal, but pinned by its high-water mark.
    _reads(2, START + dt.timedelta(minutes=59, seconds=30))
    seal = seal_access_log(now=START + dt.timedelta(hours=1))
    assert seal is not None and seal.entry_count == 3 and seal.high_count == 5
    assert verify_access_log() == []
    _as_owner(f"DELETE FROM access_accesslogentry WHERE id > {seal.last_id}")
    assert "2 loggposter skrivna före försegling 1 har tagits bort." in verify_access_log()


def test_dropping_the_last_seal_with_everything_after_it_is_detected_by_the_anchor(
    anchor: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    _reads(2, START)
    _seal(START + dt.timedelta(hours=1), django_capture_on_commit_callbacks)
    _reads(2, START + dt.timedelta(hours=2))
    second = _seal(START + dt.timedelta(hours=3), django_capture_on_commit_callbacks)
    assert second is not None and second.sequence == 2
    assert [json.loads(line)["sequence"] for line in anchor.read_text().splitlines()] == [1, 2]
    assert verify_access_log() == []
    _as_owner(
        f"DELETE FROM access_accesslogentry WHERE id >= {second.first_id}",
        f"DELETE FROM access_accesslogseal WHERE id = {second.pk}",
    )
    assert "Försegling 2 finns i ankaret men saknas i databasen." in verify_access_log()


def test_a_changed_anchor_line_is_detected(anchor: Path, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    _reads(2, START)
    _seal(START + dt.timedelta(hours=1), django_capture_on_commit_callbacks)
    record = json.loads(anchor.read_text())
    record["entry_count"] = 1
    anchor.write_text(json.dumps(record) + "\n")
    problems = verify_access_log()
    assert "Ankarets rad 1 har ändrats eller går inte att läsa." in problems
    assert "Försegling 1 saknas i ankaret (kör seal_access_log för att förankra)." in problems


def test_a_seal_that_a_crash_left_unanchored_is_anchored_by_the_next_run(
    anchor: Path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    _reads(2, START)
    seal_access_log(now=START + dt.timedelta(hours=1))  # its commit callback never runs: a crash
    assert "Försegling 1 saknas i ankaret (kör seal_access_log för att förankra)." in verify_access_log()
    assert _seal(START + dt.timedelta(hours=2), django_capture_on_commit_callbacks) is None
    assert verify_access_log() == []
