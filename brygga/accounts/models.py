"""Individual accounts, their unit memberships (one role per unit) and API tokens for integrating systems.

The identity model is ready for SITHS/Sambi login: a person's HSA-id on the user and the commission's
(medarbetaruppdrag) HSA-id on the membership, so a federated login maps to exactly one membership."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brygga.accounts.permissions import ROLE_CHOICES, ROLE_LABELS, Perm, Role, role_has
from brygga.core import statements


class AuthMethod(models.TextChoices):
    """How a user authenticated; recorded on every access-log entry (issue 15, R-AUTH-1)."""

    SITHS_OIDC = "siths-oidc", _("SITHS via OpenID Connect")
    SITHS_SAML = "siths-saml", _("SITHS via SAML")
    LOCAL_TOTP = "local-totp", _("Lokalt konto med lösenord och engångskod")
    LOCAL_PASSWORD = "local", _("Lokalt konto med lösenord")
    API_TOKEN = "api-token", _("API-nyckel (integrerat system)")


class UserManager(DjangoUserManager["User"]):
    """Django's user manager; ``get(pk=…)`` with nothing else, the read of the signed-in user on every request
    (``ModelBackend.get_user``), runs a statement compiled once per process (ADR 0707)."""

    def get(self, *args: Any, **kwargs: Any) -> User:
        plain = not args and list(kwargs) == ["pk"] and type(kwargs["pk"]) is int and self._db is None
        if not plain or self.model is not User:  # a migration's historical User: Django's own get()
            return super().get(*args, **kwargs)
        found = statements.reused(
            "user_by_pk", lambda pk: self.model.objects.filter(pk=pk)[:2], pk=kwargs["pk"]
        )
        if not found:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        if len(found) > 1:  # a primary key: cannot happen, but get() promises to say so
            raise self.model.MultipleObjectsReturned(f"get() returned more than one {self.model.__name__}")
        return found[0]  # type: ignore[no-any-return]


class User(AbstractUser):
    hsa_id = models.CharField(_("personens HSA-id"), max_length=31, blank=True)
    title = models.CharField(_("befattning"), max_length=100, blank=True)
    # Second factor (TOTP, RFC 6238) for local accounts: the secret sealed at rest (accounts.totp, ADR 0502),
    # and the time step of the last accepted code, so no code is accepted twice.
    totp_secret = models.CharField(max_length=255, blank=True)
    totp_last_step = models.BigIntegerField(null=True, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Lock-out after repeated failed logins.
    failed_login_count = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    is_service_account = models.BooleanField(
        _("systemkonto"),
        default=False,
        help_text=_("Konto för ett integrerat system; loggar inte in i webben."),
    )

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        verbose_name = _("användare")
        verbose_name_plural = _("användare")

    @property
    def display_name(self) -> str:
        """How the user is named to others (a signer, a sender): the name from the SITHS assertion or the
        account, with the title when known; the user name when there is no name."""
        name = self.get_full_name() or self.username
        return f"{name}, {self.title}" if self.title else name

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret and self.totp_confirmed_at)

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class Membership(models.Model):
    """A user's link to a unit with one role — the only source of what the user may do there."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey("organisations.Unit", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("roll"), max_length=30, choices=ROLE_CHOICES)
    commission_hsa_id = models.CharField(_("uppdragets HSA-id"), max_length=31, blank=True)
    valid_from = models.DateField(_("gäller från"), default=timezone.localdate)
    valid_until = models.DateField(_("gäller till"), null=True, blank=True)
    granted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="granted_memberships"
    )
    # R-ACC-1: access rights are reviewed regularly; the last review is kept on the grant.
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["unit__name"]
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="one_role_per_unit")]
        verbose_name = _("behörighet")
        verbose_name_plural = _("behörigheter")

    def __str__(self) -> str:
        return f"{self.user.username} @ {self.unit.name} ({self.role})"

    @property
    def role_label(self) -> str:
        try:
            return str(ROLE_LABELS[Role(self.role)])
        except ValueError:
            return self.role

    def is_valid_on(self, day) -> bool:
        """Within its dates, at a unit that is still active: a deactivated unit's memberships (and so its API
        tokens and sessions) stop working at once, fail closed (issue 20 item 5)."""
        return (
            self.unit.is_active
            and self.valid_from <= day
            and (self.valid_until is None or day <= self.valid_until)
        )

    def allows(self, perm: Perm) -> bool:
        return self.is_valid_on(timezone.localdate()) and role_has(self.role, perm)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for an integrating system, bound to one membership (unit + role). Only its SHA-256 is
    stored; the token is shown once when it is created."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("namn"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API-nyckel")
        verbose_name_plural = _("API-nycklar")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, membership: Membership, name: str) -> tuple[ApiToken, str]:
        raw = "bry_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            membership=membership, name=name, token_hash=hash_token(raw), prefix=raw[:8]
        )
        return token, raw
