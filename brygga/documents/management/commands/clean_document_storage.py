"""Delete files in the documents storage that no attachment, document version or snapshot refers to."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandParser

from brygga.documents.storage import orphaned_files, remove_orphans


class Command(BaseCommand):
    help = "Remove orphaned files (older than the grace period) from the documents storage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only list the orphaned files")
        parser.add_argument("--grace-minutes", type=int, default=60)

    def handle(self, *args: object, **options: object) -> None:
        if options["dry_run"]:
            for name in orphaned_files():
                self.stdout.write(name)
            return
        removed = remove_orphans(dt.timedelta(minutes=int(options["grace_minutes"])))  # type: ignore[call-overload]
        self.stdout.write(f"{len(removed)} föräldralösa filer borttagna.")
