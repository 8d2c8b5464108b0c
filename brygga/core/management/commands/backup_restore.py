"""manage.py backup_restore FOLDER: restore a backup_create folder into an empty, migrated installation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brygga.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Återställ en säkerhetskopia (databas och filer) i en tom, migrerad installation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="mappen som backup_create skrev")

    def handle(self, *args: Any, folder: Path, **options: Any) -> None:
        try:
            manifest = restore_backup(folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Återställd: databasen och {len(manifest['files'])} filer från {folder}.")
