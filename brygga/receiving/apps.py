from django.apps import AppConfig


class ReceivingConfig(AppConfig):
    name = "brygga.receiving"
    label = "receiving"
    verbose_name = "Mottagande enheter"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from brygga.cases.models import CaseEvent
        from brygga.cases.views import extend_case_page
        from brygga.receiving import case_page, notify

        # The receiving side's part of the case page and its two actions (the cases app sits below this one).
        extend_case_page(case_page.page_context, case_page.ACTIONS)

        # Every state change of a case is a CaseEvent written by a service (ADR 0100); listening here keeps
        # the cases app unaware of notifications. Bulk ingest (bulk_create) sends no signal,
        # so it notifies nobody.
        post_save.connect(notify.on_case_event, sender=CaseEvent, dispatch_uid="receiving-notify")
