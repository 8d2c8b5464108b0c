from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "brygga.web"
    label = "web"
    verbose_name = "Webb"
