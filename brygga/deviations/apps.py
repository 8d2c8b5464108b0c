from django.apps import AppConfig


class DeviationsConfig(AppConfig):
    name = "brygga.deviations"
    label = "deviations"
    verbose_name = "Avvikelser i samverkan"
