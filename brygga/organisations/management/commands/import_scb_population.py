from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from brygga.core.errors import DomainError
from brygga.organisations.services import import_scb_population


class Command(BaseCommand):
    help = "Import SCB's population table (Folkmängd efter region och år, BE0101) for one year."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV exported from SCB's Statistikdatabasen")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--source", default="", help="Source note stored with the figures")

    def handle(self, *args: object, **options: object) -> None:
        path: Path = options["file"]  # type: ignore[assignment]
        year: int = options["year"]  # type: ignore[assignment]
        source = str(options["source"] or f"SCB BE0101 {year}-12-31 ({path.name})")
        try:
            result = import_scb_population(path.read_bytes(), year, source)
        except FileNotFoundError as exc:
            raise CommandError(f"Filen {path} finns inte.") from exc
        except DomainError as exc:
            raise CommandError("\n".join(f"{p.field}: {p.message} [{p.rule}]" for p in exc.problems)) from exc
        self.stdout.write(
            f"Folkmängd {result.year}: {result.imported} kommuner importerade, "
            f"{result.ignored_regions} rader utanför Västra Götaland hoppades över."
        )
