from django.urls import path

from brygga.deviations import views

app_name = "deviations"

urlpatterns = [
    path("", views.deviation_list, name="list"),
    path("ny/", views.deviation_new, name="new"),
    path("oversikt/", views.overview, name="overview"),
    path("<str:number>/", views.deviation_detail, name="detail"),
    path("<str:number>/steg/", views.deviation_step, name="step"),
]
