from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "brygga.access"
    label = "access"
    verbose_name = "Åtkomst och logg"
