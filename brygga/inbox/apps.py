from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "brygga.inbox"
    label = "inbox"
    verbose_name = "Inkorg"
