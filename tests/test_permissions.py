"""The permission matrix (R-ACC-1): every role × every permission is stated here, so a change to the table
in brygga.accounts.permissions must be made deliberately in two places. Unknown roles fail closed."""

from __future__ import annotations

import pytest

from brygga.accounts.permissions import ROLE_PERMISSIONS, Perm, Role, role_has

P = Perm
EVERYONE = {P.GOVERNANCE_RAISE, P.GOVERNANCE_VIEW, P.STATISTICS_VIEW_PUBLISHED}
CLINICAL = {P.PERSON_READ, P.CASE_READ} | EVERYONE
EXPECTED: dict[Role, set[Perm]] = {
    Role.WARD_NURSE: CLINICAL
    | {
        P.PERSON_LOOKUP,
        P.PERSON_REVEAL_PROTECTED,
        P.CASE_CREATE,
        P.CASE_UPDATE,
        P.MESSAGE_SEND,
        P.SIP_MANAGE,
        P.CONSENT_RECORD,
        P.DOCUMENT_SIGN,
        P.DEVIATION_REPORT,
        P.DEVIATION_HANDLE,
    },
    Role.PHYSICIAN: CLINICAL
    | {
        P.PERSON_LOOKUP,
        P.PERSON_REVEAL_PROTECTED,
        P.CASE_CREATE,
        P.CASE_UPDATE,
        P.CASE_SET_DISCHARGE_READY,
        P.MESSAGE_SEND,
        P.SIP_MANAGE,
        P.CONSENT_RECORD,
        P.DISCLOSURE_ASSESS,
        P.DOCUMENT_SIGN,
        P.DEVIATION_REPORT,
    },
    Role.MUNICIPAL_CONTACT: CLINICAL
    | {
        P.PERSON_REVEAL_PROTECTED,
        P.CASE_RECEIVE,
        P.MESSAGE_SEND,
        P.SIP_MANAGE,
        P.OUTPATIENT_MANAGE,
        P.CONSENT_RECORD,
        P.DOCUMENT_SIGN,
        P.DEVIATION_REPORT,
        P.DEVIATION_HANDLE,
        P.PAYMENT_VIEW,
        P.PAYMENT_DISPUTE,
    },
    Role.HOME_CARE_NURSE: CLINICAL
    | {
        P.CASE_RECEIVE,
        P.MESSAGE_SEND,
        P.SIP_MANAGE,
        P.OUTPATIENT_MANAGE,
        P.CONSENT_RECORD,
        P.DOCUMENT_SIGN,
        P.DEVIATION_REPORT,
    },
    Role.CARE_MANAGER: CLINICAL
    | {P.CASE_RECEIVE, P.MESSAGE_SEND, P.SIP_MANAGE, P.CONSENT_RECORD, P.DOCUMENT_SIGN, P.DEVIATION_REPORT},
    Role.CARE_COORDINATOR: CLINICAL
    | {
        P.PERSON_LOOKUP,
        P.CASE_RECEIVE,
        P.CASE_APPOINT_COORDINATOR,
        P.MESSAGE_SEND,
        P.SIP_MANAGE,
        P.OUTPATIENT_MANAGE,
        P.CONSENT_RECORD,
        P.DOCUMENT_SIGN,
        P.DEVIATION_REPORT,
        P.DEVIATION_HANDLE,
    },
    Role.READ_ONLY: CLINICAL,
    Role.STATISTICS: EVERYONE
    | {
        P.STATISTICS_VIEW,
        P.PAYMENT_VIEW,
        P.DEVIATION_OVERVIEW,
    },
    Role.LOG_REVIEWER: EVERYONE | {P.ACCESS_LOG_REVIEW},
    Role.LOCAL_ADMIN: EVERYONE | {P.UNIT_ADMIN, P.API_TOKEN_MANAGE},
    Role.GITS_COORDINATOR: EVERYONE
    | {
        P.GOVERNANCE_MANAGE,
        P.ECONOMY_VIEW,
        P.ECONOMY_MANAGE,
        P.STATISTICS_VIEW,
        P.PAYMENT_VIEW,
        P.PAYMENT_MANAGE,
        P.REGISTRY_ADMIN,
        P.DEVIATION_OVERVIEW,
    },
    Role.FORUM_MEMBER: EVERYONE
    | {
        P.GOVERNANCE_DECIDE,
        P.ECONOMY_VIEW,
        P.DEVIATION_OVERVIEW,
    },
    Role.SYSTEM: {
        P.PERSON_READ,
        P.CASE_READ,
        P.PERSON_LOOKUP,
        P.CASE_CREATE,
        P.CASE_UPDATE,
        P.CASE_RECEIVE,
        P.MESSAGE_SEND,
    },
}


def test_every_role_is_in_the_matrix() -> None:
    assert set(EXPECTED) == set(Role) == set(ROLE_PERMISSIONS)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("perm", list(Perm))
def test_permission_matrix(role: Role, perm: Perm) -> None:
    assert role_has(role.value, perm) is (perm in EXPECTED[role])


def test_deviations_are_handled_by_receiving_roles_and_counted_by_oversight() -> None:
    """Collaboration deviations: the roles that receive notices for a unit investigate and answer; GITS, forum
    members and statistics see only the suppressed counts."""
    assert {r for r in Role if role_has(r.value, Perm.DEVIATION_HANDLE)} == {
        Role.WARD_NURSE,
        Role.MUNICIPAL_CONTACT,
        Role.CARE_COORDINATOR,
    }
    assert {r for r in Role if role_has(r.value, Perm.DEVIATION_OVERVIEW)} == {
        Role.GITS_COORDINATOR,
        Role.FORUM_MEMBER,
        Role.STATISTICS,
    }


def test_only_physicians_set_discharge_ready() -> None:
    # R-DEF-UK-1: only the treating physician's assessment makes a patient utskrivningsklar.
    assert [r for r in Role if role_has(r.value, Perm.CASE_SET_DISCHARGE_READY)] == [Role.PHYSICIAN]


@pytest.mark.parametrize("role", [None, "", "superuser", "admin", "PHYSICIAN"])
def test_unknown_or_missing_roles_fail_closed(role: str | None) -> None:
    assert not any(role_has(role, perm) for perm in Perm)
