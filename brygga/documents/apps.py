from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "brygga.documents"
    label = "documents"
    verbose_name = "Dokument, bilagor och signering"

    def ready(self) -> None:
        from brygga.documents.owners import register_owner

        # Owners in the cases app, when it has them. Other apps register their own (SIPs, care requests).
        if apps.is_installed("brygga.cases"):
            try:
                case_model = apps.get_model("cases", "Case")
                message_model = apps.get_model("cases", "Message")
            except LookupError:
                return
            register_owner(
                "case",
                _("Ärende"),
                lambda person, owner_id: (
                    owner_id.isdigit() and case_model.objects.filter(pk=owner_id, person=person).exists()
                ),
            )
            register_owner(
                "message",
                _("Meddelande"),
                lambda person, owner_id: (
                    owner_id.isdigit()
                    and message_model.objects.filter(pk=owner_id, thread__case__person=person).exists()
                ),
            )
