from django.urls import path

from brygga.cases import views

app_name = "cases"

urlpatterns = [
    path("nytt/", views.new_case, name="new"),
    path("<int:case_id>/", views.detail, name="detail"),
    path("<int:case_id>/sammanfattning/", views.patient_summary, name="patient_summary"),
    path("<int:case_id>/<slug:name>/", views.action, name="action"),
]
