"""Issue 20 item 7: backup and restore of the database and the stored files together, and a check of every
stored file against its recorded SHA-256 (brygga.core.backup, ADR 0805, docs/operations.md section 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.core.backup import (
    FILE_DIGESTS,
    BackupError,
    check_backup,
    create_backup,
    file_fields,
    restore_backup,
)
from brygga.documents import attachments, backup, signed
from tests.factories import WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_every_file_field_is_known_to_backup_and_verify() -> None:
    """A new kind of stored file must say where its SHA-256 is recorded (or that none is)."""
    assert {(model._meta.label, f.name) for model, f in file_fields()} == set(FILE_DIGESTS)


def _files(isolated_documents: Path):  # type: ignore[no-untyped-def]
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.OTHER, "test:backup")
    attachment = attachments.add_attachment(
        nurse, person.pk, "person", str(person.pk), ContentFile(PDF, "a.pdf")
    )
    version = signed.create_document(nurse, person.pk, "person", str(person.pk), "Epikris", "Text.")
    signed.sign_version(nurse, version.pk)
    snapshot = backup.produce_snapshot(unit(WARD))
    version.refresh_from_db()
    return attachment, version, snapshot


def test_verify_files_finds_every_file_intact_then_reports_a_changed_and_a_missing_one(
    isolated_documents,
) -> None:  # type: ignore[no-untyped-def]
    attachment, version, snapshot = _files(isolated_documents)
    call_command("verify_files", stdout=open(os.devnull, "w"))  # noqa: SIM115 - all intact: no error
    storage = storages["documents"]
    with open(storage.path(attachment.file.name), "ab") as handle:
        handle.write(b"x")  # changed behind brygga's back
    storage.delete(snapshot.file.name)  # lost
    with pytest.raises(CommandError, match="2 av 3 filer"):
        call_command("verify_files", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from brygga.core.backup import verify_files

    report = verify_files()
    assert report.checked == 3
    assert sorted((p.what, p.name) for p in report.problems) == sorted(
        [("changed", attachment.file.name), ("missing", snapshot.file.name)]
    )


def test_a_backup_refuses_to_restore_over_data_or_when_it_was_changed(
    isolated_documents, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    attachment, _version, _snapshot = _files(isolated_documents)
    folder = tmp_path / "kopia"
    manifest = create_backup(folder)
    assert manifest["missing"] == [] and len(manifest["files"]) == 3
    with pytest.raises(BackupError, match="empty installation"):
        restore_backup(folder)
    copy = folder / "files" / "documents" / attachment.file.name
    copy.write_bytes(copy.read_bytes() + b"x")
    with pytest.raises(BackupError, match="does not match its manifest"):
        check_backup(folder)


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def _rows(folder: Path) -> list[dict[str, object]]:
    return sorted(
        json.loads((folder / "database.json").read_text()), key=lambda r: json.dumps(r, sort_keys=True)
    )


def test_backup_restores_into_a_fresh_installation_identically(isolated_documents, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Rows and files into an empty database and an empty folder (a new installation with the same keys); a
    backup of the restored installation holds the same rows and the same files, byte for byte."""
    _files(isolated_documents)
    first = tmp_path / "kopia"
    create_backup(first)

    fresh = tmp_path / "ny"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{fresh / 'db.sqlite3'}",
        "BRYGGA_VAR_DIR": str(fresh / "var"),
        "BRYGGA_DOCUMENT_STORAGE_OPTIONS": json.dumps({"location": str(fresh / "documents")}),
        # The same keys as the installation the backup came from (docs/operations.md: kept with the backup).
        "BRYGGA_SECRET_KEY": settings.SECRET_KEY,
        "BRYGGA_ACCESS_LOG_KEY": settings.BRYGGA_ACCESS_LOG_KEY,
        "BRYGGA_ACCESS_LOG_ANCHOR": "",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    fresh.mkdir()
    _manage(env, "migrate", "--noinput", "-v0")
    assert "3 filer" in _manage(env, "backup_restore", str(first))
    assert "Alla 3 filer" in _manage(env, "verify_files")
    second = tmp_path / "kopia-av-aterstallda"
    _manage(env, "backup_create", str(second))

    one = json.loads((first / "manifest.json").read_text())
    two = json.loads((second / "manifest.json").read_text())
    assert two["files"] == one["files"]
    assert _rows(second) == _rows(first)
    for entry in one["files"]:
        restored = fresh / "documents" / entry["name"]
        assert restored.read_bytes() == (first / "files" / "documents" / entry["name"]).read_bytes()


def test_a_backup_keeps_the_microseconds_of_every_time(isolated_documents, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Django's JSON encoder cuts times to milliseconds: a time of .000500 came back from a restore as .000000
    (and a later backup then differed from the first one). The backup's dump keeps them exactly."""
    import datetime as dt

    from brygga.organisations.models import PopulationFigure

    figure = PopulationFigure.objects.order_by("pk").first()
    assert figure is not None
    exact = dt.datetime(2026, 1, 2, 3, 4, 5, 500, tzinfo=dt.UTC)
    PopulationFigure.objects.filter(pk=figure.pk).update(imported_at=exact)
    create_backup(tmp_path / "kopia")
    rows = json.loads((tmp_path / "kopia" / "database.json").read_text())
    times = [
        r["fields"]["imported_at"]
        for r in rows
        if r["model"] == "organisations.populationfigure"
        and r["fields"]["year"] == figure.year
        and r["fields"]["population"] == figure.population
    ]
    assert "2026-01-02T03:04:05.000500Z" in times
