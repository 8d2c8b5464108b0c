from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "brygga.governance"
    label = "governance"
    verbose_name = "Förvaltning och styrning"
