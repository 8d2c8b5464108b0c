from django.urls import path

from brygga.signin import views

app_name = "signin"

urlpatterns = [
    path("oidc/", views.oidc_start, name="oidc_start"),
    path("oidc/callback/", views.oidc_callback, name="oidc_callback"),
    path("oidc/backchannel-logout/", views.oidc_backchannel_logout, name="oidc_backchannel_logout"),
    path("logga-ut/", views.logout_view, name="logout"),
]
