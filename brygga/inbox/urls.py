from django.urls import path

from brygga.inbox import views

# Included by brygga.urls at /arenden/ within the "cases" namespace, so the inbox stays ``cases:inbox``.
urlpatterns = [
    path("", views.inbox, name="inbox"),
]
