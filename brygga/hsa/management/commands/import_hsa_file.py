"""Import HSA's daily full file export (LDIF) into brygga's catalogue (ADR 0503); prints the change report."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from brygga.hsa.importer import import_file


class Command(BaseCommand):
    help = "Läs in HSA-katalogens filexport (LDIF): nya, ändrade och stängda enheter. Allt eller inget."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="visa rapporten utan att spara")
        parser.add_argument("--json", action="store_true", help="rapporten som JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        report = import_file(options["file"], dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
        else:
            self.stdout.write(
                f"nya {len(report.new)}, ändrade {len(report.changed)}, stängda {len(report.closed)}, "
                f"återöppnade {len(report.reopened)}, oförändrade {report.unchanged}"
            )
            for p in report.problems:
                self.stdout.write(f"rad {p['line']}: {p['dn']}: {p['field']}: {p['message']} ({p['rule']})")
        if report.problems:
            self.stderr.write("Inget lästes in: filen har fel (se ovan).")
            raise SystemExit(1)
