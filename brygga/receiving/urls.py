from django.urls import path

from brygga.receiving import views

app_name = "receiving"

urlpatterns = [
    path("", views.preferences, name="preferences"),
]
