from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Gallring: delete the records whose retention period has run out (files too), except those under a "
        "legal hold, and log each deletion. Schedule nightly, e.g. "
        "`30 2 * * * cd /srv/brygga && .venv/bin/python manage.py apply_retention --enqueue`."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Run in the background worker (django-tasks)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from brygga.retention.tasks import apply_retention_task

            result = apply_retention_task.enqueue()
            self.stdout.write(f"Enqueued retention job {result.id}.")
            return
        from brygga.retention.services import apply_retention

        outcome = apply_retention(dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        for kind in sorted(set(outcome.deleted) | set(outcome.held)):
            self.stdout.write(
                f"{kind}: {verb} {outcome.deleted[kind]}, kept under legal hold {outcome.held[kind]}"
            )
        self.stdout.write(
            f"Files {verb}: {outcome.files}" if not options["dry_run"] else "Dry run: nothing deleted."
        )
