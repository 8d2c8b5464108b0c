from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class OrganisationsConfig(AppConfig):
    name = "brygga.organisations"
    label = "organisations"
    verbose_name = "Organisationer"

    def ready(self) -> None:
        from brygga.core import jinja
        from brygga.organisations import directory
        from brygga.organisations.models import Municipality, Site, Unit

        # A change made in this process shows in the next page at once; other processes within the TTL.
        for model in (Unit, Municipality, Site):
            uid = f"unit-directory-{model.__name__}"
            post_save.connect(directory.forget, sender=model, dispatch_uid=uid)
            post_delete.connect(directory.forget, sender=model, dispatch_uid=uid)
        from brygga.organisations.templatetags.unit_pickers import JINJA_GLOBALS

        jinja.register(JINJA_GLOBALS)
