"""Background tasks of governance (django-tasks; run by `manage.py db_worker`).

Starting a consultation enqueues a reminder run for the day the reminder window opens (when the backend can
defer tasks); `manage.py send_consultation_reminders` is the daily sweep for cron. Reminding is idempotent."""

from __future__ import annotations

from django_tasks import task

from brygga.governance.services import remind_due


@task()
def send_consultation_reminders() -> int:
    """Remind every recipient who has not answered an open consultation due within the reminder window."""
    return remind_due()
