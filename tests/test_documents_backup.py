"""The backup routine instead of fax (issue 7, part 4): encrypted per-unit snapshots on a schedule and on
demand, and registering afterwards what was done on paper."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.documents.backup import (
    encrypt_pdf,
    open_snapshot,
    produce_snapshot,
    register_paper_record,
    unit_passphrase,
)
from brygga.documents.models import BackupKey, BackupSnapshot, PaperRecord
from tests.factories import OTHER_WARD, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated_files(isolated_documents: Path) -> Path:
    return isolated_documents / "documents"


@pytest.fixture
def ward_people():  # type: ignore[no-untyped-def]
    ours = make_person(given_name="Vera", family_name="Avdelningsdotter")
    protected = make_person(protected=True, given_name="Hemlig", family_name="Person")
    elsewhere = make_person(given_name="Annan", family_name="Enhetsson")
    involve(ours, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    involve(protected, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:2")
    involve(elsewhere, unit(OTHER_WARD), Involvement.Kind.INPATIENT_CASE, "case:3")
    return ours, protected, elsewhere


def decrypted_text(data: bytes, passphrase: str) -> str:
    from pyhanko.pdf_utils.crypt import AuthStatus
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data))
    assert reader.encrypted
    assert reader.decrypt(passphrase).status != AuthStatus.FAILED
    text = b""
    for page in reader.root["/Pages"]["/Kids"]:
        contents = page.get_object()["/Contents"]
        streams = contents if isinstance(contents, list) else [contents]
        for stream in streams:
            text += stream.get_object().data
    return text.decode("latin-1")


def test_a_snapshot_holds_exactly_the_units_persons_encrypted_under_the_units_passphrase(ward_people) -> None:  # type: ignore[no-untyped-def]
    ours, protected, elsewhere = ward_people
    snapshot = produce_snapshot(unit(WARD))
    assert sorted(snapshot.person_ids) == sorted([ours.pk, protected.pk])
    assert snapshot.trigger == BackupSnapshot.Trigger.SCHEDULED
    with snapshot.file.open("rb") as handle:
        data = handle.read()
    assert b"Avdelningsdotter" not in data  # encrypted at rest
    text = decrypted_text(data, unit_passphrase(unit(WARD)))
    assert "Avdelningsdotter" in text and ours.identifier[:8] in text
    assert "Enhetsson" not in text  # another unit's person
    assert "Hemlig" not in text and protected.identifier[:8] in text  # protected identity masked


def test_the_wrong_passphrase_does_not_open_the_snapshot(ward_people) -> None:  # type: ignore[no-untyped-def]
    from pyhanko.pdf_utils.crypt import AuthStatus
    from pyhanko.pdf_utils.reader import PdfFileReader

    snapshot = produce_snapshot(unit(WARD))
    with snapshot.file.open("rb") as handle:
        reader = PdfFileReader(io.BytesIO(handle.read()))
    assert reader.decrypt("AAAA-BBBB-CCCC-DDDD-EEEE").status == AuthStatus.FAILED


def test_the_passphrase_is_stable_per_unit_and_not_stored_in_clear() -> None:
    first = unit_passphrase(unit(WARD))
    assert unit_passphrase(unit(WARD)) == first and unit_passphrase(unit(OTHER_WARD)) != first
    assert len(first) == 24 and first.count("-") == 4
    stored = bytes(BackupKey.objects.get(unit=unit(WARD)).encrypted_passphrase)
    assert first.encode() not in stored


def test_the_scheduled_command_and_task_produce_one_snapshot_per_involved_unit(ward_people) -> None:  # type: ignore[no-untyped-def]
    call_command("produce_backup_snapshots", verbosity=0)
    assert set(BackupSnapshot.objects.values_list("unit__name", flat=True)) == {WARD, OTHER_WARD}
    call_command("produce_backup_snapshots", "--enqueue", verbosity=0)  # immediate backend in tests
    assert BackupSnapshot.objects.filter(unit=unit(WARD)).count() == 2


def test_a_scheduled_run_retried_after_a_crash_makes_each_units_snapshot_once(ward_people) -> None:  # type: ignore[no-untyped-def]
    """Issue 20 item 8: the worker was killed after the ward's snapshot and before the other ward's; the retry
    of the same run (same time of asking) makes only the missing one, and a later run makes both again."""
    from brygga.documents.tasks import produce_backup_snapshots_task

    asked = timezone.now()
    produce_snapshot(unit(WARD))  # the part the killed run finished (its own transaction)
    produce_backup_snapshots_task.enqueue(asked.isoformat())  # the retry
    assert BackupSnapshot.objects.filter(unit=unit(WARD)).count() == 1
    assert BackupSnapshot.objects.filter(unit=unit(OTHER_WARD)).count() == 1
    produce_backup_snapshots_task.enqueue((timezone.now() + dt.timedelta(seconds=1)).isoformat())
    assert BackupSnapshot.objects.filter(unit=unit(WARD)).count() == 2


def test_old_snapshots_are_removed_but_those_paper_records_refer_to_are_kept(  # type: ignore[no-untyped-def]
    ward_people, isolated_files, django_capture_on_commit_callbacks
) -> None:
    ours, _protected, _elsewhere = ward_people
    nurse = actor(Role.WARD_NURSE, WARD)
    first = produce_snapshot(unit(WARD))
    register_paper_record(nurse, ours.pk, timezone.now(), "Läkemedelslista skickad med patienten.", first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            produce_snapshot(unit(WARD))
    kept = BackupSnapshot.objects.filter(unit=unit(WARD))
    assert kept.count() == 4 and kept.filter(pk=first.pk).exists()
    assert len([p for p in isolated_files.rglob("*") if p.is_file()]) == 4


def test_downloading_is_for_the_units_staff_only_and_logged_per_person(ward_people) -> None:  # type: ignore[no-untyped-def]
    ours, protected, _elsewhere = ward_people
    snapshot = produce_snapshot(unit(WARD), actor(Role.WARD_NURSE, WARD))
    assert snapshot.trigger == BackupSnapshot.Trigger.MANUAL
    with pytest.raises(NotFound):
        open_snapshot(actor(Role.WARD_NURSE, OTHER_WARD), snapshot.pk)
    with pytest.raises(NotFound):
        open_snapshot(actor(Role.LOG_REVIEWER, WARD), snapshot.pk)  # no clinical read permission
    assert not AccessLogEntry.objects.filter(what=f"reservutdrag:{snapshot.pk}").exists()
    open_snapshot(actor(Role.WARD_NURSE, WARD), snapshot.pk)
    logged = AccessLogEntry.objects.filter(what=f"reservutdrag:{snapshot.pk}", action="export")
    assert set(logged.values_list("person_id", flat=True)) == {ours.pk, protected.pk}


def test_paper_work_is_registered_afterwards_and_marked_as_such(ward_people) -> None:  # type: ignore[no-untyped-def]
    ours, _protected, _elsewhere = ward_people
    nurse = actor(Role.WARD_NURSE, WARD)
    with time_machine.travel(dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC), tick=False):
        record = register_paper_record(
            nurse,
            ours.pk,
            dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC),
            "Inskrivningsmeddelande lämnat per telefon.",
        )
    assert record.occurred_at < record.registered_at and record.unit == unit(WARD)
    assert AccessLogEntry.objects.filter(person=ours, what="pappersrutin", action="create").exists()


def test_bad_paper_records_are_refused_and_nothing_is_stored(ward_people) -> None:  # type: ignore[no-untyped-def]
    """DOK-RES-1"""
    ours, _protected, elsewhere = ward_people
    nurse = actor(Role.WARD_NURSE, WARD)
    with pytest.raises(DomainError) as exc:
        register_paper_record(nurse, ours.pk, timezone.now() + dt.timedelta(hours=1), " ")
    assert {p.field for p in exc.value.problems} == {"occurred_at", "summary"}
    with pytest.raises(DomainError) as exc:
        register_paper_record(nurse, ours.pk, timezone.now(), "Text", snapshot_id=999999)
    assert exc.value.problems[0].field == "snapshot"
    with pytest.raises(NotFound):
        register_paper_record(nurse, elsewhere.pk, timezone.now(), "Text")
    with pytest.raises(PermissionDenied):
        register_paper_record(actor(Role.READ_ONLY, WARD), ours.pk, timezone.now(), "Text")
    assert not PaperRecord.objects.exists()


def test_encrypt_pdf_keeps_the_document_readable_with_the_passphrase() -> None:
    from brygga.documents import pdf

    data = encrypt_pdf(
        pdf.render(pdf.PdfDocument(title="Prov", sections=[pdf.Section("Rubrik", ["Hej"])])), "ABCD"
    )
    assert "Hej" in decrypted_text(data, "ABCD")
