from django.urls import path

from brygga.fhir import pages

app_name = "fhir_pages"

urlpatterns = [
    path("", pages.deliveries, name="deliveries"),
    path("<int:subscription_id>/forsok-igen", pages.retry, name="retry"),
]
