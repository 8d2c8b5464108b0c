from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "brygga.fhir"
    label = "fhir"
    verbose_name = "FHIR R4"

    def ready(self) -> None:
        # The outbox listens to the cases app's event signal (written in the event's own transaction).
        from brygga.fhir import subscriptions  # noqa: F401
