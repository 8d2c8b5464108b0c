"""manage.py backup_create FOLDER: the database and every stored file, consistent, with a SHA-256 manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brygga.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Säkerhetskopiera databasen och alla lagrade filer tillsammans, med SHA-256 för varje fil."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="ny eller tom mapp för säkerhetskopian")

    def handle(self, *args: Any, folder: Path, **options: Any) -> None:
        try:
            manifest = create_backup(folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Säkerhetskopia i {folder}: databasen och {len(manifest['files'])} filer "
            f"(databas sha256 {manifest['database']['sha256'][:16]}…)."
        )
        if manifest["missing"]:
            self.stderr.write(
                f"Saknades i lagringen ({len(manifest['missing'])}): " + ", ".join(manifest["missing"])
            )
            raise CommandError("filer som databasen hänvisar till saknas; kör verify_files")
