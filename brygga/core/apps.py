from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "brygga.core"
    label = "core"
    verbose_name = "Kärna"

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from brygga.core.limits import guard_char_lengths

        # Every brygga model: a CharField longer than its column is refused with TEXT-LANGD, never cut.
        def guard(sender, instance, **kwargs):  # type: ignore[no-untyped-def]
            if sender.__module__.startswith("brygga."):
                guard_char_lengths(sender, instance, **kwargs)

        pre_save.connect(guard, weak=False, dispatch_uid="brygga.core.guard_char_lengths")
