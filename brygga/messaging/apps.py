from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "brygga.messaging"
    label = "messaging"
    verbose_name = "Meddelanden och trådar"

    def ready(self) -> None:
        from brygga.documents.owners import register_reader
        from brygga.messaging.services import readable_messages

        # a message's attachments are read under the message's own rule (R-SEK-2), not the person's alone
        register_reader("message", readable_messages)
