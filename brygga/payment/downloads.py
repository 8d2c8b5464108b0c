"""The invoice basis as a download built by the background worker (issue 17 item 4, ADR 0204).

The basis of the largest municipality (about 3,000 lines) takes about a second to build as a spreadsheet and
longer as a PDF; built in the request it held one of the server's two workers that long. A small run is still
built in the request (`INLINE_LINES`); a larger one is requested (`request_export`), built by the worker
(`build_export`) into the documents storage with its progress on the row, and downloaded from there.

Requests are idempotent: one file per run, format and run status (a closed run's summary says "stängd"), so a
double click, a second user or a retry finds the same file. A build that was cut off (the worker killed) is
started again by the next request once it has been quiet for `STALE_AFTER`; a finished file is never rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import tempfile

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from brygga.accounts.context import Actor
from brygga.core.errors import NotFound
from brygga.documents.models import document_storage
from brygga.payment import exports, services
from brygga.payment.models import ExportFile, SettlementRun

log = logging.getLogger(__name__)

# Runs up to this many lines are built in the request: a few hundred lines take a few milliseconds.
INLINE_LINES = 500
# A build not heard from for this long is taken to be dead (its worker was killed) and may be started again.
STALE_AFTER = dt.timedelta(minutes=10)
FORMATS = tuple(exports.WRITERS)


def builds_inline(run: SettlementRun, line_count: int | None = None) -> bool:
    count = run.lines.count() if line_count is None else line_count
    return count <= INLINE_LINES


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise NotFound


def current_export(run: SettlementRun, fmt: str) -> ExportFile | None:
    """The file of this run, format and run status, if one was requested."""
    return ExportFile.objects.filter(run=run, fmt=fmt, run_status=run.status).first()


def open_export(actor: Actor, run_id: int | str, export_id: int | str) -> ExportFile:
    """An export of a run the actor may see (through `services.open_run`), else NotFound."""
    run = services.open_run(actor, run_id)
    try:
        pk = int(export_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    export = ExportFile.objects.filter(pk=pk, run=run).select_related("run__municipality").first()
    if export is None:
        raise NotFound
    return export


def _stale(export: ExportFile) -> bool:
    return export.status in (ExportFile.Status.QUEUED, ExportFile.Status.RUNNING) and (
        timezone.now() - export.updated_at > STALE_AFTER
    )


def request_export(actor: Actor, run_id: int | str, fmt: str) -> ExportFile:
    """Ask the worker for the run's basis as ``fmt``. Returns the existing file when there is one (done, or
    being built); starts a failed or dead build again."""
    run = services.open_run(actor, run_id)
    _check_format(fmt)
    with transaction.atomic():
        export = current_export(run, fmt)
        if export is None:
            try:
                with transaction.atomic():
                    export = ExportFile.objects.create(
                        run=run,
                        fmt=fmt,
                        run_status=run.status,
                        requested_by=actor.user,
                        rows_total=run.lines.count(),
                    )
            except IntegrityError:  # a simultaneous request created it first: that one is ours too
                winner = current_export(run, fmt)
                if winner is None:  # the other request rolled back after all
                    raise
                return winner
        elif export.status == ExportFile.Status.FAILED or _stale(export):
            ExportFile.objects.filter(pk=export.pk).update(
                status=ExportFile.Status.QUEUED, rows_done=0, error="", updated_at=timezone.now()
            )
            export.refresh_from_db()
        else:
            return export
        export_id = export.pk
        transaction.on_commit(lambda: _enqueue(export_id))
    return export


def _enqueue(export_id: int) -> None:
    # The task module imports this one; the task is looked up when a request commits, not at import.
    from brygga.payment.tasks import build_export_task

    build_export_task.enqueue(export_id)


def build_export(export_id: int) -> ExportFile | None:
    """Build one requested file (the worker's task). Safe to run again: a finished file is left as it is, and
    a build cut off half-way leaves no file behind that the row points to (the row is marked done, with the
    stored name, only after the whole file is stored)."""
    export = ExportFile.objects.filter(pk=export_id).select_related("run__municipality").first()
    if export is None or export.status == ExportFile.Status.DONE:
        return export
    ExportFile.objects.filter(pk=export_id).update(
        status=ExportFile.Status.RUNNING, rows_done=0, updated_at=timezone.now()
    )

    def progress(done: int) -> None:
        # Outside any transaction, so the page polling the progress sees it at once.
        ExportFile.objects.filter(pk=export_id).update(rows_done=done, updated_at=timezone.now())

    try:
        with tempfile.TemporaryFile() as scratch:
            exports.WRITERS[export.fmt](export.run, scratch, progress)  # type: ignore[arg-type]
            size = scratch.tell()
            scratch.seek(0)
            digest = hashlib.sha256()
            for chunk in iter(lambda: scratch.read(1 << 16), b""):
                digest.update(chunk)
            scratch.seek(0)
            key = f"payment-exports/{timezone.now():%Y/%m}/{secrets.token_hex(16)}"
            stored = document_storage().save(key, File(scratch))
    except Exception as exc:
        log.exception("invoice basis export %s failed", export_id)
        ExportFile.objects.filter(pk=export_id).update(
            status=ExportFile.Status.FAILED, error=str(exc)[:500], updated_at=timezone.now()
        )
        raise
    ExportFile.objects.filter(pk=export_id).update(
        status=ExportFile.Status.DONE,
        storage_name=stored,
        size=size,
        sha256=digest.hexdigest(),
        rows_done=export.rows_total,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    export.refresh_from_db()
    return export


def open_stored(export: ExportFile) -> File:
    if export.status != ExportFile.Status.DONE or not export.storage_name:
        raise NotFound
    return document_storage().open(export.storage_name, "rb")
