"""manage.py verify_files: every stored file a row refers to exists and has the SHA-256 the row recorded."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from brygga.core.backup import verify_files


class Command(BaseCommand):
    help = "Kontrollera varje lagrad fil mot dess sparade SHA-256 (saknade och ändrade filer rapporteras)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_files()
        for problem in report.problems:
            word = {"missing": "SAKNAS", "changed": "ÄNDRAD"}[problem.what]
            self.stdout.write(f"{word}: {problem.name} ({problem.detail})")
        if report.problems:
            raise CommandError(f"{len(report.problems)} av {report.checked} filer saknas eller är ändrade")
        self.stdout.write(f"Alla {report.checked} filer finns och har sin sparade SHA-256.")
