from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "brygga.signin"
    verbose_name = "SITHS-inloggning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from brygga.signin.signals import end_idp_session_on_logout

        user_logged_out.connect(end_idp_session_on_logout, dispatch_uid="brygga-signin-logout")
