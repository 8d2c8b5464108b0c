from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "brygga.retention"
    label = "retention"
    verbose_name = "Gallring"

    def ready(self) -> None:
        from brygga.retention.kinds import builtin_kinds
        from brygga.retention.rules import register_kind

        for kind in builtin_kinds():
            register_kind(kind)
