from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "brygga.core"
    label = "core"
    verbose_name = "Kärna"
