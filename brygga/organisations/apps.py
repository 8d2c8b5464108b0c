from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "brygga.organisations"
    label = "organisations"
    verbose_name = "Organisationer"
