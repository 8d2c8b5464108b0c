"""SITHS sign-in: from the identity provider's attributes to a brygga membership (ADR 0501).

R-SAMSA-AUTH-1: identification (the HSA-id, SITHS card + PIN), an organisation link (the unit of the chosen
medarbetaruppdrag) and a role (granted in brygga by a local administrator) are all required. The chosen
commission must be for "Vård och behandling" and at a unit where the user holds a valid brygga membership; the
physician role comes from the legitimation in the assertion (HOSP code LK), never from a local switch."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import login
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.middleware import AUTH_METHOD_KEY, SESSION_KEY
from brygga.accounts.models import AuthMethod, Membership, User
from brygga.accounts.permissions import Role
from brygga.signin.models import IdpSession

PURPOSE_CARE = "Vård och behandling"
LICENCE_PHYSICIAN = "LK"  # HOSP legitimerad yrkesgrupp: läkare
# Roles whose physician-or-not follows the licence in the assertion.
CLINICAL_WARD_ROLES = {Role.WARD_NURSE.value, Role.PHYSICIAN.value}
SESSION_AUTH_METHOD = AUTH_METHOD_KEY
SESSION_SIGNIN = "brygga_signin"


class SignInRefused(Exception):
    """The IdP authenticated the user, but brygga gives no access; ``message`` says why, in Swedish."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class SithsIdentity:
    """What brygga reads from Inera's attribute list (OIDC claims or SAML attributes, same names)."""

    method: str
    subject: str
    idp_session_id: str
    employee_hsa_id: str
    given_name: str = ""
    family_name: str = ""
    level_of_assurance: str = ""
    commission_hsa_id: str = ""
    commission_purpose: str = ""
    commission_name: str = ""
    care_unit_hsa_id: str = ""
    care_provider_hsa_id: str = ""
    licences: tuple[str, ...] = field(default_factory=tuple)
    title: str = ""


def accepted_loa() -> set[str]:
    return {v.strip() for v in settings.BRYGGA_SITHS_ACCEPTED_LOA.split(",") if v.strip()}


@transaction.atomic
def membership_for(identity: SithsIdentity, today: dt.date | None = None) -> Membership:
    """The membership the sign-in opens, or SignInRefused naming why not. Updates the user's HSA-id, name and
    title from the assertion, and the ward role (physician or nurse) from the licence."""
    today = today or timezone.localdate()
    if identity.level_of_assurance not in accepted_loa():
        raise SignInRefused("LOA", _("Inloggningen har för låg tillitsnivå; logga in med SITHS-kort."))
    if not identity.employee_hsa_id:
        raise SignInRefused("HSA-ID", _("Inloggningen saknar HSA-id."))
    if not identity.commission_hsa_id or not identity.care_unit_hsa_id:
        raise SignInRefused(
            "MEDARBETARUPPDRAG",
            _("Inget medarbetaruppdrag valdes. Logga in igen och välj ett uppdrag för vård och behandling."),
        )
    if identity.commission_purpose != PURPOSE_CARE:
        raise SignInRefused(
            "UPPDRAG-SYFTE",
            _("Uppdraget har syftet %(purpose)s. brygga kräver ett uppdrag för vård och behandling.")
            % {"purpose": identity.commission_purpose or "—"},
        )
    user = User.objects.select_for_update().filter(hsa_id=identity.employee_hsa_id, is_active=True).first()
    if user is None or user.is_service_account:
        raise SignInRefused(
            "BEHORIGHET", _("Du har ingen behörighet i brygga. Kontakta din lokala administratör.")
        )
    membership = (
        Membership.objects.select_for_update()
        .select_related("unit")
        .filter(user=user, unit__hsa_id=identity.care_unit_hsa_id, unit__is_active=True)
        .first()
    )
    if membership is None:
        raise SignInRefused(
            "BEHORIGHET",
            _("Du har ingen behörighet i brygga för enheten i det valda uppdraget (%(unit)s).")
            % {"unit": identity.commission_name or identity.care_unit_hsa_id},
        )
    if not membership.is_valid_on(today):
        raise SignInRefused(
            "BEHORIGHET-UTGANGEN",
            _("Din behörighet för %(unit)s gäller inte i dag. Kontakta din lokala administratör.")
            % {"unit": membership.unit.name},
        )
    if membership.commission_hsa_id and membership.commission_hsa_id != identity.commission_hsa_id:
        raise SignInRefused(
            "MEDARBETARUPPDRAG",
            _(
                "Behörigheten i brygga gäller ett annat medarbetaruppdrag. "
                "Logga in igen och välj rätt uppdrag."
            ),
        )
    if membership.role in CLINICAL_WARD_ROLES:
        role = Role.PHYSICIAN.value if LICENCE_PHYSICIAN in identity.licences else Role.WARD_NURSE.value
        if membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    membership.commission_hsa_id = identity.commission_hsa_id
    membership.save(update_fields=["commission_hsa_id"])
    changed = False
    for name, value in (
        ("first_name", identity.given_name),
        ("last_name", identity.family_name),
        ("title", identity.title),
    ):
        if value and getattr(user, name) != value[:150]:
            setattr(user, name, value[:150])
            changed = True
    if changed:
        user.save(update_fields=["first_name", "last_name", "title"])
    return membership


def sign_in(request: HttpRequest, identity: SithsIdentity, extra: dict[str, str] | None = None) -> Membership:
    """Log the user in with the commission's membership as the active unit (OIDC)."""
    membership = membership_for(identity)
    login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
    record_sign_in(request, identity, membership, extra)
    return membership


def record_sign_in(
    request: HttpRequest, identity: SithsIdentity, membership: Membership, extra: dict[str, str] | None = None
) -> None:
    """After login: the commission's unit becomes the active unit, the session remembers how it was
    authenticated, and the IdP session is remembered so a logout there ends this one."""
    request.session[SESSION_KEY] = membership.pk
    request.session[SESSION_AUTH_METHOD] = identity.method
    request.session[SESSION_SIGNIN] = {
        "method": identity.method,
        "commission": identity.commission_hsa_id,
        "care_provider": identity.care_provider_hsa_id,
        **(extra or {}),
    }
    request.session.save()
    IdpSession.objects.create(
        method=identity.method,
        idp_session_id=identity.idp_session_id,
        subject=identity.subject,
        user=membership.user,
        session_key=request.session.session_key or "",
        commission_hsa_id=identity.commission_hsa_id,
        started_at=timezone.now(),
    )


def end_idp_sessions(method: str, idp_session_id: str = "", subject: str = "") -> int:
    """The IdP says its session ended: end every brygga session it opened. Returns how many."""
    from importlib import import_module

    if not idp_session_id and not subject:
        return 0
    qs = IdpSession.objects.filter(method=method, ended_at__isnull=True)
    qs = qs.filter(idp_session_id=idp_session_id) if idp_session_id else qs.filter(subject=subject)
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    count = 0
    for row in qs:
        store(session_key=row.session_key).delete()
        count += 1
    qs.update(ended_at=timezone.now())
    return count


def auth_method_label(method: str) -> str:
    return str(dict(AuthMethod.choices).get(method, method))


__all__ = ["AuthMethod", "SignInRefused", "SithsIdentity", "end_idp_sessions", "membership_for", "sign_in"]
