from django.core.management.base import BaseCommand

from brygga.organisations.services import load_reference_data


class Command(BaseCommand):
    help = "Load the Västra Götaland organisation registry (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        report = load_reference_data()
        self.stdout.write(
            f"Referensdata: {report.organisations} organisationer, {report.municipalities} kommuner, "
            f"{report.units} enheter, {report.population_figures} folkmängdsuppgifter."
        )
