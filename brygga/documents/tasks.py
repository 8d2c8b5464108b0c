"""Background tasks of the documents app (django-tasks; run by `manage.py db_worker`).

The backup snapshots are scheduled: cron (or the platform's scheduler) runs
`manage.py produce_backup_snapshots --enqueue` every few hours (docs/documents.md shows the crontab)."""

from __future__ import annotations

from django_tasks import task

from brygga.documents.backup import produce_all_snapshots
from brygga.documents.delivery import deliver_pending


@task()
def produce_backup_snapshots_task() -> int:
    """Produce an encrypted snapshot for every unit with active involvements; returns how many."""
    return produce_all_snapshots()


@task()
def deliver_backup_copies_task() -> int:
    """Retry the reserve copies not yet delivered to their units' servers; returns how many went out."""

    return deliver_pending()[0]
