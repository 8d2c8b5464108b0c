from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "brygga.cases"
    label = "cases"
    verbose_name = "In- och utskrivning"

    def ready(self) -> None:
        from brygga.cases.models import Case
        from brygga.cases.services import CaseSubject
        from brygga.messaging.services import register_subject

        # a case's message threads: the messaging app, below this one, reaches the case only through this
        register_subject(Case, CaseSubject)
