from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "brygga.messaging"
    label = "messaging"
    verbose_name = "Meddelanden och trådar"
