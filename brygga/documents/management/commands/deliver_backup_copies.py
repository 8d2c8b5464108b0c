from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Send the reserve copies that are due (new, or failed and due for a retry) to the units' SFTP "
        "servers. "
        "Schedule every few minutes, e.g. `*/10 * * * * … manage.py deliver_backup_copies --enqueue`."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--enqueue", action="store_true", help="Run in the background worker (django-tasks)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from brygga.documents.tasks import deliver_backup_copies_task

            self.stdout.write(f"Enqueued delivery {deliver_backup_copies_task.enqueue().id}.")
            return
        from brygga.documents.delivery import deliver_pending

        delivered, failed = deliver_pending()
        self.stdout.write(f"Delivered {delivered}, failed {failed} (retried later).")
