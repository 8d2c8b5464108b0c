"""Background delivery of notifications (django-tasks; run by `manage.py db_worker`). Enqueued after a case
event queues notifications; `manage.py deliver_notifications` is the sweep for cron (digests, retries and
escalations)."""

from __future__ import annotations

from django_tasks import task

from brygga.receiving.notify import deliver_due, prune_notifications


@task()
def deliver_notifications() -> dict[str, int]:
    return deliver_due()


@task()
def prune_notifications_task() -> dict[str, int]:
    """Delete notifications delivered more than BRYGGA_NOTIFICATION_RETENTION_DAYS ago (ADR 0907)."""
    return prune_notifications()
