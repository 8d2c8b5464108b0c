"""Fresh authentication at the moment of signing (ADR 0405): a signature is the signer's own act, so being
signed in is not enough. The signer proves it again, and the proof is good for one signature, shortly.

- Local accounts re-enter their password (counted against the lock-out like a sign-in) and, when they have
  a second factor or one is required, a TOTP code: ``confirm_with_password``.
- Accounts that sign in through an identity provider (SITHS eID, issue 15) are sent to
  ``BRYGGA_SIGNING_REAUTH_URL`` with ``next`` set to the document; the identity provider's callback, after a
  forced re-authentication (SAML ``ForceAuthn`` / OIDC ``prompt=login``, ``max_age=0``), calls
  ``mark_fresh_authentication(request, method)``, and the signing form then uses that proof
  (``confirmation_from_session``). The proof is consumed by the signature.

``sign_version`` refuses without a proof for the signing user that is younger than
``FRESH_FOR`` when ``BRYGGA_SIGNING_FRESH_AUTH`` is on (the default outside debug): DOK-SIG-9."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.models import User
from brygga.accounts.services import login_with_password, verify_totp
from brygga.core.errors import DomainError

FRESH_FOR = dt.timedelta(minutes=2)
SESSION_KEY = "brygga_fresh_authentication"


@dataclass(frozen=True)
class FreshAuthentication:
    user_id: int
    at: dt.datetime
    method: str  # "password", "password+totp", "siths" …


def confirm_with_password(
    user: User, password: str, totp_code: str = "", request: HttpRequest | None = None
) -> FreshAuthentication:
    """The signer's password again (and TOTP code when the account has or needs one). A wrong password counts
    towards the lock-out exactly as at sign-in."""
    if not user.has_usable_password():
        raise DomainError.single(
            "password",
            "DOK-SIG-9",
            _("Ditt konto loggar in via legitimering (SITHS). Legitimera dig igen för att underteckna."),
            status=403,
        )
    try:
        login_with_password(user.username, password or "", request)
    except DomainError as exc:
        raise DomainError.single(
            "password", "DOK-SIG-9", _("Lösenordet stämmer inte. Dokumentet undertecknades inte."), status=403
        ) from exc
    method = "password"
    if user.has_totp or settings.BRYGGA_REQUIRE_TOTP:
        try:
            verify_totp(user, (totp_code or "").strip())
        except DomainError as exc:
            raise DomainError.single(
                "totp",
                "DOK-SIG-9",
                _("Engångskoden stämmer inte. Dokumentet undertecknades inte."),
                status=403,
            ) from exc
        method = "password+totp"
    return FreshAuthentication(user.pk, timezone.now(), method)


def mark_fresh_authentication(request: HttpRequest, method: str) -> None:
    """For the identity provider's callback after a forced re-authentication of the signed-in user."""
    request.session[SESSION_KEY] = {
        "user_id": request.user.pk,
        "at": timezone.now().isoformat(),
        "method": method,
    }


def confirmation_from_session(request: HttpRequest) -> FreshAuthentication | None:
    """The identity provider's proof, if any, consumed (one signature per re-authentication)."""
    data = request.session.pop(SESSION_KEY, None)
    if not isinstance(data, dict) or data.get("user_id") != request.user.pk:
        return None
    try:
        at = dt.datetime.fromisoformat(str(data["at"]))
    except (KeyError, ValueError):
        return None
    return FreshAuthentication(int(data["user_id"]), at, str(data.get("method", "")))


def require_fresh(user: User, confirmation: FreshAuthentication | None) -> None:
    if not settings.BRYGGA_SIGNING_FRESH_AUTH:
        return
    if (
        confirmation is None
        or confirmation.user_id != user.pk
        or not timezone.now() - FRESH_FOR <= confirmation.at <= timezone.now()
    ):
        raise DomainError.single(
            "password",
            "DOK-SIG-9",
            _("Bekräfta att det är du: ange ditt lösenord (och engångskod) för att underteckna."),
            status=403,
        )
