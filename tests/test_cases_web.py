"""The case web pages through the client: a case from admission to closing across a ward, a vårdcentral and
a municipal contact point; Swedish errors next to fields; need-to-know returns 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from brygga.access.models import AccessLogEntry
from brygga.accounts.permissions import Role
from brygga.cases.models import Case, CaseEvent
from tests.factories import CONTACT_POINT, PRIMARY_CARE, WARD, actor, make_person, share_consent, unit

pytestmark = pytest.mark.django_db


def client_for(role: Role, unit_name: str) -> Client:
    client = Client()
    client.force_login(actor(role, unit_name).user)
    return client


def post(client: Client, case: Case, action: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post(reverse("cases:action", args=[case.pk, action]), data or {})


def test_case_from_admission_to_closing_across_three_units() -> None:
    nurse = client_for(Role.WARD_NURSE, WARD)
    physician = client_for(Role.PHYSICIAN, WARD)
    contact = client_for(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    vc = client_for(Role.CARE_COORDINATOR, PRIMARY_CARE)
    person = make_person("1480")
    now = dt.datetime.now().replace(microsecond=0)  # noqa: DTZ005 — a form value in local time
    response = nurse.post(
        reverse("cases:new"),
        {
            "identifier": person.identifier,
            "admitted_at": (now - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "care_type": "somatic",
            "expected_discharge_date": (now + dt.timedelta(days=3)).date().isoformat(),
            "need_assessed": "on",
            "send_notice": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    case = Case.objects.get(person=person)
    # The contact point sees it as new in its inbox and acknowledges
    inbox = contact.get(reverse("cases:inbox")).content.decode()
    assert "Testa Testsson" in inbox and "Ny" in inbox
    assert post(contact, case, "acknowledge").status_code == 302
    # The vårdcentral appoints the fast vårdkontakt
    assert (
        post(
            vc, case, "coordinator", {"coordinator_name": "Frida V", "coordinator_phone": "031-1"}
        ).status_code
        == 302
    )
    # Planning basis with "vet ej"
    planning = {f"answers.{k}": "vet_ej" for k in ("lives_alone", "home_care_before", "home_health_before")}
    planning |= {f"answers.{k}": "nej" for k in ("aids_needed", "cognitive_impairment", "relatives_informed")}
    planning |= {"needs.social_services": "ja", "needs.municipal_health": "nej", "needs.primary_care": "ja"}
    assert post(nurse, case, "planning", planning).status_code == 302
    assert (
        post(
            contact,
            case,
            "meeting",
            {"form": "video", "starts_at": (now + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")},
        ).status_code
        == 302
    )
    assert post(physician, case, "discharge-ready").status_code == 302
    recorder = actor(Role.WARD_NURSE, WARD, username="samtycke")
    share_consent(recorder, person, [unit(CONTACT_POINT)], ("health", "sip"))  # R-SEK-2: the person consents
    summons = {
        "need_description": "Hemtjänst och vårdcentralens insatser",
        "meeting_at": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "location": "Vårdcentralen",
    }
    assert post(vc, case, "sip-summons", summons).status_code == 302
    assert (
        post(
            nurse, case, "message", {"category": "discharge", "subject": "Hemgång", "body": "Hem i morgon"}
        ).status_code
        == 302
    )
    assert post(nurse, case, "discharge-info", {"summary_given": "on"}).status_code == 302
    assert post(nurse, case, "discharge").status_code == 302
    page = contact.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Utskriven" in page and "Frida V" in page and "Hemgång" in page
    assert post(nurse, case, "close").status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True).order_by("id")) == [
        "admitted",
        "admission_notice_sent",
        "acknowledged",
        "coordinator_appointed",
        "planning_updated",
        "meeting_booked",
        "discharge_ready_set",
        "sip_summons_sent",
        "message_sent",
        "discharge_info_sent",
        "discharged",
        "discharge_notice_sent",
        "closed",
    ]


def test_refused_step_shows_swedish_error_next_to_field_and_changes_nothing() -> None:
    nurse_actor = actor(Role.WARD_NURSE, WARD)
    from brygga.cases import services

    case = services.admit(
        nurse_actor,
        make_person(),
        admitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        care_type="somatic",
        expected_discharge_date=dt.date.today() + dt.timedelta(days=2),  # noqa: DTZ011
    )
    nurse = Client()
    nurse.force_login(nurse_actor.user)
    response = post(nurse, case, "expected-date", {"expected_discharge_date": "2001-01-01", "reason": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-expected-date-expected_discharge_date"' in html
    assert "kan inte vara före inskrivningen" in html and 'aria-invalid="true"' in html
    response = post(nurse, case, "discharge-ready")
    assert response.status_code == 403 and "R-DEF-UK-1" in response.content.decode()
    assert not CaseEvent.objects.filter(case=case).exclude(kind="admitted").exists()


def test_uninvolved_unit_gets_404_and_the_case_page_is_logged() -> None:
    nurse_actor = actor(Role.WARD_NURSE, WARD)
    from brygga.cases import services

    case = services.admit(
        nurse_actor, make_person(), admitted_at=dt.datetime.now(dt.UTC), care_type="psychiatric"
    )
    other = client_for(Role.MUNICIPAL_CONTACT, "Borås kontaktpunkt")
    assert other.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert post(other, case, "acknowledge").status_code == 404
    nurse = Client()
    nurse.force_login(nurse_actor.user)
    assert nurse.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert AccessLogEntry.objects.filter(person=case.person, what=f"case:{case.pk}", action="read").exists()


def test_inbox_shows_all_units_and_the_menu_link() -> None:
    a = actor(Role.WARD_NURSE, WARD, username="tva-enheter")
    from brygga.accounts.models import Membership
    from tests.factories import unit

    Membership.objects.create(user=a.user, unit=unit("Sahlgrenska, geriatrisk avdelning"), role="ward_nurse")
    client = Client()
    client.force_login(a.user)
    client.post(reverse("web:choose_unit"), {"membership": a.membership.pk})  # type: ignore[union-attr]
    html = client.get(reverse("cases:inbox")).content.decode()
    assert WARD in html and "Sahlgrenska, geriatrisk avdelning" in html
    assert reverse("cases:inbox") in html and 'scope="row"' in html


def test_demo_cases_load_idempotently_and_show_on_the_start_page(demo) -> None:  # type: ignore[no-untyped-def]
    from brygga.demo.cases import load_cases_demo
    from brygga.demo.personas import DEMO_PASSWORD

    count = Case.objects.count()
    assert count == 4
    assert load_cases_demo() == 0 and Case.objects.count() == count
    overdue = Case.objects.get(external_id="DEMO-2")
    assert overdue.notice_sent_at is None and overdue.notice_due_at is not None
    client = Client()
    client.post(reverse("accounts:login"), {"username": "kontaktpunkt", "password": DEMO_PASSWORD})
    home = client.get("/").content.decode()
    assert "Inkorgar" in home and "Göteborg kontaktpunkt" in home
    inbox = client.get(reverse("cases:inbox")).content.decode()
    assert "Skyddad identitet" in inbox and "Astrid" in inbox


def test_patient_summary_shows_coordinator_and_plans_and_is_logged_as_export_R_UTS_2() -> None:
    from brygga.cases import services

    nurse_actor = actor(Role.WARD_NURSE, WARD)
    case = services.admit(
        nurse_actor,
        make_person(),
        admitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3),
        care_type="somatic",
        expected_discharge_date=dt.date.today() + dt.timedelta(days=1),  # noqa: DTZ011
    )
    services.send_admission_notice(nurse_actor, case)
    services.appoint_coordinator(actor(Role.CARE_COORDINATOR, PRIMARY_CARE), case, "Frida V", "031-1")
    client = Client()
    client.force_login(nurse_actor.user)
    html = client.get(reverse("cases:patient_summary", args=[case.pk])).content.decode()
    assert "Frida V" in html and "Planer efter utskrivningen" in html
    assert AccessLogEntry.objects.filter(
        person=case.person, action="export", what=f"case:{case.pk}/sammanfattning"
    ).exists()


def test_manual_addressing_by_hsa_id_for_a_person_outside_vg_R_INS_7() -> None:
    from brygga.access.persons import register_person
    from brygga.cases import services
    from tests.factories import unit

    nurse_actor = actor(Role.WARD_NURSE, WARD)
    person = register_person(make_person().identifier, "Bor", "Utomlands", "Gatan 1", "11122", "Oslo")
    case = services.admit(
        nurse_actor,
        person,
        admitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        care_type="somatic",
        expected_discharge_date=dt.date.today() + dt.timedelta(days=2),  # noqa: DTZ011
    )
    nurse = Client()
    nurse.force_login(nurse_actor.user)
    refused = post(nurse, case, "notice", {})
    assert refused.status_code == 400 and "R-INS-7" in refused.content.decode()
    target = unit(CONTACT_POINT)
    assert post(nurse, case, "notice", {"recipients_hsa": target.hsa_id}).status_code == 302
    assert case.participants.filter(unit=target, addressing="manual").exists()


def test_correction_and_reserve_number_replacement_through_the_page() -> None:
    from brygga.access.persons import register_person
    from brygga.cases import services

    nurse_actor = actor(Role.WARD_NURSE, WARD)
    reserve = register_person("20261101-R007", "Okänd", "Kvinna", "Okänd 1", "41301", "Göteborg", "1480")
    admitted = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=4)
    case = services.admit(nurse_actor, reserve, admitted_at=admitted, care_type="somatic")
    nurse = Client()
    nurse.force_login(nurse_actor.user)
    page = nurse.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Ersätt reservnummer med personnummer" in page
    event = CaseEvent.objects.get(case=case, kind="admitted")
    refused = post(nurse, case, "correct-notice", {"target_event": event.pk, "new_time": "", "reason": "x"})
    assert refused.status_code == 400 and 'id="error-correct-notice-new_time"' in refused.content.decode()
    local = dt.datetime.now() - dt.timedelta(hours=6)  # noqa: DTZ005 — form input in local time
    ok = post(
        nurse,
        case,
        "correct-notice",
        {"target_event": event.pk, "new_time": local.strftime("%Y-%m-%dT%H:%M"), "reason": "Fel tid"},
    )
    assert ok.status_code == 302
    real = make_person("1480")
    assert post(nurse, case, "replace-reserve", {"identifier": real.identifier}).status_code == 302
    case.refresh_from_db()
    assert case.person == real and case.admitted_at < admitted
    assert list(
        CaseEvent.objects.filter(case=case, kind="notice_corrected").values_list("data__field", flat=True)
    ) == ["admitted_at", "person"]
