"""Consent and the disclosure decision (R-SEK-1..4): tests that fail if information leaks to a party without
a basis — a withdrawn consent, an excluded party, an excluded category, another principal without a basis."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
import time_machine
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.consent.models import Consent, DisclosureAssessment
from brygga.consent.services import (
    decide_disclosure,
    disclosure_overview,
    record_assessment,
    record_consent,
    withdraw_consent,
)
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from tests.factories import PRIMARY_CARE, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

HOME = "Göteborg hemsjukvård"
SOCIAL = "Göteborg biståndsenhet"
BORAS_HOME = "Borås hemsjukvård"
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def person():  # type: ignore[no-untyped-def]
    p = make_person()
    involve(p, unit(WARD), Involvement.Kind.OTHER, "test:consent", at=T0 - dt.timedelta(days=1))
    return p


def consent(nurse, person, **overrides):  # type: ignore[no-untyped-def]
    fields: dict[str, Any] = {
        "given_by": Consent.GivenBy.PERSON,
        "form": "verbal",
        "purpose": "Planering inför utskrivning",
        "parties": [unit(HOME), unit(PRIMARY_CARE)],
        "categories": ["health", "medications", "sip"],
        "exclusions_note": "Inget om missbruk",
    }
    fields.update(overrides)
    return record_consent(nurse, person, **fields)


def test_admission_notice_fields_pass_without_consent_r_sek_3(person) -> None:  # type: ignore[no-untyped-def]
    for category in ("identity", "address", "expected_discharge"):
        basis = decide_disclosure(person, category, unit(HOME), unit(WARD))
        assert basis.kind == "admission_notice" and basis.rule == "R-SEK-3"


def test_health_information_to_another_principal_without_basis_is_refused_r_sek_2(person) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        decide_disclosure(person, "health", unit(HOME), unit(WARD))
    assert exc.value.problems[0].rule == "R-SEK-2"
    assert exc.value.status == 403


def test_recorded_consent_is_the_basis_and_names_itself(person, nurse) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        c = consent(nurse, person)
        basis = decide_disclosure(person, "health", unit(HOME), unit(WARD))
    assert basis.kind == "consent" and basis.ref == c.pk and basis.rule == "R-SEK-3"
    assert c.recorded_by == nurse.user and c.recorded_unit == unit(WARD)
    assert AccessLogEntry.objects.filter(person=person, what=f"samtycke:{c.pk}", action="create").exists()


def test_withdrawn_consent_is_no_longer_a_basis_r_sek_3(person, nurse) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        c = consent(nurse, person)
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        withdraw_consent(nurse, c, note="Vill inte längre")
        with pytest.raises(DomainError) as exc:
            decide_disclosure(person, "health", unit(HOME), unit(WARD))
        assert exc.value.problems[0].rule == "R-SEK-3"
        assert "återkallades" in exc.value.problems[0].message
        # Before the withdrawal the same sharing was allowed: the decision is about time, not just state.
        assert decide_disclosure(
            person, "health", unit(HOME), unit(WARD), now=T0 + dt.timedelta(days=1)
        ).kind == ("consent")
        with pytest.raises(DomainError) as again:
            withdraw_consent(nurse, c)
    assert again.value.problems[0].rule == "FEL-STATUS"


def test_excluded_party_is_refused_even_if_another_consent_names_it_r_sek_4(person, nurse) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        consent(nurse, person, excluded_parties=[unit(SOCIAL)])
        consent(nurse, person, parties=[unit(SOCIAL)], categories=["social"], exclusions_note="inget")
        with pytest.raises(DomainError) as exc:
            decide_disclosure(person, "social", unit(SOCIAL), unit(WARD))
    assert exc.value.problems[0].rule == "R-SEK-4" and exc.value.problems[0].field == "to_unit"


def test_excluded_category_is_refused_r_sek_4(person, nurse) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        consent(nurse, person, excluded_categories=["social"])
        with pytest.raises(DomainError) as exc:
            decide_disclosure(person, "social", unit(HOME), unit(WARD))
        # The excluded category is refused even towards the same principal.
        with pytest.raises(DomainError):
            decide_disclosure(person, "social", unit(PRIMARY_CARE), unit(WARD))
    assert exc.value.problems[0].rule == "R-SEK-4" and exc.value.problems[0].field == "category"


def test_consent_covers_only_named_parties_and_categories_r_sek_2(person, nurse) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        consent(nurse, person)
        with pytest.raises(DomainError) as other_unit:
            decide_disclosure(person, "health", unit(BORAS_HOME), unit(WARD))
        with pytest.raises(DomainError) as other_category:
            decide_disclosure(person, "function", unit(HOME), unit(WARD))
    assert other_unit.value.problems[0].rule == "R-SEK-2"
    assert other_category.value.problems[0].rule == "R-SEK-2"


def test_same_principal_needs_no_consent_but_social_services_is_another_secrecy_area_r_sek_1(person) -> None:  # type: ignore[no-untyped-def]
    assert decide_disclosure(person, "health", unit(PRIMARY_CARE), unit(WARD)).kind == "same_principal"
    with pytest.raises(DomainError) as exc:
        decide_disclosure(person, "health", unit(SOCIAL), unit(HOME))
    assert exc.value.problems[0].rule == "R-SEK-2"


def test_expired_consent_is_no_basis(person, nurse) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        consent(nurse, person, valid_until=dt.date(2026, 3, 10))
    with (
        time_machine.travel(dt.datetime(2026, 3, 11, 9, tzinfo=dt.UTC), tick=False),
        pytest.raises(DomainError) as exc,
    ):
        decide_disclosure(person, "health", unit(HOME), unit(WARD))
    assert exc.value.problems[0].rule == "R-SEK-2"


def test_consent_without_exclusions_answer_is_refused_and_nothing_written_r_sek_4(person, nurse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        consent(nurse, person, exclusions_note=" ", given_by="representative", parties=[])
    fields = {(p.field, p.rule) for p in exc.value.problems}
    assert ("exclusions_note", "R-SEK-4") in fields
    assert ("representative_name", "R-SEK-3") in fields
    assert ("parties", "R-SEK-3") in fields
    assert not Consent.objects.filter(person=person).exists()


def test_representative_consent_records_who_gave_it(person, nurse) -> None:  # type: ignore[no-untyped-def]
    c = consent(
        nurse,
        person,
        given_by="representative",
        representative_name="Vera Vårdnad",
        representative_relation="God man",
    )
    basis = decide_disclosure(person, "health", unit(HOME), unit(WARD))
    assert c.given_by == "representative" and "Vera Vårdnad" in basis.label


def test_unit_without_involvement_cannot_record_consent(person) -> None:  # type: ignore[no-untyped-def]
    other = actor(Role.HOME_CARE_NURSE, BORAS_HOME)
    with pytest.raises(NotFound):
        consent(other, person)
    assert not Consent.objects.exists()


def test_physician_assessment_is_the_alternative_basis_r_sek_3(person) -> None:  # type: ignore[no-untyped-def]
    physician = actor(Role.PHYSICIAN, WARD)
    with time_machine.travel(T0, tick=False):
        assessment = record_assessment(
            physician,
            person,
            parties=[unit(HOME)],
            categories=["health", "medications"],
            reasoning="Patienten kan inte ta ställning; uppgifterna behövs för nödvändig vård.",
            valid_until=dt.date(2026, 3, 20),
        )
        basis = decide_disclosure(person, "medications", unit(HOME), unit(WARD))
        assert basis.kind == "assessment" and basis.ref == assessment.pk
        with pytest.raises(DomainError):
            decide_disclosure(person, "social", unit(HOME), unit(WARD))
    with (
        time_machine.travel(dt.datetime(2026, 3, 21, 9, tzinfo=dt.UTC), tick=False),
        pytest.raises(DomainError) as expired,
    ):
        decide_disclosure(person, "medications", unit(HOME), unit(WARD))
    assert expired.value.problems[0].rule == "R-SEK-2"


def test_only_physicians_make_assessments_and_for_a_limited_time(person, nurse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        record_assessment(
            nurse,
            person,
            parties=[unit(HOME)],
            categories=["health"],
            reasoning="x",
            valid_until=timezone.localdate(),
        )
    physician = actor(Role.PHYSICIAN, WARD)
    with pytest.raises(DomainError) as exc:
        record_assessment(
            physician,
            person,
            parties=[unit(HOME)],
            categories=["health"],
            reasoning="Behövs",
            valid_until=timezone.localdate() + dt.timedelta(days=365),
        )
    assert exc.value.problems[0].rule == "R-SEK-3"
    assert not DisclosureAssessment.objects.exists()


def test_overview_shows_basis_or_rule_for_each_piece(person, nurse) -> None:  # type: ignore[no-untyped-def]
    consent(nurse, person, categories=["health"])
    rows = disclosure_overview(person, unit(WARD), [unit(HOME)], ["health", "social"])
    # disclosure_overview builds each row's "cells" as a list of dicts (category, label, basis, refusal)
    cells = {c["category"]: c for c in cast(list[dict[str, Any]], rows[0]["cells"])}
    assert cells["health"]["basis"].kind == "consent"
    assert cells["social"]["refusal"].rule == "R-SEK-2"
