"""Payment pages, exports and API: who sees which municipality, disputes and closing through the web, the
three export formats, the rule configuration page, and the JSON API over StayFacts."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from brygga.accounts.permissions import Role
from brygga.organisations.models import Municipality
from brygga.payment import services
from brygga.payment.models import DailyAmount, Dispute, SettlementRun
from tests.factories import CONTACT_POINT, WARD, actor
from tests.test_payment_engine import VG_MARCH_2022

pytestmark = pytest.mark.django_db

GITS = "GITS kansli"


@pytest.fixture
def runs() -> dict[str, SettlementRun]:
    gits = actor(Role.GITS_COORDINATOR, GITS, username="gits")
    result = {}
    for code in ("1480", "1490"):
        result[code] = services.run_settlement(
            gits, Municipality.objects.get(scb_code=code), 2022, 3, VG_MARCH_2022
        )
    return result


def as_user(client: Client, role: Role, unit: str, username: str) -> Client:
    client.force_login(actor(role, unit, username=username).user)
    return client


def test_municipality_sees_only_its_own_settlements(client: Client, runs) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    page = client.get(reverse("payment:settlement_list")).content.decode()
    assert "Göteborg" in page and reverse("payment:settlement_detail", args=[runs["1480"].pk]) in page
    assert reverse("payment:settlement_detail", args=[runs["1490"].pk]) not in page
    assert client.get(reverse("payment:settlement_detail", args=[runs["1490"].pk])).status_code == 404
    assert client.get(reverse("payment:export", args=[runs["1490"].pk, "csv"])).status_code == 404
    assert 'href="/betalningsansvar/"' in client.get("/").content.decode()  # nav link for PAYMENT_VIEW


def test_roles_without_payment_view_are_refused(client: Client, runs) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.WARD_NURSE, WARD, "nurse")
    assert client.get(reverse("payment:settlement_list")).status_code == 403
    assert 'href="/betalningsansvar/"' not in client.get("/").content.decode()


def test_detail_shows_lines_exclusions_problems_and_the_total(client: Client, runs) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    page = client.get(reverse("payment:settlement_detail", args=[runs["1480"].pk])).content.decode()
    assert "93\xa0000,00 kr" in page and "74\xa0400,00" in page
    assert "Undantagna ärenden" in page and "R-VG-BET-2" in page and "R-UK-2" in page
    assert "vg-average v1" in page and "Bestrid en rad" in page
    assert "Stäng avräkningen" not in page  # the municipality does not close


def test_web_dispute_resolution_close_and_refused_dispute_on_closed(client: Client, runs) -> None:  # type: ignore[no-untyped-def]
    run = runs["1480"]
    line = run.lines.get(case_reference="E")
    contact = Client()
    as_user(contact, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    empty = contact.post(reverse("payment:dispute", args=[run.pk]), {"line": line.pk, "comment": ""})
    assert empty.status_code == 400 and "Skriv varför raden bestrids" in empty.content.decode()
    assert not Dispute.objects.exists()
    ok = contact.post(reverse("payment:dispute", args=[run.pk]), {"line": line.pk, "comment": "Fel kommun."})
    assert ok.status_code == 302
    dispute = Dispute.objects.get()
    region = Client()
    as_user(region, Role.GITS_COORDINATOR, GITS, "gits")
    refused = region.post(reverse("payment:close", args=[run.pk]))
    # the Swedish reason, not the internal code (issue 13 item 4)
    assert refused.status_code == 409 and "Det finns obesvarade tvister" in refused.content.decode()
    region.post(
        reverse("payment:resolve", args=[dispute.pk]), {"outcome": "rejected", "resolution": "Kontrollerat."}
    )
    assert region.post(reverse("payment:close", args=[run.pk])).status_code == 302
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.CLOSED
    closed = contact.post(reverse("payment:dispute", args=[run.pk]), {"line": line.pk, "comment": "Igen."})
    assert closed.status_code == 409 and "stängd" in closed.content.decode()
    assert Dispute.objects.count() == 1


def test_exports_csv_xlsx_and_pdf_carry_the_same_total(client: Client, runs) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    run = runs["1480"]
    csv_response = client.get(reverse("payment:export", args=[run.pk, "csv"]))
    text = csv_response.content.decode("utf-8-sig")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "Att betala (kr);93000.00" in text and "E;Över sju dagar, individuell;vg-average v1" in text
    xlsx = client.get(reverse("payment:export", args=[run.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert values["Att betala (kr)"] == "93000.00"
    amounts = [row[8] for row in sheet.iter_rows(values_only=True) if row and row[1] == "E"]
    assert amounts == [74400]
    pdf = client.get(reverse("payment:export", args=[run.pk, "pdf"]))
    assert pdf.content.startswith(b"%PDF") and pdf["Content-Disposition"].endswith('.pdf"')


def test_rule_configuration_page_and_recording_an_amount(client: Client) -> None:
    as_user(client, Role.GITS_COORDINATOR, GITS, "gits")
    page = client.get(reverse("payment:rules")).content.decode()
    assert (
        "HSLF-FS 2018:67" in page and "7\xa0800,00" in page and "vg-average v1" in page and "R-BET-5" in page
    )
    bad = client.post(reverse("payment:record_amount"), {"year": "2025", "amount": "abc", "source": ""})
    assert bad.status_code == 400 and "R-BET-4" in bad.content.decode()
    assert not DailyAmount.objects.filter(year=2025).exists()
    good = client.post(
        reverse("payment:record_amount"), {"year": "2025", "amount": "10 500", "source": "HSLF-FS 2024:99"}
    )
    assert good.status_code == 302
    assert services.current_amount(2025).amount == Decimal("10500.00")  # type: ignore[union-attr]


def test_municipality_cannot_record_amounts(client: Client) -> None:
    as_user(client, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    response = client.post(reverse("payment:record_amount"), {"year": "2025", "amount": "1", "source": "x"})
    assert response.status_code == 403 and not DailyAmount.objects.filter(year=2025).exists()


FACTS_JSON: dict[str, Any] = {  # the JSON body of a settlement request
    "year": 2022,
    "month": 3,
    "municipality_code": "1480",
    "facts": [
        {
            "case_reference": "API-1",
            "municipality_code": "1480",
            "admitted_at": "2022-03-01T08:00:00+01:00",
            "admission_notice_sent_at": "2022-03-01T09:00:00+01:00",
            "discharge_ready": [{"set_at": "2022-03-05T09:00:00+01:00"}],
            "discharge_ready_notice_sent_at": "2022-03-05T10:00:00+01:00",
            "discharged_at": "2022-03-10T15:00:00+01:00",
        }
    ],
}


def test_api_runs_a_settlement_from_stay_facts_and_reproduces_it(client: Client) -> None:
    """5 days (5 → 10 March), N=1 → 5 − 3.0 = 2 days above the average → 18 600 kr."""
    as_user(client, Role.GITS_COORDINATOR, GITS, "gits")
    response = client.post("/api/v1/payment/settlements", FACTS_JSON, content_type="application/json")
    assert response.status_code == 201, response.content
    [run] = response.json()
    assert run["amount"] == "18600.00" and run["municipality_code"] == "1480" and run["source"] == "supplied"
    detail = client.get(f"/api/v1/payment/settlements/{run['id']}").json()
    assert [line["case_reference"] for line in detail["lines"]] == ["API-1", ""]
    assert client.get(f"/api/v1/payment/settlements/{run['id']}/reproduction").json() == {
        "reproduced": True,
        "differences": [],
    }
    again = client.post("/api/v1/payment/settlements", FACTS_JSON, content_type="application/json").json()
    assert again[0]["id"] == run["id"]  # same inputs, same run


def test_api_refuses_naive_times_and_municipal_runs(client: Client) -> None:
    as_user(client, Role.GITS_COORDINATOR, GITS, "gits")
    naive = {**FACTS_JSON, "facts": [{**FACTS_JSON["facts"][0], "admitted_at": "2022-03-01T08:00:00"}]}
    response = client.post("/api/v1/payment/settlements", naive, content_type="application/json")
    assert response.status_code == 400 and response.json()["problems"][0]["rule"] == "SCHEMA-TIDSZON"
    other = Client()
    as_user(other, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    forbidden = other.post("/api/v1/payment/settlements", FACTS_JSON, content_type="application/json")
    assert forbidden.status_code == 403 and not SettlementRun.objects.exists()


def test_api_dispute_and_scoped_listing(client: Client, runs) -> None:  # type: ignore[no-untyped-def]
    as_user(client, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    listing = client.get("/api/v1/payment/settlements").json()
    assert [r["municipality_code"] for r in listing] == ["1480"] and listing[0]["amount"] == "93000.00"
    line = runs["1480"].lines.get(case_reference="E")
    created = client.post(
        f"/api/v1/payment/settlements/{runs['1480'].pk}/disputes",
        {"line_id": line.pk, "comment": "Fel."},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["status"] == "open"
    assert client.get(f"/api/v1/payment/settlements/{runs['1490'].pk}").status_code == 404
    amounts = client.get("/api/v1/payment/amounts").json()
    assert {(a["year"], a["amount"]) for a in amounts} >= {(2019, "7800.00"), (2022, "9300.00")}


def test_api_settlement_lines_page_by_page_in_line_order(client: Client, runs) -> None:  # type: ignore[no-untyped-def]
    """Issue 17 item 4: a municipality's month can have thousands of lines; the API gives them a page at a
    time, in line order, with the totals and the next page in the headers, and only for the own runs."""
    as_user(client, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    run = runs["1480"]
    positions = list(run.lines.order_by("position").values_list("position", flat=True))
    assert len(positions) >= 3
    url = f"/api/v1/payment/settlements/{run.pk}/lines"
    first = client.get(url, {"page_size": 2})
    assert first.status_code == 200
    assert [line["position"] for line in first.json()] == positions[:2]
    assert first["X-Total-Count"] == str(len(positions))
    assert first["X-Page-Count"] == str((len(positions) + 1) // 2)
    assert 'rel="next"' in first["Link"] and "page=2" in first["Link"] and 'rel="prev"' not in first["Link"]
    second = client.get(url, {"page_size": 2, "page": 2})
    assert [line["position"] for line in second.json()] == positions[2:4]
    everything = client.get(url, {"page_size": 100000})  # capped at 500 a page, never one huge answer
    assert [line["position"] for line in everything.json()] == positions[:500]
    assert client.get(f"/api/v1/payment/settlements/{runs['1490'].pk}/lines").status_code == 404


def test_demo_settlements_hand_computed_and_idempotent(demo, client: Client) -> None:  # type: ignore[no-untyped-def]
    """October 2022, 9 300 kr. Göteborg: average members 2+5+4+0 = 11 ≤ 3.0×4 → 0; DEMO-05 14 days → 11 × 9 300
    = 102 300 kr; three exclusions (admission notice, withdrawn, SIP summons). Borås: 6+2 = 8 − 6 = 2 days
    (18 600) + DEMO-11 10 days → 7 × 9 300 = 65 100; 83 700 kr. October 2025 has no known amount."""
    from brygga.demo.payment import load_payment_demo

    runs = {(r.municipality.scb_code, r.year): r for r in SettlementRun.objects.all()}
    assert len(runs) == 4
    assert runs[("1480", 2022)].totals()["amount"] == Decimal("102300.00")
    assert runs[("1490", 2022)].totals()["amount"] == Decimal("83700.00")
    assert runs[("1480", 2022)].lines.filter(kind="excluded").count() == 3
    assert runs[("1480", 2025)].totals()["amount"] is None and runs[("1480", 2025)].has_blocking_problems
    assert Dispute.objects.filter(line__run=runs[("1480", 2022)], status="open").count() == 1
    assert {r.source for r in runs.values()} == {SettlementRun.Source.DEMO}  # too few real stays: labelled
    assert load_payment_demo() == 4 and SettlementRun.objects.count() == 4 and Dispute.objects.count() == 1
    from brygga.accounts.models import User

    client.force_login(User.objects.get(username="kontaktpunkt"))
    page = client.get(reverse("payment:settlement_list")).content.decode()
    assert "2022-10" in page and "belopp saknas" in page and "Borås" not in page


def test_region_checks_on_the_page_that_a_run_reproduces(client: Client, runs) -> None:  # type: ignore[no-untyped-def]
    url = reverse("payment:settlement_detail", args=[runs["1480"].pk]) + "?kontroll=1"
    as_user(client, Role.GITS_COORDINATOR, GITS, "gits")
    assert "återskapades exakt" in client.get(url).content.decode()
    municipal = Client()
    as_user(municipal, Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kp")
    assert "återskapades" not in municipal.get(url).content.decode()  # the check is the region's
