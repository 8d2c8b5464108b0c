from django.urls import path

from brygga.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("enhet/", views.choose_unit, name="choose_unit"),
    path("personer/sok/", views.person_lookup, name="person_lookup"),
    path("personer/<int:person_id>/", views.person_detail, name="person_detail"),
    path("personer/ny/", views.person_new, name="person_new"),
    path("personer/<int:person_id>/folkbokforing/", views.person_refresh, name="person_refresh"),
    path("personer/<int:person_id>/visa-skyddat/", views.person_reveal, name="person_reveal"),
    path("organisation/kommuner/", views.municipalities, name="municipalities"),
    path("organisation/enheter/", views.units, name="units"),
    path("organisation/enheter/sok/", views.unit_search, name="unit_search"),
]
