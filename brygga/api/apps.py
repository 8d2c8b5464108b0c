from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "brygga.api"
    label = "api"
    verbose_name = "API"
