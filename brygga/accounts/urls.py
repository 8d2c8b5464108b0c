from django.urls import path

from brygga.accounts import views

app_name = "accounts"

urlpatterns = [
    path("logga-in/", views.login_view, name="login"),
    path("tvafaktor/", views.totp_view, name="totp"),
    path("tvafaktor/aktivera/", views.totp_setup_view, name="totp_setup"),
]
