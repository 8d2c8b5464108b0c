"""SITHS sign-in with SAML 2.0 (as in the Sambi federation), through djangosaml2/pysaml2 (ADR 0501).

pysaml2 does the protocol: the AuthnRequest, the response's signature against the IdP's metadata, the
audience, the time window and InResponseTo (a response nobody asked for — a replay — is refused). brygga
adds the same decision as for OIDC (``services.membership_for``), and remembers the SessionIndex so the IdP's
single logout ends the brygga session."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import saml2
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from djangosaml2.views import AssertionConsumerServiceView
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT

from brygga.accounts.models import AuthMethod
from brygga.signin.services import SignInRefused, SithsIdentity, membership_for, record_sign_in

log = logging.getLogger(__name__)
ATTRIBUTE_MAPS = str(Path(__file__).resolve().parent / "attributemaps")


def enabled() -> bool:
    return bool(settings.BRYGGA_SAML_IDP_METADATA)


def config_loader(request: HttpRequest | None = None) -> SPConfig:
    """pysaml2's SP configuration from brygga's settings (djangosaml2 calls this per request)."""
    if not enabled():
        raise ImproperlyConfigured("SAML sign-in needs BRYGGA_SAML_IDP_METADATA.")
    base = settings.BRYGGA_SAML_BASE_URL.rstrip("/")
    if not base and request is not None:
        base = request.build_absolute_uri("/").rstrip("/")
    entity_id = settings.BRYGGA_SAML_ENTITY_ID or f"{base}{reverse('saml2_metadata')}"
    metadata = settings.BRYGGA_SAML_IDP_METADATA
    source = {"remote": [{"url": metadata}]} if metadata.startswith("https://") else {"local": [metadata]}
    config: dict[str, Any] = {
        "xmlsec_binary": settings.BRYGGA_SAML_XMLSEC,
        "entityid": entity_id,
        "attribute_map_dir": ATTRIBUTE_MAPS,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": "brygga",
                "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT],
                "endpoints": {
                    "assertion_consumer_service": [
                        (f"{base}{reverse('saml2_acs')}", saml2.BINDING_HTTP_POST)
                    ],
                    "single_logout_service": [
                        (f"{base}{reverse('saml2_ls')}", saml2.BINDING_HTTP_REDIRECT),
                        (f"{base}{reverse('saml2_ls_post')}", saml2.BINDING_HTTP_POST),
                    ],
                },
                "authn_requests_signed": True,
                "logout_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,  # a response must answer our own request (no replays)
                "required_attributes": ["employeeHsaId", "commissionHsaId", "commissionPurpose"],
                # Named in the SP metadata's AttributeConsumingService: the IdP releases only what is asked.
                "optional_attributes": [
                    "healthCareUnitHsaId",
                    "healthCareProviderHsaId",
                    "commissionName",
                    "healthcareProfessionalLicense",
                    "givenName",
                    "surname",
                    "title",
                    "levelOfAssurance",
                ],
            }
        },
        "metadata": source,
        "key_file": settings.BRYGGA_SAML_KEY_FILE,
        "cert_file": settings.BRYGGA_SAML_CERT_FILE,
        "encryption_keypairs": [
            {"key_file": settings.BRYGGA_SAML_KEY_FILE, "cert_file": settings.BRYGGA_SAML_CERT_FILE}
        ],
        "accepted_time_diff": 60,
    }
    conf = SPConfig()
    conf.load(config)
    return conf


def _first(ava: dict[str, list[str]], name: str) -> str:
    values = ava.get(name) or []
    return str(values[0]) if values else ""


def identity_from_session_info(session_info: dict[str, Any]) -> SithsIdentity:
    ava = session_info.get("ava", {})
    name_id = session_info.get("name_id")
    authn = session_info.get("authn_info") or []
    loa = _first(ava, "levelOfAssurance") or (authn[0][0] if authn else "")
    return SithsIdentity(
        method=AuthMethod.SITHS_SAML,
        subject=str(getattr(name_id, "text", "") or ""),
        idp_session_id=str(session_info.get("session_index") or ""),
        employee_hsa_id=_first(ava, "employeeHsaId"),
        given_name=_first(ava, "givenName"),
        family_name=_first(ava, "surname"),
        level_of_assurance=loa,
        commission_hsa_id=_first(ava, "commissionHsaId"),
        commission_purpose=_first(ava, "commissionPurpose"),
        commission_name=_first(ava, "commissionName"),
        care_unit_hsa_id=_first(ava, "healthCareUnitHsaId"),
        care_provider_hsa_id=_first(ava, "healthCareProviderHsaId"),
        licences=tuple(str(v) for v in ava.get("healthcareProfessionalLicense", [])),
        title=_first(ava, "title"),
    )


class SithsSaml2Backend(ModelBackend):
    """djangosaml2 calls ``authenticate`` with the verified session info; the answer is the membership's user
    or nothing (the refusal is kept on the request for the error page). Never creates users."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, session_info: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        if request is None or session_info is None:
            return None
        identity = identity_from_session_info(session_info)
        try:
            membership = membership_for(identity)
        except SignInRefused as exc:
            request._siths_refusal = exc  # type: ignore[attr-defined]
            return None
        request._siths_sign_in = (identity, membership)  # type: ignore[attr-defined]
        return membership.user


class AcsView(AssertionConsumerServiceView):
    def post_login_hook(self, request: HttpRequest, user: Any, session_info: dict[str, Any]) -> None:
        identity, membership = request._siths_sign_in  # type: ignore[attr-defined]
        record_sign_in(request, identity, membership)

    def handle_acs_failure(
        self, request: HttpRequest, exception: Exception | None = None, status: int = 403, **kwargs: Any
    ) -> HttpResponse:
        refusal = getattr(request, "_siths_refusal", None)
        if refusal is None:
            log.warning("SAML sign-in refused: %r", exception)
            refusal = SignInRefused(
                "SAML",
                _(
                    "Inloggningssvaret från identitetsutfärdaren kunde inte godtas (fel mottagare, för "
                    "gammalt, redan använt eller felaktigt signerat). Logga in igen."
                ),
            )
        return render(
            request,
            "signin/refused.html",
            {"errors": [{"field": "signin", "rule": refusal.rule, "message": refusal.message}]},
            status=403 if isinstance(exception, PermissionDenied) or status == 403 else status,
        )
