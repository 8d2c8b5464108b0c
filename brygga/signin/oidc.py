"""SITHS sign-in with OpenID Connect (Inera IdP), through authlib's Django client (ADR 0501).

authlib does the protocol: discovery, state, nonce and PKCE, the code exchange, and the ID token's signature
(from the IdP's JWKS), issuer, audience, expiry and nonce. brygga adds what is Swedish: the LoA, the
commission, the membership — and the IdP's back-channel logout, which ends the brygga session."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from brygga.signin.models import AuthMethod
from brygga.signin.services import SignInRefused, SithsIdentity

log = logging.getLogger(__name__)

# Inera's attribute names as OIDC claims (integrations.md §1); asked for explicitly, as essential, because
# an unrequested claim is silently absent.
SITHS_CLAIMS = (
    "employeeHsaId",
    "commissionHsaId",
    "commissionName",
    "commissionPurpose",
    "healthCareUnitHsaId",
    "healthCareProviderHsaId",
    "healthcareProfessionalLicense",
    "given_name",
    "family_name",
    "title",
)
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def enabled() -> bool:
    return bool(settings.BRYGGA_OIDC_ISSUER and settings.BRYGGA_OIDC_CLIENT_ID)


def client() -> Any:
    """A client built from the current settings (cheap; authlib caches the discovery document per client)."""
    oauth = OAuth()
    oauth.register(
        name="siths",
        client_id=settings.BRYGGA_OIDC_CLIENT_ID,
        client_secret=settings.BRYGGA_OIDC_CLIENT_SECRET,
        server_metadata_url=settings.BRYGGA_OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": settings.BRYGGA_OIDC_SCOPES,
            "code_challenge_method": "S256",
            "timeout": settings.BRYGGA_OIDC_TIMEOUT,
        },
    )
    return oauth.create_client("siths")


def claims_request() -> str:
    wanted = {name: {"essential": True} for name in SITHS_CLAIMS}
    return json.dumps({"id_token": {**wanted, "acr": {"essential": True}}, "userinfo": wanted})


def identity_from_claims(claims: dict[str, Any]) -> SithsIdentity:
    licences = claims.get("healthcareProfessionalLicense") or []
    if isinstance(licences, str):
        licences = [licences]
    return SithsIdentity(
        method=AuthMethod.SITHS_OIDC,
        subject=str(claims.get("sub", "")),
        idp_session_id=str(claims.get("sid", "")),
        employee_hsa_id=str(claims.get("employeeHsaId", "")),
        given_name=str(claims.get("given_name", "")),
        family_name=str(claims.get("family_name", "")),
        level_of_assurance=str(claims.get("acr", "")),
        commission_hsa_id=str(claims.get("commissionHsaId", "")),
        commission_purpose=str(claims.get("commissionPurpose", "")),
        commission_name=str(claims.get("commissionName", "")),
        care_unit_hsa_id=str(claims.get("healthCareUnitHsaId", "")),
        care_provider_hsa_id=str(claims.get("healthCareProviderHsaId", "")),
        licences=tuple(str(x) for x in licences),
        title=str(claims.get("title", "")),
    )


def finish(request: HttpRequest) -> tuple[SithsIdentity, str]:
    """Complete the code flow; returns the identity and the ID token (for logout). SignInRefused on any
    protocol failure: a replayed or forged callback, a token for another client, a bad signature."""
    siths = client()
    try:
        token = siths.authorize_access_token(request)
    except (OAuthError, JoseError, ValueError, KeyError) as exc:
        log.warning("OIDC sign-in refused: %s", exc)
        raise SignInRefused(
            "OIDC", _("Inloggningen kunde inte bekräftas av identitetsutfärdaren. Försök igen.")
        ) from exc
    claims = dict(token.get("userinfo") or {})
    metadata = siths.load_server_metadata()
    if metadata.get("userinfo_endpoint"):
        try:
            extra = siths.userinfo(token=token)
        except (OAuthError, ValueError) as exc:
            raise SignInRefused("OIDC", _("Användaruppgifterna kunde inte hämtas. Försök igen.")) from exc
        if extra.get("sub") != claims.get("sub"):
            raise SignInRefused("OIDC", _("Användaruppgifterna gäller en annan person."))
        claims = {**extra, **claims}  # the signed ID token wins
    return identity_from_claims(claims), str(token.get("id_token", ""))


def logout_url(id_token: str, post_logout_redirect_uri: str) -> str | None:
    """RP-initiated logout at the IdP (end_session_endpoint), or None when the IdP has none."""
    try:
        metadata = client().load_server_metadata()
    except (OAuthError, ValueError, OSError):
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    query = {
        "post_logout_redirect_uri": post_logout_redirect_uri,
        "client_id": settings.BRYGGA_OIDC_CLIENT_ID,
    }
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}?{urlencode(query)}"


def verify_logout_token(raw: str) -> dict[str, Any]:
    """OIDC Back-Channel Logout 1.0 §2.6: signature from the IdP's JWKS, issuer, our client as audience, the
    back-channel event, ``sid`` or ``sub``, and no ``nonce``. Raises SignInRefused when anything is off."""
    siths = client()
    try:
        metadata = siths.load_server_metadata()
        keys = KeySet.import_key_set(siths.fetch_jwk_set())
        claims = jwt.decode(raw, keys).claims
        jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": settings.BRYGGA_OIDC_CLIENT_ID},
            iat={"essential": True},
        ).validate(claims)
    except (JoseError, ValueError, KeyError, OAuthError) as exc:
        raise SignInRefused("LOGOUT-TOKEN", str(exc)) from exc
    events = claims.get("events") or {}
    if BACKCHANNEL_EVENT not in events or "nonce" in claims or not (claims.get("sid") or claims.get("sub")):
        raise SignInRefused("LOGOUT-TOKEN", "not a back-channel logout token")
    return dict(claims)
