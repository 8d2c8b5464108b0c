"""Set-up steps for the receiving-side browser tests (tests/test_receiving_browser.py), run inside the e2e
server's database with `manage.py shell -c "from tests.receiving_scenario import …"`. They call the same
services the pages call, as the ward's and the vårdcentral's demo users, so the browser tests spend their time
on the receiving side. Test identity numbers only."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from brygga.access.persons import register_person
from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.cases import services
from brygga.cases.models import Case
from brygga.consent.services import record_consent
from brygga.organisations.models import Unit

WARD = "Sahlgrenska, medicinavdelning"
PRIMARY_CARE = "Närhälsan Göteborg vårdcentral"


def as_user(username: str, unit_name: str) -> Actor:
    return Actor.for_membership(Membership.objects.get(user__username=username, unit__name=unit_name))


def admit(
    identifier: str,
    given: str,
    family: str,
    extra_units: tuple[str, ...] = (),
    consents: dict[str, tuple[str, ...]] | None = None,
) -> int:
    """A patient admitted two hours ago at the demo ward, the notice sent (contact point and vårdcentral from
    folkbokföring and listing, plus ``extra_units``), the planning basis filled in, and the person's consent
    per receiving unit name → categories. Prints nothing; returns the case id."""
    nurse = as_user("sjukskoterska", WARD)
    person = register_person(
        identifier,
        given,
        family,
        "Provgatan 9",
        "41301",
        "Göteborg",
        municipality_code="1480",
        listed_unit_hsa_id=Unit.objects.get(name=PRIMARY_CARE).hsa_id,
    )
    now = timezone.now()
    case = services.admit(
        nurse,
        person,
        admitted_at=now - dt.timedelta(hours=2),
        care_type="somatic",
        expected_discharge_date=(now + dt.timedelta(days=3)).date(),
        need_assessed_at=now - dt.timedelta(hours=2),
    )
    services.send_admission_notice(nurse, case)
    for name in extra_units:
        services.add_recipient(nurse, case, Unit.objects.get(name=name))
    services.save_planning_basis(
        nurse,
        case,
        answers={
            "lives_alone": "ja",
            "home_care_before": "nej",
            "home_health_before": "nej",
            "aids_needed": "ja",
            "cognitive_impairment": "nej",
            "relatives_informed": "ja",
        },
        needs={"social_services": "ja", "municipal_health": "ja", "primary_care": "ja"},
        nursing_status={"pain": "Smärtfri i vila", "mobility": "Går med rollator"},
        medications="Waran 2,5 mg enligt ordination",
    )
    for unit_name, categories in (consents or {}).items():
        record_consent(
            nurse,
            person,
            given_by="person",
            form="verbal",
            purpose="Utskrivning och SIP",
            parties=[Unit.objects.get(name=unit_name)],
            categories=list(categories),
            exclusions_note="Inget",
        )
    return case.pk


def discharge_ready(case_id: int) -> None:
    services.set_discharge_ready(as_user("lakare", WARD), Case.objects.get(pk=case_id))


def change_nursing(case_id: int, pain: str) -> None:
    case = Case.objects.get(pk=case_id)
    planning = case.planning
    services.save_planning_basis(
        as_user("sjukskoterska", WARD),
        case,
        answers=planning.answers,
        needs={k: v["answer"] for k, v in planning.needs.items()},
        needs_text={k: v.get("text", "") for k, v in planning.needs.items()},
        nursing_status={**planning.nursing_status, "pain": pain},
        medications=planning.medications,
    )


def summon_sip(case_id: int) -> int:
    from brygga.receiving.sip import summon_sip_from_case

    sip = summon_sip_from_case(
        as_user("fastvardkontakt", PRIMARY_CARE),
        Case.objects.get(pk=case_id),
        need_description="Hemtjänst, hemsjukvård och vårdcentralens insatser",
        meeting_at=timezone.now() + dt.timedelta(days=2),
        location="Vårdcentralen",
    )
    return sip.pk
