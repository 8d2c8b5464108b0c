from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "brygga.documents"
    label = "documents"
    verbose_name = "Dokument, bilagor och signering"
