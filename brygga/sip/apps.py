from django.apps import AppConfig


class SipConfig(AppConfig):
    name = "brygga.sip"
    label = "sip"
    verbose_name = "SIP, öppenvård och samtycke"
