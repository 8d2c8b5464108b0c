"""Backup and restore of the database and the stored files together, and a check of every stored file against
its recorded SHA-256 (issue 20 item 7, ADR 0805, docs/operations.md).

A backup is a folder:

- ``database.json`` — every row (``dumpdata`` with natural keys), read in one transaction (REPEATABLE READ on
  PostgreSQL), so it is one consistent moment;
- ``files/<storage alias>/<name>`` — every file a row of that moment refers to (attachments, signed PDFs,
  backup snapshots and their deliveries), copied inside the same transaction. A stored file is never changed
  in place: a change (one more signature) writes a new name and deletes the old file after it commits. A
  backup that meets such a deletion (a file its rows name is gone) starts again, up to three times;
- ``manifest.json`` — the SHA-256 and size of the dump and of every file, and the migration state.

``restore`` refuses anything but an empty installation (migrated, no persons, no users, no stored files) and a
backup whose manifest does not match its content; then it loads the rows and writes each file back under its
own name."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage, storages
from django.core.management import call_command
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.functional import LazyObject, empty

FORMAT = 1
DUMP = "database.json"
MANIFEST = "manifest.json"
FILES = "files"
CHUNK = 1024 * 1024

# Every FileField in brygga and the field that records its content's SHA-256 (None: nothing recorded; the file
# is still backed up and checked against the backup's manifest). tests/test_backup.py fails for a FileField
# missing here, so a new kind of stored file cannot be left out of backup and verify.
FILE_DIGESTS: dict[tuple[str, str], str | None] = {
    ("documents.Attachment", "file"): "sha256",
    ("documents.DocumentVersion", "pdf"): "sha256",
    ("documents.BackupSnapshot", "file"): "sha256",
    ("documents.BackupDelivery", "payload"): None,
}

# Rows the installation makes itself on migrate (content types, permissions) are matched by natural key.
EXCLUDED = ["contenttypes", "auth.permission", "sessions", "admin.logentry"]


class BackupError(Exception):
    pass


def sha256_of(handle: Any) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def file_fields() -> list[tuple[type[models.Model], models.FileField]]:
    return [
        (model, f)
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if isinstance(f, models.FileField)
    ]


def storage_alias(storage: Storage) -> str:
    """The STORAGES alias of a field's storage (the manifest names files by alias, not by location)."""
    if isinstance(storage, LazyObject):  # documents' storage and default_storage resolve on first use
        if storage._wrapped is empty:
            storage._setup()
        storage = storage._wrapped
    for alias in settings.STORAGES:
        if storages[alias] is storage:
            return alias
    raise BackupError(f"no STORAGES alias for {storage!r}")


def file_storage_aliases() -> set[str]:
    return {storage_alias(f.storage) for _model, f in file_fields()}


@dataclass
class StoredFile:
    model: str
    pk: Any
    field: str
    alias: str
    name: str
    recorded_sha256: str | None


def stored_files() -> Iterator[StoredFile]:
    """Every file a row refers to, with the digest the row recorded."""
    for model, f in file_fields():
        label = model._meta.label
        digest_field = FILE_DIGESTS.get((label, f.name))
        columns = ["pk", f.name] + ([digest_field] if digest_field else [])
        for row in model._default_manager.exclude(**{f.name: ""}).values_list(*columns).order_by("pk"):
            yield StoredFile(
                label, row[0], f.name, storage_alias(f.storage), row[1], row[2] if digest_field else None
            )


@dataclass
class Problem:
    name: str
    what: str  # "missing", "changed", "no-digest"
    detail: str = ""


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)


def verify_files() -> VerifyReport:
    """Each stored file a row refers to exists and has the SHA-256 the row recorded."""
    report = VerifyReport()
    for item in stored_files():
        report.checked += 1
        storage = storages[item.alias]
        if not storage.exists(item.name):
            report.problems.append(Problem(item.name, "missing", f"{item.model} {item.pk}"))
            continue
        if item.recorded_sha256 is None:
            continue
        with storage.open(item.name, "rb") as handle:
            digest, _size = sha256_of(handle)
        if digest != item.recorded_sha256:
            report.problems.append(
                Problem(item.name, "changed", f"{item.model} {item.pk}: {digest} ≠ {item.recorded_sha256}")
            )
    return report


def _applied_migrations() -> list[str]:
    return sorted(f"{a}.{n}" for a, n in MigrationRecorder(connection).applied_migrations())


