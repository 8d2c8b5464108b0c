"""Retention (gallring, issue 16 part 4): a rule per kind with its legal source, the deletion job deletes what
has expired (files too) and logs it, a legal hold keeps a record, a record that a newer one still needs is
kept, and the report of what expires next month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError
from brygga.documents.attachments import add_attachment
from brygga.documents.models import Attachment, Document, DocumentVersion, Signature
from brygga.documents.signed import create_document, sign_version
from brygga.retention.models import LegalHold, RetentionDeletion
from brygga.retention.rules import rules, years_before
from brygga.retention.services import apply_retention, expiring_report, place_hold, release_hold
from brygga.statistics.models import MonthlyProcessStat
from tests.factories import WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def nurse(isolated_documents: Path):  # type: ignore[no-untyped-def]
    return actor(Role.WARD_NURSE, WARD)


def _attach(nurse, when: dt.datetime, owner_id: str | None = None):  # type: ignore[no-untyped-def]
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.OTHER, f"test:{person.pk}")
    with time_machine.travel(when, tick=False):
        return add_attachment(
            nurse, person.pk, "person", owner_id or str(person.pk), SimpleUploadedFile("a.pdf", PDF)
        )


def test_every_rule_names_its_legal_source_and_can_be_configured(settings) -> None:  # type: ignore[no-untyped-def]
    by_kind = {rule.kind: rule for rule in rules()}
    assert {"attachment", "document", "settlement_run", "statistics_summary"} <= set(by_kind)
    assert all(rule.legal_source and rule.years >= 1 for rule in by_kind.values())
    assert "Patientdatalagen" in by_kind["attachment"].legal_source
    assert "Bokföringslagen" in by_kind["settlement_run"].legal_source
    settings.BRYGGA_RETENTION_RULES = {"attachment": {"years": 12, "legal_source": "Beslut 2026-1"}}
    rule = {rule.kind: rule for rule in rules()}["attachment"]
    assert (rule.years, rule.legal_source) == (12, "Beslut 2026-1")


def test_the_job_deletes_an_expired_attachment_and_its_file_and_keeps_a_held_one(  # type: ignore[no-untyped-def]
    nurse, isolated_documents: Path, django_capture_on_commit_callbacks
) -> None:
    now = timezone.now()
    eleven_years_ago = years_before(now, 11)
    expired = _attach(nurse, eleven_years_ago)
    held = _attach(nurse, eleven_years_ago)
    recent = _attach(nurse, years_before(now, 2))
    hold = place_hold(nurse.user, "Anmälan till IVO under utredning", person=held.person)
    with django_capture_on_commit_callbacks(execute=True):
        result = apply_retention(now)
    assert result.deleted["attachment"] == 1 and result.held["attachment"] == 1
    assert set(Attachment.objects.values_list("pk", flat=True)) == {held.pk, recent.pk}
    stored = {p.name for p in files_in(isolated_documents / "documents")}
    assert expired.key not in stored and {held.key, recent.key} <= stored
    logged = RetentionDeletion.objects.get()
    assert (logged.kind, logged.object_id, logged.person_id) == (
        "attachment",
        str(expired.pk),
        expired.person_id,
    )
    assert logged.retention_years == 10 and "Patientdatalagen" in logged.legal_source
    assert logged.files_deleted == 1
    # Run again: nothing more (idempotent). Release the hold: the held one goes too.
    assert apply_retention(now).deleted["attachment"] == 0
    release_hold(nurse.user, hold)
    with django_capture_on_commit_callbacks(execute=True):
        assert apply_retention(now).deleted["attachment"] == 1
    assert list(Attachment.objects.values_list("pk", flat=True)) == [recent.pk]


def test_an_old_attachment_is_kept_while_a_newer_record_on_the_same_owner_is_within_its_period(nurse) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    old = _attach(nurse, years_before(now, 11))
    person = old.person
    with time_machine.travel(years_before(now, 1), tick=False):
        add_attachment(nurse, person.pk, "person", old.owner_id, SimpleUploadedFile("b.pdf", PDF))
    assert apply_retention(now).deleted["attachment"] == 0
    assert Attachment.objects.filter(pk=old.pk).exists()


def test_an_expired_signed_document_goes_with_its_versions_signatures_and_files(  # type: ignore[no-untyped-def]
    isolated_documents: Path, django_capture_on_commit_callbacks
) -> None:
    physician = actor(Role.PHYSICIAN, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.OTHER, "test:1")
    now = timezone.now()
    with time_machine.travel(years_before(now, 11), tick=False):
        version = create_document(physician, person.pk, "person", str(person.pk), "Epikris", "Text.")
        sign_version(physician, version.pk)
    version.refresh_from_db()
    signed_file = isolated_documents / "documents" / str(version.pdf.name)
    assert signed_file.exists()
    with django_capture_on_commit_callbacks(execute=True):
        result = apply_retention(now)
    assert result.deleted["document"] == 1 and result.files >= 1
    assert not Document.objects.exists() and not DocumentVersion.objects.exists()
    assert not Signature.objects.exists()
    assert not signed_file.exists()


def test_statistics_summaries_older_than_their_period_are_deleted() -> None:
    now = timezone.now()
    old_month = years_before(now, 11).date().replace(day=1)
    new_month = years_before(now, 1).date().replace(day=1)
    for month in (old_month, new_month):
        MonthlyProcessStat.objects.create(
            month=month, level="region", key="vg", name="Västra Götaland", computed_at=now
        )
    assert apply_retention(now).deleted["statistics_summary"] == 1
    assert list(MonthlyProcessStat.objects.values_list("month", flat=True)) == [new_month]


def test_a_dry_run_deletes_nothing(nurse) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    kept = _attach(nurse, years_before(now, 11))
    assert apply_retention(now, dry_run=True).deleted["attachment"] == 1
    assert Attachment.objects.filter(pk=kept.pk).exists() and not RetentionDeletion.objects.exists()


def test_the_report_lists_what_expires_next_month_and_what_is_held(nurse) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    start, end = now + dt.timedelta(days=5), now + dt.timedelta(days=35)
    soon = _attach(nurse, years_before(now + dt.timedelta(days=10), 10))
    _attach(nurse, years_before(now + dt.timedelta(days=20), 10))
    _attach(nurse, years_before(now + dt.timedelta(days=90), 10))  # later: not in this report
    place_hold(nurse.user, "Skadeståndsanspråk", kind="attachment", object_id=str(soon.pk))
    line = next(line for line in expiring_report(start, end) if line.kind.key == "attachment")
    assert (line.expiring, line.held) == (2, 1)


def test_a_hold_needs_a_reason_and_a_target(nurse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as refused:
        place_hold(nurse.user, "  ", person=make_person())
    assert refused.value.problems[0].field == "reason"
    with pytest.raises(DomainError):
        place_hold(nurse.user, "Skäl")
    assert not LegalHold.objects.exists()


def test_the_commands_run(nurse, capsys) -> None:  # type: ignore[no-untyped-def]
    _attach(nurse, years_before(timezone.now(), 11))
    call_command("retention_report")
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "attachment: would delete 1" in out and "access_log:" in out
    call_command("apply_retention", "--enqueue")  # the immediate backend in tests runs it at once
    assert not Attachment.objects.exists()


def test_closed_settlement_runs_go_after_the_seventh_year_open_and_held_ones_stay(nurse) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from brygga.organisations.models import Municipality
    from brygga.payment.models import SettlementRun

    now = timezone.now()
    municipality = Municipality.objects.first()
    assert municipality is not None  # the reference data is loaded for every test database

    def run(year: int, status: str, sequence: int = 1) -> SettlementRun:
        return SettlementRun.objects.create(
            municipality=municipality,
            year=year,
            month=6,
            sequence=sequence,
            status=status,
            facts={},
            rules={},
            amount_per_day=Decimal("1000"),
            input_digest="0" * 64,
            engine_version="test",
        )

    expired = run(now.year - 8, SettlementRun.Status.CLOSED)
    held = run(now.year - 8, SettlementRun.Status.SUPERSEDED, sequence=2)
    still_open = run(now.year - 9, SettlementRun.Status.OPEN)
    within = run(now.year - 7, SettlementRun.Status.CLOSED)  # the seventh year after it has not ended
    place_hold(nurse.user, "Tvist om betalningsansvar", kind="settlement_run", object_id=str(held.pk))
    result = apply_retention(now)
    assert result.deleted["settlement_run"] == 1 and result.held["settlement_run"] == 1
    assert set(SettlementRun.objects.values_list("pk", flat=True)) == {held.pk, still_open.pk, within.pk}
    assert RetentionDeletion.objects.get(kind="settlement_run").object_id == str(expired.pk)
