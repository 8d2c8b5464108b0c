"""House-keeping of the documents storage: files that no row refers to.

A file is written before its row is committed (the storage is not transactional). When the surrounding
transaction rolls back after the write, the file is left behind without a row. ``orphaned_files`` finds
them, ``remove_orphans`` deletes those older than a grace period (so a transaction still in flight keeps
its file). Run daily: ``manage.py clean_document_storage``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

from brygga.documents.models import Attachment, BackupSnapshot, DocumentVersion, document_storage

PREFIXES = ("bilagor", "signerade", "reserv")


def _walk(prefix: str) -> Iterator[str]:
    storage = document_storage()
    if not storage.exists(prefix):
        return
    directories, files = storage.listdir(prefix)
    for name in files:
        yield f"{prefix}/{name}"
    for directory in directories:
        yield from _walk(f"{prefix}/{directory}")


def referenced_names() -> set[str]:
    names: set[str] = set()
    names.update(Attachment.objects.values_list("file", flat=True))
    names.update(DocumentVersion.objects.values_list("pdf", flat=True))
    names.update(BackupSnapshot.objects.values_list("file", flat=True))
    return names


def orphaned_files() -> list[str]:
    referenced = referenced_names()
    return [name for prefix in PREFIXES for name in _walk(prefix) if name not in referenced]


def remove_orphans(grace: dt.timedelta = dt.timedelta(hours=1), now: dt.datetime | None = None) -> list[str]:
    storage = document_storage()
    cutoff = (now or timezone.now()) - grace
    removed = []
    for name in orphaned_files():
        try:
            modified = storage.get_modified_time(name)
        except (NotImplementedError, OSError):
            continue
        if modified < cutoff:
            storage.delete(name)
            removed.append(name)
    return removed
