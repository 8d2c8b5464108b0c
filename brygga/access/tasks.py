"""Background tasks of the access log (django-tasks; run by `manage.py db_worker`).

Sealing is scheduled: cron (or the platform's scheduler) runs `manage.py seal_access_log` every minute,
or `manage.py seal_access_log --enqueue` to hand it to the worker. docs/operations.md shows the crontab."""

from __future__ import annotations

from django_tasks import task

from brygga.access.services import seal_access_log


@task()
def seal_access_log_task() -> dict[str, int] | None:
    """Seal the entries written since the last seal; returns what was sealed (None when nothing new)."""
    seal = seal_access_log()
    if seal is None:
        return None
    return {
        "sequence": seal.sequence,
        "first_id": seal.first_id,
        "last_id": seal.last_id,
        "entry_count": seal.entry_count,
    }
