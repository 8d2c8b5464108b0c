"""The HSA catalogue import from HSA's file export (LDIF, real format; tests/data/hsa): idempotent, a change
report of new, changed and closed units, hierarchy and care provider from the directory, nothing deleted that a
case points to, broken rows named and nothing half-imported (ADR 0503)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command

from brygga.accounts.permissions import Role
from brygga.cases import services as case_services
from brygga.hsa.importer import import_file
from brygga.hsa.models import HsaImport, HsaUnit
from brygga.organisations.models import Unit
from tests.factories import WARD, actor, make_person

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent / "data" / "hsa"
GERIATRICS = "SE2321000131-S00GER"


def test_first_import_reads_units_hierarchy_and_care_provider() -> None:
    report = import_file(DATA / "export-day1.ldif")
    assert report.applied and report.problems == []
    assert len(report.new) == 5 and not report.changed and not report.closed
    ward = HsaUnit.objects.get(hsa_id="SE2321000131-S00MED")
    assert ward.parent_hsa_id == "SE2321000131-S000000000010"
    assert ward.care_provider_hsa_id == "SE2321000131-E000000000001"
    assert ward.street_address == "Blå stråket 5, 413 45 Göteborg" and ward.telephone == "+46313421000"
    assert ward.unit == Unit.objects.get(name=WARD)  # linked to brygga's unit by HSA-id; its name stays


def test_the_same_file_twice_changes_nothing() -> None:
    import_file(DATA / "export-day1.ldif")
    again = import_file(DATA / "export-day1.ldif")
    assert again.new == [] and again.changed == {} and again.closed == [] and again.unchanged == 5
    assert HsaImport.objects.count() == 2


def test_next_day_reports_new_changed_and_closed_and_deletes_nothing() -> None:
    import_file(DATA / "export-day1.ldif")
    # A case points at the geriatric ward, which closes on day 2.
    geriatrics = Unit.objects.get(hsa_id=GERIATRICS)
    nurse = actor(Role.WARD_NURSE, geriatrics.name)
    now = dt.datetime.now(dt.UTC)
    case = case_services.admit(
        nurse,
        make_person("1480"),
        admitted_at=now - dt.timedelta(hours=1),
        care_type="somatic",
        expected_discharge_date=now.date() + dt.timedelta(days=3),
    )
    report = import_file(DATA / "export-day2.ldif")
    assert report.new == ["SE2321000131-S000000000120"]
    assert report.changed["SE2321000131-S00MED"] == ["name"]
    assert set(report.changed[GERIATRICS]) == {"telephone", "end_date"}
    assert set(report.closed) == {GERIATRICS, "SE2321000131-S000000000099"}
    geriatrics.refresh_from_db()
    assert geriatrics.is_active is False  # closed, not deleted
    case.refresh_from_db()
    assert case.ward == geriatrics
    assert HsaUnit.objects.filter(hsa_id="SE2321000131-S000000000099", closed_at__isnull=False).exists()


def test_broken_rows_are_named_and_nothing_is_imported() -> None:
    report = import_file(DATA / "broken.ldif")
    assert not report.applied
    rules = {(p["dn"].split(",")[0], p["field"], p["rule"]) for p in report.problems}
    assert rules == {("ou=Felaktig", "hsaIdentity", "HSA-ID"), ("ou=Fel datum", "hsaEndDate", "DATUM")}
    assert all(p["line"] > 0 for p in report.problems)
    assert not HsaUnit.objects.exists()  # not even the good rows
    assert HsaImport.objects.get().applied is False


def test_command_prints_the_report_and_fails_on_broken_files(capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("import_hsa_file", str(DATA / "export-day1.ldif"))
    assert "nya 5" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        call_command("import_hsa_file", str(DATA / "broken.ldif"))
    assert "Felaktig" in capsys.readouterr().out


def test_dry_run_saves_nothing() -> None:
    report = import_file(DATA / "export-day1.ldif", dry_run=True)
    assert len(report.new) == 5 and not report.applied
    assert not HsaUnit.objects.exists()
