"""Background tasks of the documents app (django-tasks; run by `manage.py db_worker`).

The backup snapshots are scheduled: cron (or the platform's scheduler) runs
`manage.py produce_backup_snapshots --enqueue` every few hours (docs/documents.md shows the crontab)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from brygga.documents.backup import produce_all_snapshots
from brygga.documents.delivery import deliver_pending


@task()
def produce_backup_snapshots_task(requested_at: str | None = None) -> int:
    """Produce an encrypted snapshot for every unit with active involvements; returns how many. Retried after
    a crash with the same ``requested_at``, it skips the units whose snapshot that run already made."""
    return produce_all_snapshots(dt.datetime.fromisoformat(requested_at) if requested_at else None)


@task()
def deliver_backup_copies_task() -> int:
    """Retry the reserve copies not yet delivered to their units' servers; returns how many went out."""

    return deliver_pending()[0]
