from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "brygga.people"
    label = "people"
    verbose_name = "Personer"
