"""Roles and permissions — named once, here, and nowhere else.

A user works in one or more units with one role per unit (SAMSA's model: identity + unit link + role).
What a role may do is the table ROLE_PERMISSIONS; anything not listed is refused (fail closed). Reading a
person's data additionally needs an involvement of the active unit (brygga.access), which no role bypasses."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:  # the stubs' name for "str or lazy translation"; not needed at run time
    from django_stubs_ext import StrOrPromise


class Role(StrEnum):
    WARD_NURSE = "ward_nurse"
    PHYSICIAN = "physician"
    MUNICIPAL_CONTACT = "municipal_contact"
    HOME_CARE_NURSE = "home_care_nurse"
    CARE_MANAGER = "care_manager"  # biståndshandläggare
    CARE_COORDINATOR = "care_coordinator"  # fast vårdkontakt
    READ_ONLY = "read_only"
    STATISTICS = "statistics"
    LOG_REVIEWER = "log_reviewer"
    LOCAL_ADMIN = "local_admin"
    GITS_COORDINATOR = "gits_coordinator"
    FORUM_MEMBER = "forum_member"
    SYSTEM = "system"  # an integrating system (hospital EHR, robot) acting for one unit through the API


ROLE_LABELS: dict[Role, StrOrPromise] = {
    Role.WARD_NURSE: _("Sjuksköterska, vårdavdelning"),
    Role.PHYSICIAN: _("Läkare"),
    Role.MUNICIPAL_CONTACT: _("Kommunens kontaktpunkt"),
    Role.HOME_CARE_NURSE: _("Sjuksköterska, hemsjukvård"),
    Role.CARE_MANAGER: _("Biståndshandläggare"),
    Role.CARE_COORDINATOR: _("Fast vårdkontakt"),
    Role.READ_ONLY: _("Läsbehörighet"),
    Role.STATISTICS: _("Statistik"),
    Role.LOG_REVIEWER: _("Loggranskare"),
    Role.LOCAL_ADMIN: _("Lokal administratör"),
    Role.GITS_COORDINATOR: _("GITS-samordnare"),
    Role.FORUM_MEMBER: _("Forumledamot"),
    Role.SYSTEM: _("Integrerat system"),
}

ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class Perm(StrEnum):
    # People and cases (reading a person always also needs an involvement of the active unit)
    PERSON_LOOKUP = "person.lookup"  # find a person by identity number to start a case
    PERSON_READ = "person.read"
    PERSON_REVEAL_PROTECTED = "person.reveal_protected"
    CASE_READ = "case.read"
    CASE_CREATE = "case.create"  # open an inpatient case and send the admission notice
    CASE_UPDATE = "case.update"  # expected date, planning, information transfer, discharge
    CASE_RECEIVE = "case.receive"  # acknowledge, reject misdirected notices, plan as a receiving unit
    CASE_SET_DISCHARGE_READY = "case.set_discharge_ready"  # R-DEF-UK-1: physicians only
    CASE_APPOINT_COORDINATOR = "case.appoint_coordinator"  # R-FVK-1
    MESSAGE_SEND = "message.send"
    SIP_MANAGE = "sip.manage"
    OUTPATIENT_MANAGE = "outpatient.manage"
    CONSENT_RECORD = "consent.record"
    DISCLOSURE_ASSESS = "disclosure.assess"  # R-SEK-3: the responsible physician's menprövning
    DOCUMENT_SIGN = "document.sign"
    DEVIATION_REPORT = "deviation.report"
    # The receiving organisation investigates and answers a collaboration deviation (brygga.deviations)
    DEVIATION_HANDLE = "deviation.handle"
    # Oversight
    # The process statistics at the levels also published as open data (region, delregion, municipality,
    # hospital): aggregates with small counts suppressed, so everyone following the process may read them.
    STATISTICS_VIEW_PUBLISHED = "statistics.view_published"
    STATISTICS_VIEW = "statistics.view"  # all levels, wards included, and the full CSV
    PAYMENT_VIEW = "payment.view"
    PAYMENT_MANAGE = "payment.manage"
    PAYMENT_DISPUTE = "payment.dispute"  # the municipality disputes a line of its settlement
    ACCESS_LOG_REVIEW = "access_log.review"
    # Administration
    UNIT_ADMIN = "unit.admin"  # manage users and memberships of one's organisation
    REGISTRY_ADMIN = "registry.admin"  # organisations, units, population figures
    API_TOKEN_MANAGE = "api_token.manage"  # noqa: S105 — a permission name, not a secret
    # Governance (management plane)
    GOVERNANCE_RAISE = "governance.raise"
    GOVERNANCE_VIEW = "governance.view"
    GOVERNANCE_MANAGE = "governance.manage"
    GOVERNANCE_DECIDE = "governance.decide"
    ECONOMY_VIEW = "economy.view"
    ECONOMY_MANAGE = "economy.manage"
    DEVIATION_OVERVIEW = "deviation.overview"  # counts per quarter, category, delregion (suppressed)


_CLINICAL_READ = {Perm.PERSON_READ, Perm.CASE_READ}
_EVERYONE = {Perm.GOVERNANCE_RAISE, Perm.GOVERNANCE_VIEW, Perm.STATISTICS_VIEW_PUBLISHED}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.WARD_NURSE: frozenset(
        _CLINICAL_READ
        | _EVERYONE
        | {
            Perm.PERSON_LOOKUP,
            Perm.PERSON_REVEAL_PROTECTED,
            Perm.CASE_CREATE,
            Perm.CASE_UPDATE,
            Perm.MESSAGE_SEND,
            Perm.SIP_MANAGE,
            Perm.CONSENT_RECORD,
            Perm.DOCUMENT_SIGN,
            Perm.DEVIATION_REPORT,
            Perm.DEVIATION_HANDLE,
        }
    ),
    Role.PHYSICIAN: frozenset(
        _CLINICAL_READ
        | _EVERYONE
        | {
            Perm.PERSON_LOOKUP,
            Perm.PERSON_REVEAL_PROTECTED,
            Perm.CASE_CREATE,
            Perm.CASE_UPDATE,
            Perm.CASE_SET_DISCHARGE_READY,
            Perm.MESSAGE_SEND,
            Perm.SIP_MANAGE,
            Perm.CONSENT_RECORD,
            Perm.DISCLOSURE_ASSESS,
            Perm.DOCUMENT_SIGN,
            Perm.DEVIATION_REPORT,
        }
    ),
    Role.MUNICIPAL_CONTACT: frozenset(
        _CLINICAL_READ
        | _EVERYONE
        | {
            Perm.PERSON_REVEAL_PROTECTED,
            Perm.CASE_RECEIVE,
            Perm.MESSAGE_SEND,
            Perm.SIP_MANAGE,
            Perm.OUTPATIENT_MANAGE,
            Perm.CONSENT_RECORD,
            Perm.DOCUMENT_SIGN,
            Perm.DEVIATION_REPORT,
            Perm.DEVIATION_HANDLE,
            Perm.PAYMENT_VIEW,
            Perm.PAYMENT_DISPUTE,
        }
    ),
    Role.HOME_CARE_NURSE: frozenset(
        _CLINICAL_READ
        | _EVERYONE
        | {
            Perm.CASE_RECEIVE,
            Perm.MESSAGE_SEND,
            Perm.SIP_MANAGE,
            Perm.OUTPATIENT_MANAGE,
            Perm.CONSENT_RECORD,
            Perm.DOCUMENT_SIGN,
            Perm.DEVIATION_REPORT,
        }
    ),
    Role.CARE_MANAGER: frozenset(
        _CLINICAL_READ
        | _EVERYONE
        | {
            Perm.CASE_RECEIVE,
            Perm.MESSAGE_SEND,
            Perm.SIP_MANAGE,
            Perm.CONSENT_RECORD,
            Perm.DOCUMENT_SIGN,
            Perm.DEVIATION_REPORT,
        }
    ),
    Role.CARE_COORDINATOR: frozenset(
        _CLINICAL_READ
        | _EVERYONE
        | {
            Perm.PERSON_LOOKUP,
            Perm.CASE_RECEIVE,
            Perm.CASE_APPOINT_COORDINATOR,
            Perm.MESSAGE_SEND,
            Perm.SIP_MANAGE,
            Perm.OUTPATIENT_MANAGE,
            Perm.CONSENT_RECORD,
            Perm.DOCUMENT_SIGN,
            Perm.DEVIATION_REPORT,
            Perm.DEVIATION_HANDLE,
        }
    ),
    Role.READ_ONLY: frozenset(_CLINICAL_READ | _EVERYONE),
    Role.STATISTICS: frozenset(
        _EVERYONE | {Perm.STATISTICS_VIEW, Perm.PAYMENT_VIEW, Perm.DEVIATION_OVERVIEW}
    ),
    Role.LOG_REVIEWER: frozenset(_EVERYONE | {Perm.ACCESS_LOG_REVIEW}),
    Role.LOCAL_ADMIN: frozenset(_EVERYONE | {Perm.UNIT_ADMIN, Perm.API_TOKEN_MANAGE}),
    Role.GITS_COORDINATOR: frozenset(
        _EVERYONE
        | {
            Perm.GOVERNANCE_MANAGE,
            Perm.ECONOMY_VIEW,
            Perm.ECONOMY_MANAGE,
            Perm.STATISTICS_VIEW,
            Perm.PAYMENT_VIEW,
            Perm.PAYMENT_MANAGE,
            Perm.REGISTRY_ADMIN,
            Perm.DEVIATION_OVERVIEW,
        }
    ),
    Role.FORUM_MEMBER: frozenset(
        _EVERYONE | {Perm.GOVERNANCE_DECIDE, Perm.ECONOMY_VIEW, Perm.DEVIATION_OVERVIEW}
    ),
    Role.SYSTEM: frozenset(
        _CLINICAL_READ
        | {
            Perm.PERSON_LOOKUP,
            Perm.CASE_CREATE,
            Perm.CASE_UPDATE,
            Perm.CASE_RECEIVE,
            Perm.MESSAGE_SEND,
        }
    ),
}


def role_has(role: str | None, perm: Perm) -> bool:
    """Fail closed: an unknown role, a missing role or an unlisted permission is False."""
    if role is None:
        return False
    try:
        return perm in ROLE_PERMISSIONS[Role(role)]
    except (ValueError, KeyError):
        return False
