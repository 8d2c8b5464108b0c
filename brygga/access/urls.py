from django.urls import path

from brygga.access import views

app_name = "access"

urlpatterns = [
    path("", views.log_search, name="log_search"),
    path("granskning/", views.record_review, name="record_review"),
    path("granskningar/", views.reviews, name="reviews"),
    path("utdrag/", views.log_extract, name="log_extract"),
]
