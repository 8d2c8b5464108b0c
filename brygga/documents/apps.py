from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _

# Owners in other apps, registered when those apps and models exist: (type, label, app, model, path to the
# person). The owning app may replace a registration with its own check.
_KNOWN_OWNERS = [
    ("case", _("Ärende"), "cases", "Case", "person"),
    ("message", _("Meddelande"), "messaging", "Message", "thread__person"),
    ("sip", _("SIP"), "sip", "Sip", "person"),
    ("sip_plan", _("Fastställd SIP"), "sip", "Sip", "person"),
    ("care_request", _("Vårdbegäran"), "sip", "CareRequest", "person"),
]


def _owner_check(model, person_path: str):  # type: ignore[no-untyped-def]
    def check(person, owner_id: str) -> bool:  # type: ignore[no-untyped-def]
        return owner_id.isdecimal() and model.objects.filter(pk=owner_id, **{person_path: person}).exists()

    return check


class DocumentsConfig(AppConfig):
    name = "brygga.documents"
    label = "documents"
    verbose_name = "Dokument, bilagor och signering"

    def ready(self) -> None:
        from brygga.documents.owners import register_owner

        for owner_type, label, app_label, model_name, person_path in _KNOWN_OWNERS:
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError:
                continue
            register_owner(owner_type, label, _owner_check(model, person_path))
