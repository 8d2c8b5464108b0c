"""Collaboration deviations (avvikelser i samverkan): reported without personal data (R-AVV-1), between two
principals (R-AVV-PART), through reported → received → under investigation → answered → closed (R-AVV-FLOW) with
deadlines (R-AVV-4), seen only by the two parties (404 otherwise), counted per quarter with suppression, and in
the quarterly report to SITIV."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.deviations import selectors, services
from brygga.deviations.models import Category, Deviation, DeviationEvent, DeviationState
from brygga.deviations.personal_data import find_identity_numbers
from brygga.governance.report import quarterly_report, report_pdf
from brygga.organisations.models import Organisation
from tests import factories
from tests.factories import CONTACT_POINT, actor
from tests.test_governance_web import as_actor

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Europe/Stockholm")
T0 = dt.datetime(2026, 2, 10, 9, 0, tzinfo=TZ)
S = DeviationState


def gothenburg() -> Organisation:
    return Organisation.objects.get(municipality__scb_code="1480")


def boras() -> Organisation:
    return Organisation.objects.get(municipality__scb_code="1490")


def region() -> Organisation:
    return Organisation.objects.get(kind=Organisation.Kind.REGION)


def report(
    a,
    receiving=None,
    category=Category.ADMISSION_NOTICE,
    text="Inskrivningsmeddelandet kom två dagar sent.",
    **kw,
):  # type: ignore[no-untyped-def]
    return services.report_deviation(
        a, category, kw.pop("occurred_on", dt.date(2026, 2, 9)), receiving or gothenburg(), text, **kw
    )


def rules(exc: pytest.ExceptionInfo[DomainError]) -> set[str]:
    return {p.rule for p in exc.value.problems}


# --- R-AVV-1: no personal data ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Patienten 19121212-1212 fick inget inskrivningsmeddelande.",
        "Gäller 121212-1212, utskriven utan planering.",
        "Gäller 191212121212 på avd 12.",
        "Gäller 1212121212.",
        "Samordningsnummer 701063-2391 saknades.",
        "Reservnummer 19500101R123 användes.",
        "Fel kontrollsiffra men ändå ett nummer: 121212-1213.",
    ],
)
def test_r_avv_1_identity_number_in_the_text_is_refused_and_nothing_saved(nurse, text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        report(nurse, text=text)
    assert rules(exc) == {"R-AVV-1"}
    assert exc.value.problems[0].field == "description"
    assert "personnummer" in exc.value.problems[0].message
    assert not Deviation.objects.exists() and not DeviationEvent.objects.exists()


def test_r_avv_1_a_test_persons_number_is_found_and_ordinary_numbers_are_not() -> None:
    assert find_identity_numbers(f"Gäller {factories.test_identifier()}")
    assert not find_identity_numbers(
        "Ring 031-123 45 67 eller 0701234568, ärende 2026-02-10, avd 34, 12 timmar"
    )


def test_r_avv_1_also_checks_the_answer(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    deviation = report(nurse)
    services.move(contact, deviation, S.RECEIVED)
    services.move(contact, deviation, S.INVESTIGATING)
    with pytest.raises(DomainError) as exc:
        services.move(contact, deviation, S.ANSWERED, "Vi har pratat med 19121212-1212 om saken.")
    assert rules(exc) == {"R-AVV-1"}
    deviation.refresh_from_db()
    assert deviation.state == S.INVESTIGATING and deviation.answer == ""


def test_r_avv_part_and_fields_are_refused_together(nurse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        services.report_deviation(nurse, "nonsense", "2099-01-01", region(), "kort")
    assert {(p.field, p.rule) for p in exc.value.problems} == {
        ("category", "R-AVV-FIELD"),
        ("occurred_on", "R-AVV-FIELD"),
        ("receiving_organisation", "R-AVV-PART"),  # a VGR ward cannot report a deviation against VGR
        ("description", "R-AVV-FIELD"),
    }
    assert not Deviation.objects.exists()


def test_reporting_needs_the_permission(db) -> None:  # type: ignore[no-untyped-def]
    gits = actor(Role.GITS_COORDINATOR, "GITS kansli")
    with pytest.raises(PermissionDenied):
        report(gits)
    assert not Deviation.objects.exists()


# --- R-AVV-FLOW and R-AVV-4 ------------------------------------------------------------------------------------


@time_machine.travel(T0, tick=False)
def test_state_flow_reported_to_closed_with_deadlines(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    deviation = report(nurse, source_reference="in- och utskrivningsärende")
    assert deviation.number == "AVV-2026-0001"
    assert deviation.state == S.REPORTED
    assert deviation.reporting_organisation == region() and deviation.receiving_organisation == gothenburg()
    assert deviation.subregion.name == "Göteborgsområdet"
    assert deviation.receive_due == dt.date(2026, 2, 15) and deviation.answer_due == dt.date(2026, 3, 12)

    # The reporter cannot receive its own deviation; the receiver cannot skip a step.
    with pytest.raises(DomainError) as exc:
        services.move(nurse, deviation, S.RECEIVED)
    assert rules(exc) == {"R-AVV-FLOW"}
    with pytest.raises(DomainError) as exc:
        services.move(contact, deviation, S.ANSWERED, "Svar utan att ha tagit emot den.")
    assert rules(exc) == {"R-AVV-FLOW"}

    services.move(contact, deviation, S.RECEIVED)
    services.move(contact, deviation, S.INVESTIGATING, "Vi går igenom rutinen.")
    with pytest.raises(DomainError) as exc:
        services.move(contact, deviation, S.ANSWERED, "")
    assert {(p.field, p.rule) for p in exc.value.problems} == {("note", "R-AVV-FIELD")}
    with pytest.raises(DomainError) as exc:  # only the reporter closes
        services.move(contact, deviation, S.CLOSED)
    assert rules(exc) == {"R-AVV-FLOW"}

    services.move(contact, deviation, S.ANSWERED, "Kontaktpunkten var obemannad; bemanningen är ändrad.")
    services.move(nurse, deviation, S.CLOSED)
    deviation.refresh_from_db()
    assert deviation.state == S.CLOSED and deviation.closed_at is not None
    assert list(deviation.events.values_list("to_state", flat=True)) == [
        S.REPORTED,
        S.RECEIVED,
        S.INVESTIGATING,
        S.ANSWERED,
        S.CLOSED,
    ]
    assert [(d.met, d.overdue) for d in selectors.deadlines(deviation)] == [(True, False), (True, False)]


def test_r_avv_4_deadlines_show_overdue(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        deviation = report(nurse)
    rows = selectors.deadlines(deviation, today=dt.date(2026, 2, 20))
    assert [(r.due, r.overdue) for r in rows] == [(dt.date(2026, 2, 15), True), (dt.date(2026, 3, 12), False)]


# --- Need-to-know: only the two parties ------------------------------------------------------------------------


def test_another_organisation_cannot_see_or_move_a_deviation_it_is_not_party_to(nurse, contact) -> None:  # type: ignore[no-untyped-def]
    deviation = report(nurse)
    other = actor(Role.MUNICIPAL_CONTACT, "Borås kontaktpunkt")
    with pytest.raises(NotFound):
        selectors.get_for(other, deviation.number)
    with pytest.raises(NotFound):
        services.move(other, deviation, S.RECEIVED)
    assert not selectors.visible_to(other).exists()
    # Both parties see it; another ward of the same principal (VGR) too, as the region is the party.
    assert selectors.get_for(contact, deviation.number) == deviation
    assert selectors.get_for(actor(Role.WARD_NURSE, "NÄL, medicinavdelning"), deviation.number) == deviation

    web = as_actor(Client(), other)
    assert web.get(f"/avvikelser/{deviation.number}/").status_code == 404
    response = web.post(f"/avvikelser/{deviation.number}/steg/", {"to_state": "received"})
    assert response.status_code == 404
    deviation.refresh_from_db()
    assert deviation.state == S.REPORTED and deviation.events.count() == 1
    assert deviation.number not in web.get("/avvikelser/").content.decode()


# --- Counts per quarter with suppression, and the quarterly report ---------------------------------------------


def _many(nurse, n: int, category: str, receiving: Organisation, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        for _i in range(n):
            report(nurse, receiving=receiving, category=category)


def test_quarter_counts_per_category_and_subregion_suppress_small_counts(nurse) -> None:  # type: ignore[no-untyped-def]
    _many(nurse, 7, Category.ADMISSION_NOTICE, gothenburg(), T0)
    _many(nurse, 2, Category.SIP_NOT_CALLED, boras(), T0)
    _many(nurse, 3, Category.IT_SUPPORT, gothenburg(), dt.datetime(2026, 4, 2, 9, 0, tzinfo=TZ))  # Q2
    counts = selectors.quarter_counts(2026, 1, today=dt.date(2026, 3, 1))
    assert counts.raw_total == 9 and str(counts.total) == "9"
    by_category = {label: str(cell) for label, cell in counts.by_category}
    assert by_category[str(Category.SIP_NOT_CALLED.label)] == "<5"
    # one hidden cell would be 9 − 7: the next smallest non-zero cell is hidden too
    assert by_category[str(Category.ADMISSION_NOTICE.label)] == ".."
    assert by_category[str(Category.IT_SUPPORT.label)] == "0"
    by_subregion = {name: str(cell) for name, cell in counts.by_subregion}
    assert by_subregion["Södra Älvsborg"] == "<5" and by_subregion["Göteborgsområdet"] == ".."
    assert all("2" not in line and "7" not in line for line in counts.lines())
    q2 = selectors.quarter_counts(2026, 2)
    assert str(q2.total) == "<5"


def test_quarterly_report_includes_collaboration_deviations(nurse) -> None:  # type: ignore[no-untyped-def]
    _many(nurse, 6, Category.INFORMATION_TRANSFER, gothenburg(), T0)
    result = quarterly_report(2026, 1)
    assert result.collaboration is not None and str(result.collaboration.total) == "6"
    assert any("Informationsöverföring brister: 6" in line for line in result.collaboration.lines())
    assert report_pdf(result).startswith(b"%PDF")
    gits = as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    page = gits.get("/forvaltning/rapport/2026/1/").content.decode()
    assert "Avvikelser i samverkan" in page and "Informationsöverföring brister" in page
    overview = gits.get("/avvikelser/oversikt/?ar=2026&kvartal=1")
    assert overview.status_code == 200 and "Göteborgsområdet" in overview.content.decode()
    # GITS sees counts only, never a single deviation
    one = Deviation.objects.first()
    assert one is not None
    assert gits.get(f"/avvikelser/{one.number}/").status_code == 403


# --- Through the web client ------------------------------------------------------------------------------------


def test_report_form_refuses_personnummer_next_to_the_field_and_keeps_nothing(nurse) -> None:  # type: ignore[no-untyped-def]
    web = as_actor(Client(), nurse)
    page = web.get(f"/avvikelser/ny/?fran=in- och utskrivningsärende&mottagare={gothenburg().pk}")
    html = page.content.decode()
    assert page.status_code == 200 and "Skriv inga personuppgifter" in html and "R-AVV-1" in html
    assert f'value="{gothenburg().pk}" selected' in html
    data = {
        "category": Category.DISCHARGE_UNPLANNED,
        "occurred_on": "2026-02-09",
        "receiving_organisation": str(gothenburg().pk),
        "description": "Utskriven utan planering, gäller 19121212-1212.",
        "source_reference": "in- och utskrivningsärende",
    }
    refused = web.post("/avvikelser/ny/", data)
    body = refused.content.decode()
    assert refused.status_code == 400 and "R-AVV-1" in body and 'id="error-report-description"' in body
    assert not Deviation.objects.exists()
    data["description"] = "Utskriven utan planering trots att kommunen meddelat behov."
    response = web.post("/avvikelser/ny/", data)
    deviation = Deviation.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{deviation.number}/")
    assert deviation.source_reference == "in- och utskrivningsärende"

    contact = as_actor(Client(), actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT))
    assert deviation.number in contact.get("/avvikelser/").content.decode()
    url = f"/avvikelser/{deviation.number}/steg/"
    assert contact.post(url, {"to_state": "received"}).status_code == 302
    assert contact.post(url, {"to_state": "investigating"}).status_code == 302
    bad = contact.post(url, {"to_state": "answered", "note": ""})
    assert bad.status_code == 400 and "R-AVV-FIELD" in bad.content.decode()
    assert (
        contact.post(
            url, {"to_state": "answered", "note": "Rutinen är genomgången med personalen."}
        ).status_code
        == 302
    )
    assert web.post(url, {"to_state": "closed"}).status_code == 302
    deviation.refresh_from_db()
    assert deviation.state == S.CLOSED


def test_case_page_links_to_reporting_a_deviation_with_the_counterparty_and_no_personal_data(demo) -> None:  # type: ignore[no-untyped-def]
    from brygga.accounts.models import User
    from brygga.cases.models import Case

    client = Client()
    client.force_login(User.objects.get(username="lakare"))
    case = Case.objects.filter(ward__name="Sahlgrenska, medicinavdelning", municipality__isnull=False).first()
    assert case is not None and case.municipality is not None
    page = client.get(f"/arenden/{case.pk}/").content.decode()
    assert "Rapportera avvikelse i samverkan" in page
    href = page.split("/avvikelser/ny/?", 1)[1].split('"', 1)[0]
    assert f"mottagare={case.municipality.organisation_id}" in href
    assert case.person.identifier not in href and case.person.family_name not in href
    form = client.get("/avvikelser/ny/?" + href.replace("&amp;", "&")).content.decode()
    assert f'value="{case.municipality.organisation_id}" selected' in form


def test_demo_deviations_in_every_state_and_idempotent(demo) -> None:  # type: ignore[no-untyped-def]
    from brygga.demo.deviations import load_deviations_demo

    assert set(Deviation.objects.values_list("state", flat=True)) == set(S.values)
    assert load_deviations_demo() == 0
    assert Deviation.objects.count() == 5
    contact = as_actor(Client(), actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT))
    assert contact.get("/avvikelser/").content.decode().count("AVV-") >= 4


def test_api_counts_are_suppressed_and_need_the_overview_permission(nurse) -> None:  # type: ignore[no-untyped-def]
    _many(nurse, 6, Category.ADMISSION_NOTICE, gothenburg(), T0)
    _many(nurse, 1, Category.IT_SUPPORT, boras(), T0)
    gits = as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    data = gits.get("/api/v1/deviations/counts?year=2026&quarter=1").json()
    assert data["total"] == 7
    by_category = {row["label"]: row["count"] for row in data["by_category"]}
    assert by_category[str(Category.IT_SUPPORT.label)] == "<5"
    assert by_category[str(Category.ADMISSION_NOTICE.label)] == ".."
    bad = gits.get("/api/v1/deviations/counts?year=2026&quarter=5")
    assert bad.status_code == 400 and bad.json()["problems"][0]["rule"] == "R-AVV-FIELD"
    web = as_actor(Client(), nurse)
    assert web.get("/api/v1/deviations/counts?year=2026&quarter=1").status_code == 403
