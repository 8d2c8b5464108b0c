from django.apps import AppConfig


class EconomyConfig(AppConfig):
    name = "brygga.economy"
    label = "economy"
    verbose_name = "Ekonomi"
