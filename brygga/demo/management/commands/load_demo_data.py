from django.core.management.base import BaseCommand

from brygga.demo.services import load_demo_data


class Command(BaseCommand):
    help = "Load demo personas and persons (test identity numbers only). Idempotent."

    def handle(self, *args: object, **options: object) -> None:
        report = load_demo_data()
        self.stdout.write(f"Demodata: {report.users} användare, {report.persons} personer.")
