from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "brygga.statistics"
    label = "statistics"
    verbose_name = "Processtatistik"
