from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "brygga.consent"
    label = "consent"
    verbose_name = "Samtycke och menprövning"
