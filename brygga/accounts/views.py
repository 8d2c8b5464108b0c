"""Login in two steps (password, then TOTP when enrolled or required), TOTP enrolment, logout."""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from brygga.accounts.middleware import AUTH_METHOD_KEY
from brygga.accounts.models import AuthMethod, User
from brygga.accounts.services import (
    SIGN_IN_PAUSED,
    login_with_password,
    start_totp_enrolment,
    totp_secret,
    verify_totp,
)
from brygga.core.errors import DomainError, Problem

PENDING_KEY = "brygga_pending_user"
NEXT_KEY = "brygga_next"
# Local accounts always authenticate with the model backend (there is also the SAML one).
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


def locked_out(
    request: HttpRequest, response: HttpResponse | None, credentials: object = None
) -> HttpResponse:
    """django-axes' lock-out answer (AXES_LOCKOUT_CALLABLE): the page the view already rendered, which says
    "too many failed sign-ins" in the same words whether the user name exists or not (ADR 0807)."""
    if response is not None:
        return response
    return render(
        request,
        "accounts/login.html",
        {"errors": [Problem("username", "INLOGGNING-SPARR", SIGN_IN_PAUSED)], "local_login": True},
        status=403,
    )


def login_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {
        "next": request.GET.get("next", ""),
        "local_login": settings.BRYGGA_LOCAL_LOGIN,
        "oidc": bool(settings.BRYGGA_OIDC_ISSUER and settings.BRYGGA_OIDC_CLIENT_ID),
        "saml": bool(settings.BRYGGA_SAML_IDP_METADATA),
    }
    if request.method == "POST" and not settings.BRYGGA_LOCAL_LOGIN:
        # Local accounts are off (production default, ADR 0501): sign in with SITHS.
        context["errors"] = [
            Problem("username", "LOKAL-INLOGGNING-AV", _("Lokala konton är avstängda. Logga in med SITHS."))
        ]
        return render(request, "accounts/login.html", context, status=403)
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        context.update(username=username, next=request.POST.get("next", ""))
        try:
            user = login_with_password(username, request.POST.get("password", ""), request)
        except DomainError as exc:
            context["errors"] = exc.problems
            return render(request, "accounts/login.html", context, status=400)
        request.session[NEXT_KEY] = _safe_next(request, request.POST.get("next"))
        if user.has_totp or settings.BRYGGA_REQUIRE_TOTP:
            request.session[PENDING_KEY] = user.pk
            return redirect("accounts:totp" if user.has_totp else "accounts:totp_setup")
        login(request, user, backend=MODEL_BACKEND)
        request.session[AUTH_METHOD_KEY] = AuthMethod.LOCAL_PASSWORD
        return redirect(request.session.pop(NEXT_KEY, "/"))
    return render(request, "accounts/login.html", context)


def _pending_user(request: HttpRequest) -> User | None:
    pk = request.session.get(PENDING_KEY)
    return User.objects.filter(pk=pk, is_active=True).first() if pk else None


def totp_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None or not user.has_totp:
        return redirect("accounts:login")
    if request.method == "POST":
        try:
            verify_totp(user, request.POST.get("code", ""))
        except DomainError as exc:
            return render(request, "accounts/totp.html", {"errors": exc.problems}, status=400)
        next_url = request.session.pop(NEXT_KEY, "/")
        request.session.pop(PENDING_KEY, None)
        login(request, user, backend=MODEL_BACKEND)
        request.session[AUTH_METHOD_KEY] = AuthMethod.LOCAL_TOTP
        return redirect(next_url)
    return render(request, "accounts/totp.html")


def totp_setup_view(request: HttpRequest) -> HttpResponse:
    """Enrol a second factor: for a pending login (when required) or for a logged-in user who chooses to."""
    user = request.user if request.user.is_authenticated else _pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if request.method == "POST":
        try:
            verify_totp(user, request.POST.get("code", ""), confirm=True)  # type: ignore[arg-type]
        except DomainError as exc:
            uri = request.session.get("brygga_totp_uri", "")
            return render(
                request,
                "accounts/totp_setup.html",
                {
                    "errors": exc.problems,
                    "qr": segno.make(uri).svg_inline(scale=4) if uri else "",
                    "secret": totp_secret(user),  # type: ignore[arg-type]
                },  # type: ignore[union-attr]
                status=400,
            )
        if not request.user.is_authenticated:
            next_url = request.session.pop(NEXT_KEY, "/")
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=MODEL_BACKEND)  # type: ignore[arg-type]
            request.session[AUTH_METHOD_KEY] = AuthMethod.LOCAL_TOTP
            return redirect(next_url)
        return redirect("web:home")
    uri = start_totp_enrolment(user)  # type: ignore[arg-type]
    request.session["brygga_totp_uri"] = uri
    return render(
        request,
        "accounts/totp_setup.html",
        {"qr": segno.make(uri).svg_inline(scale=4), "secret": totp_secret(user)},  # type: ignore[arg-type]
    )
