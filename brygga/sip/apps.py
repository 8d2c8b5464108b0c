from django.apps import AppConfig


class SipConfig(AppConfig):
    name = "brygga.sip"
    label = "sip"
    verbose_name = "SIP, öppenvård och samtycke"

    def ready(self) -> None:
        from brygga.messaging.services import register_subject
        from brygga.sip.messaging import CareRequestSubject, SipSubject
        from brygga.sip.models import CareRequest, Sip

        # the threads of a SIP and of a care request (the messaging app sits below this one)
        register_subject(Sip, SipSubject)
        register_subject(CareRequest, CareRequestSubject)
