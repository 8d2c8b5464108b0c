from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "brygga.cases"
    label = "cases"
    verbose_name = "In- och utskrivning"

    def ready(self) -> None:
        from brygga.cases.models import Case
        from brygga.cases.services import CaseSubject, readdress_after_move
        from brygga.cases.templatetags.cases_tags import JINJA_CONTEXT, JINJA_FILTERS, JINJA_GLOBALS
        from brygga.core import jinja
        from brygga.messaging.services import register_subject
        from brygga.people.signals import person_moved

        # a case's message threads: the messaging app, below this one, reaches the case only through this
        register_subject(Case, CaseSubject)
        jinja.register(JINJA_GLOBALS, JINJA_FILTERS, JINJA_CONTEXT)

        # R-INS-7 follows the folkbokföring: a move found by the register refresh re-addresses the open cases
        def readdress(sender, person, user, at, **kwargs):  # type: ignore[no-untyped-def]
            return [event.case_id for event in readdress_after_move(person, user, at=at)]

        person_moved.connect(readdress, weak=False, dispatch_uid="brygga.cases.readdress_after_move")
