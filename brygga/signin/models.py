"""Sign-ins through the national identity provider (ADR 0501): which brygga session belongs to which IdP
session, so a logout at the IdP (OIDC back-channel logout, SAML single logout) ends the brygga session too."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from brygga.accounts.models import AuthMethod

__all__ = ["AuthMethod", "IdpSession"]


class IdpSession(models.Model):
    method = models.CharField(max_length=12, choices=AuthMethod.choices)
    # OIDC: the ``sid`` claim; SAML: the SessionIndex of the AuthnStatement.
    idp_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    # OIDC: ``sub``; SAML: the NameID. A logout naming only the subject ends all its sessions.
    subject = models.CharField(max_length=255, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, db_index=True)
    commission_hsa_id = models.CharField(max_length=31, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("IdP-session")
        verbose_name_plural = _("IdP-sessioner")

    def __str__(self) -> str:
        return f"{self.method} {self.pk}"
