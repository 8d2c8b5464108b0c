"""State changes for accounts: login with lock-out, the second factor, choosing the active unit, grants."""

from __future__ import annotations

import datetime as dt

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts import totp
from brygga.accounts.models import Membership, User
from brygga.accounts.permissions import Role
from brygga.core import statements
from brygga.core.errors import DomainError

LOGIN_FAILED = _("Fel användarnamn eller lösenord.")
# The same words whether the user name exists or not (issue 20 item 5).
SIGN_IN_PAUSED = _(
    "För många misslyckade inloggningar med det användarnamnet härifrån. Vänta en stund och försök igen."
)


def _no_client() -> HttpRequest:
    """A password checked outside a web request (a command, a test) counts as the local host."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    return request


def login_with_password(username: str, password: str, request: HttpRequest | None = None) -> User:
    """Check the password. Failures are counted per user name and client address (django-axes, ADR 0807):
    after BRYGGA_LOCKOUT_THRESHOLD failures that pair is refused for BRYGGA_LOCKOUT_MINUTES, with the same
    message for a user name that does not exist; the same user from another address is not affected."""
    request = request or _no_client()
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        raise DomainError.single("username", "INLOGGNING-SPARR", SIGN_IN_PAUSED, status=403)
    if user is None or getattr(user, "is_service_account", False) or not isinstance(user, User):
        raise DomainError.single("password", "INLOGGNING", LOGIN_FAILED, status=403)
    if user.is_locked():  # wrong second-factor codes (verify_totp) lock the account itself
        raise DomainError.single("username", "INLOGGNING-SPARR", SIGN_IN_PAUSED, status=403)
    return user


def start_totp_enrolment(user: User) -> str:
    """Create a fresh, unconfirmed TOTP secret (sealed at rest) and return the provisioning URI for the QR
    code."""
    secret = pyotp.random_base32()
    store_totp_secret(user, secret, confirmed=False)
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="brygga")


def store_totp_secret(user: User, secret: str, confirmed: bool) -> None:
    user.totp_secret = totp.seal(secret)
    user.totp_confirmed_at = timezone.now() if confirmed else None
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])


def totp_secret(user: User) -> str | None:
    """The user's TOTP secret in clear, for the enrolment page only."""
    return totp.unseal(user.totp_secret) if user.totp_secret else None


def verify_totp(user: User, code: str, confirm: bool = False, now: dt.datetime | None = None) -> None:
    """Accept the current 30-second code (one step of clock drift either way) once, or raise DomainError.
    A code already used (or older than the last one used) is refused; wrong codes count towards the same
    lock-out as wrong passwords (BRYGGA_LOCKOUT_THRESHOLD, BRYGGA_LOCKOUT_MINUTES)."""
    now = now or timezone.now()
    refused = DomainError.single("code", "TOTP", _("Koden stämmer inte. Ange de sex siffrorna från appen."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_locked():
            raise DomainError.single(
                "code",
                "KONTO-LAST",
                _("Kontot är tillfälligt låst efter för många misslyckade inloggningar. Försök igen senare."),
                status=403,
            )
        code = (code or "").strip().replace(" ", "")
        secret = totp.unseal(user.totp_secret) if user.totp_secret else None
        step = totp.matching_step(secret, code, now) if secret and code.isdecimal() else None
        if step is not None and user.totp_last_step is not None and step <= user.totp_last_step:
            step = None  # replay: this code (or an older one) was already used
        if step is None:
            user.failed_login_count += 1
            if user.failed_login_count >= settings.BRYGGA_LOCKOUT_THRESHOLD:
                user.locked_until = now + dt.timedelta(minutes=settings.BRYGGA_LOCKOUT_MINUTES)
                user.failed_login_count = 0
            user.save(update_fields=["failed_login_count", "locked_until"])
        else:
            user.totp_last_step = step
            user.failed_login_count = 0
            fields = ["totp_last_step", "failed_login_count"]
            if confirm and not user.totp_confirmed_at:
                user.totp_confirmed_at = now
                fields.append("totp_confirmed_at")
            user.save(update_fields=fields)
    if step is None:
        raise refused


def active_memberships(user: User) -> list[Membership]:
    today = timezone.localdate()
    # On every request (ActiveUnitMiddleware): compiled once per process (ADR 0707).
    found = statements.reused(
        "active_memberships",
        lambda user_id: Membership.objects.filter(user_id=user_id).select_related(
            "unit__municipality", "unit__organisation__principal"
        ),
        user_id=user.pk,
    )
    for m in found:
        m.user = user  # as the related manager would
    return [m for m in found if m.is_valid_on(today)]


def choose_membership(user: User, membership_id: int | str) -> Membership:
    """The active unit: only one of the user's own, currently valid memberships."""
    for membership in active_memberships(user):
        if str(membership.pk) == str(membership_id):
            return membership
    raise DomainError.single("membership", "AKTIV-ENHET", _("Du har ingen giltig behörighet i den enheten."))


def grant_membership(
    granted_by: User | None, user: User, unit_id: int, role: Role, commission_hsa_id: str = ""
) -> Membership:
    membership, _created = Membership.objects.update_or_create(
        user=user,
        unit_id=unit_id,
        defaults={"role": role.value, "granted_by": granted_by, "commission_hsa_id": commission_hsa_id},
    )
    return membership
