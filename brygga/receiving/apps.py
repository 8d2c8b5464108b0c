from django.apps import AppConfig


class ReceivingConfig(AppConfig):
    name = "brygga.receiving"
    label = "receiving"
    verbose_name = "Mottagande enheter"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from brygga.cases.models import CaseEvent
        from brygga.cases.signals import events_recorded
        from brygga.cases.views import extend_case_page
        from brygga.receiving import case_page, notify

        # The receiving side's part of the case page and its two actions (the cases app sits below this one).
        extend_case_page(case_page.page_context, case_page.ACTIONS)

        # Every state change of a case is a CaseEvent written by a service (ADR 0100); listening here keeps
        # the cases app unaware of notifications. The batch ingest writes its events with bulk_create (no
        # post_save) and announces them with events_recorded(bulk=True): notified set-based.
        post_save.connect(notify.on_case_event, sender=CaseEvent, dispatch_uid="receiving-notify")
        events_recorded.connect(notify.on_events_recorded, dispatch_uid="receiving-notify-batch")
