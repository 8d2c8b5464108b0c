"""Delete notifications delivered more than BRYGGA_NOTIFICATION_RETENTION_DAYS ago and the local SMS adapter's
record of the same age (ADR 0907). For cron, nightly; idempotent. ``--enqueue`` hands it to the worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from brygga.receiving.notify import prune_notifications, retention_days


class Command(BaseCommand):
    help = "Gallra levererade aviseringar äldre än BRYGGA_NOTIFICATION_RETENTION_DAYS dagar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="Lämna jobbet till bakgrundsarbetaren.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from brygga.receiving.tasks import prune_notifications_task

            result = prune_notifications_task.enqueue()
            self.stdout.write(f"enqueued {result.id}")
            return
        counts = prune_notifications()
        self.stdout.write(
            f"notifications={counts['notifications']} sms={counts['sms']} older_than_days={retention_days()}"
        )
