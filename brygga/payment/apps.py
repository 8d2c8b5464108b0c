from django.apps import AppConfig


class PaymentConfig(AppConfig):
    name = "brygga.payment"
    label = "payment"
    verbose_name = "Betalningsansvar och statistik"
