"""Sign-in pages for SITHS (OIDC and SAML) and the IdP's logout call-backs. Thin: the protocol is in
``oidc``/``saml``, the decision in ``services``."""

from __future__ import annotations

import logging

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from brygga.signin import oidc
from brygga.signin.models import AuthMethod, IdpSession
from brygga.signin.services import SESSION_SIGNIN, SignInRefused, end_idp_sessions, sign_in

log = logging.getLogger(__name__)
NEXT_KEY = "brygga_next"


def _refused(request: HttpRequest, exc: SignInRefused) -> HttpResponse:
    return render(
        request,
        "signin/refused.html",
        {"errors": [{"field": "signin", "rule": exc.rule, "message": exc.message}]},
        status=403,
    )


@require_GET
def oidc_start(request: HttpRequest) -> HttpResponse:
    if not oidc.enabled():
        return redirect("accounts:login")
    target = request.GET.get("next", "")
    request.session[NEXT_KEY] = (
        target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"
    )
    redirect_uri = request.build_absolute_uri(reverse("signin:oidc_callback"))
    try:
        return oidc.client().authorize_redirect(request, redirect_uri, claims=oidc.claims_request())
    except (OSError, ValueError) as exc:
        log.warning("OIDC discovery failed: %s", exc)
        return _refused(
            request,
            SignInRefused("OIDC", _("Identitetsutfärdaren svarar inte just nu. Försök igen om en stund.")),
        )


@require_GET
def oidc_callback(request: HttpRequest) -> HttpResponse:
    if not oidc.enabled():
        return redirect("accounts:login")
    if "error" in request.GET:
        return _refused(request, SignInRefused("OIDC", _("Inloggningen avbröts eller nekades.")))
    try:
        identity, id_token = oidc.finish(request)
        target = request.session.pop(NEXT_KEY, "/")
        sign_in(request, identity, extra={"id_token": id_token})
    except SignInRefused as exc:
        return _refused(request, exc)
    return redirect(target or "/")


@csrf_exempt  # called server to server by the IdP, authenticated by the signed logout token
@require_POST
def oidc_backchannel_logout(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("logout_token", "")
    if not raw or not oidc.enabled():
        return HttpResponseBadRequest("logout_token missing")
    try:
        claims = oidc.verify_logout_token(raw)
    except SignInRefused as exc:
        log.warning("back-channel logout refused: %s", exc.message)
        return HttpResponseBadRequest("invalid logout_token")
    end_idp_sessions(AuthMethod.SITHS_OIDC, str(claims.get("sid", "")), str(claims.get("sub", "")))
    response = HttpResponse(status=200)
    response["Cache-Control"] = "no-store"
    return response


def idp_logout_redirect(request: HttpRequest) -> str | None:
    """Where to send the browser after brygga's own logout: the IdP's logout, when signed in through it."""
    signin = request.session.get(SESSION_SIGNIN) or {}
    if signin.get("method") == AuthMethod.SITHS_OIDC and oidc.enabled():
        return oidc.logout_url(
            str(signin.get("id_token", "")), request.build_absolute_uri(reverse("accounts:login"))
        )
    if signin.get("method") == AuthMethod.SITHS_SAML:
        return reverse("saml2_logout")
    return None


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    target = idp_logout_redirect(request)
    if target and target.startswith("/"):
        return redirect(target)  # SAML: djangosaml2 logs out locally and at the IdP
    if request.session.session_key:
        IdpSession.objects.filter(session_key=request.session.session_key, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    logout(request)
    return redirect(target or "accounts:login")
