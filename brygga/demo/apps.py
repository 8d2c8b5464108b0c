from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "brygga.demo"
    label = "demo"
    verbose_name = "Demodata"
