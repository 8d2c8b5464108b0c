from django.apps import AppConfig


class HsaConfig(AppConfig):
    name = "brygga.hsa"
    verbose_name = "HSA-katalogen"
    default_auto_field = "django.db.models.BigAutoField"