def create_backup(target: Path, attempts: int = 3) -> dict[str, Any]:
    """Write a consistent backup of the database and its files into ``target`` (which must not exist or be
    empty). Returns the manifest; files the rows name but the storage lacks are listed under ``missing``."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    for attempt in range(attempts):
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        manifest = _create_once(target)
        if not manifest["missing"] or attempt == attempts - 1:
            return manifest
    raise AssertionError("unreachable")  # pragma: no cover


def _create_once(target: Path) -> dict[str, Any]:
    dump = io.StringIO()
    entries, missing = [], []
    # One snapshot for every table read below. (Inside a caller's transaction, that transaction's snapshot.)
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        call_command(
            "dumpdata",
            natural_foreign=True,
            natural_primary=True,
            exclude=EXCLUDED,
            format="json-exact",  # brygga.core.serializers: times with their microseconds
            indent=1,
            stdout=dump,
        )
        migrations = _applied_migrations()
        for item in stored_files():
            storage = storages[item.alias]
            destination = target / FILES / item.alias / item.name
            if not storage.exists(item.name):
                missing.append(item.name)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            with storage.open(item.name, "rb") as source, destination.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            with destination.open("rb") as handle:
                digest, size = sha256_of(handle)
            entries.append({"storage": item.alias, "name": item.name, "sha256": digest, "size": size})
    (target / DUMP).write_text(dump.getvalue(), encoding="utf-8")
    with (target / DUMP).open("rb") as handle:
        dump_sha, dump_size = sha256_of(handle)
    manifest = {
        "format": FORMAT,
        "database": {"vendor": connection.vendor, "file": DUMP, "sha256": dump_sha, "size": dump_size},
        "migrations": migrations,
        "files": sorted(entries, key=lambda e: (e["storage"], e["name"])),
        "missing": sorted(missing),
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def check_backup(source: Path) -> dict[str, Any]:
    """The manifest, after checking that the dump and every file in the backup are as recorded."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable {MANIFEST} in {source}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    wrong = []
    with (source / manifest["database"]["file"]).open("rb") as handle:
        if sha256_of(handle)[0] != manifest["database"]["sha256"]:
            wrong.append(DUMP)
    for entry in manifest["files"]:
        path = source / FILES / entry["storage"] / entry["name"]
        if not path.is_file():
            wrong.append(f"{entry['name']} (missing)")
            continue
        with path.open("rb") as handle:
            if sha256_of(handle)[0] != entry["sha256"]:
                wrong.append(f"{entry['name']} (changed)")
    if wrong:
        raise BackupError("the backup does not match its manifest: " + ", ".join(wrong))
    return manifest


def _installation_is_empty() -> list[str]:
    # By label through the app registry: core sits below the apps whose data it checks (ADR 0009).
    person = apps.get_model("people", "Person")
    user = apps.get_model("accounts", "User")
    reasons = []
    if person.objects.exists():
        reasons.append("the database has persons")
    if user.objects.exists():
        reasons.append("the database has users")
    for alias in sorted(file_storage_aliases()):
        storage = storages[alias]
        dirs, names = storage.listdir("") if storage.exists("") else ([], [])
        if dirs or names:
            reasons.append(f"the storage {alias!r} is not empty")
    return reasons


def restore_backup(source: Path) -> dict[str, Any]:
    """Restore a backup made by ``create_backup`` into an empty, migrated installation."""
    source = Path(source)
    manifest = check_backup(source)
    not_empty = _installation_is_empty()
    if not_empty:
        raise BackupError("restore needs an empty installation: " + "; ".join(not_empty))
    missing_migrations = sorted(set(manifest["migrations"]) - set(_applied_migrations()))
    if missing_migrations:
        raise BackupError("migrate first; not applied here: " + ", ".join(missing_migrations[:10]))
    written: list[tuple[str, str]] = []
    try:
        with transaction.atomic():
            call_command("loaddata", str(source / manifest["database"]["file"]), verbosity=0)
            for entry in manifest["files"]:
                storage = storages[entry["storage"]]
                with (source / FILES / entry["storage"] / entry["name"]).open("rb") as handle:
                    saved = storage.save(entry["name"], File(handle))
                written.append((entry["storage"], saved))
                if saved != entry["name"]:
                    raise BackupError(f"{entry['name']} was stored as {saved}")
    except BaseException:
        for alias, name in written:  # the rows rolled back; the files go too
            storages[alias].delete(name)
        raise
    return manifest
