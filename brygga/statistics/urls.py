from django.urls import path

from brygga.statistics import views

app_name = "statistics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("export.csv", views.export_csv, name="export_csv"),
    # Stable public URLs for the open data (Dataportal Väst harvests the DCAT-AP-SE document).
    path("oppna-data/processtatistik.csv", views.open_csv, name="open_csv"),
    path("oppna-data/dcat.jsonld", views.open_dcat, name="open_dcat"),
    path("<slug:level_slug>/<str:key>/", views.area, name="area"),
]
