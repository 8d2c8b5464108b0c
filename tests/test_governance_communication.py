"""Service communication (disruption notices, release notes, Atom feed, e-mail subscriptions) and the
quarterly report to SITIV (page and PDF)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, PermissionDenied
from brygga.economy import seeds as economy_seeds
from brygga.economy import services as economy
from brygga.economy.models import Budget
from brygga.governance import communication, services
from brygga.governance.models import (
    CaseState,
    Decision,
    Forum,
    ManagedObject,
    MandateArea,
    NoticeSubscription,
    ServiceNotice,
)
from brygga.governance.report import quarterly_report, report_pdf
from brygga.governance.seeds import load_governance_reference
from tests.factories import WARD, actor
from tests.test_governance_web import as_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def ref(db):  # type: ignore[no-untyped-def]
    load_governance_reference()


@pytest.fixture
def gits():  # type: ignore[no-untyped-def]
    return actor(Role.GITS_COORDINATOR, "GITS kansli")


def decided_case(gits):  # type: ignore[no-untyped-def]
    case = services.raise_case(gits, "need", "Bilagor", "Bifoga dokument i ärendet.")
    services.advance(gits, case, CaseState.INVENTORY)
    services.assign(gits, case, Forum.objects.get(code="sitiv"), MandateArea.WITHIN_FRAME)
    services.advance(gits, case, CaseState.PREPARATION)
    services.record_decision(
        actor(Role.FORUM_MEMBER, "Borås kontaktpunkt"),
        case,
        Forum.objects.get(code="sitiv"),
        "approved",
        "Ja.",
    )
    case.refresh_from_db()
    return case


def test_r_com_2_release_note_links_only_delivered_cases(ref, gits) -> None:  # type: ignore[no-untyped-def]
    open_case = services.raise_case(gits, "need", "Öppet", "Ett ärende som inte är beslutat.")
    with pytest.raises(DomainError) as exc:
        communication.draft_notice(gits, "release", "Version 5", "Nyheter", cases=[open_case])
    assert {p.rule for p in exc.value.problems} == {"R-COM-2"}
    assert not ServiceNotice.objects.exists()
    notice = communication.draft_notice(gits, "release", "Version 5", "Nyheter", cases=[decided_case(gits)])
    assert notice.cases.count() == 1


def test_r_com_1_disruption_needs_a_start_and_a_sane_end(ref, gits) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        communication.draft_notice(gits, "disruption", "Störning", "SAMSA svarar inte.")
    assert [p.field for p in exc.value.problems] == ["starts_at"]
    now = timezone.now()
    with pytest.raises(DomainError):
        communication.draft_notice(
            gits, "disruption", "Störning", "Text", starts_at=now, ends_at=now - dt.timedelta(hours=1)
        )
    assert not ServiceNotice.objects.exists()


def test_r_com_3_publishing_mails_matching_subscribers_once_and_feeds_atom(ref, gits, client: Client) -> None:  # type: ignore[no-untyped-def]
    communication.subscribe("Forvaltare@Example.se", ["disruption"])
    communication.subscribe("nyheter@example.se", ["release"])
    samsa = ManagedObject.objects.get(code="shvo")
    notice = communication.draft_notice(
        gits,
        "disruption",
        "SAMSA svarar långsamt",
        "Felsökning pågår.",
        managed_object=samsa,
        starts_at=timezone.now(),
    )
    mail.outbox.clear()
    with pytest.raises(PermissionDenied):
        communication.publish_notice(actor(Role.WARD_NURSE, WARD), notice)
    with django_capture_on_commit():
        communication.publish_notice(gits, notice, "https://brygga.example")
    assert [m.to for m in mail.outbox] == [["forvaltare@example.se"]]
    assert "/forvaltning/driftinformation/avsluta/" in mail.outbox[0].body
    with pytest.raises(DomainError) as exc:
        communication.publish_notice(gits, notice)
    assert {p.rule for p in exc.value.problems} == {"R-COM-3"}
    feed = client.get("/forvaltning/driftinformation/atom.xml")
    assert feed["Content-Type"].startswith("application/atom+xml")
    body = feed.content.decode()
    assert "<feed" in body and "SAMSA svarar långsamt" in body
    token = NoticeSubscription.objects.get(email="forvaltare@example.se").token
    assert "avslutad" in client.get(f"/forvaltning/driftinformation/avsluta/{token}/").content.decode()
    assert not NoticeSubscription.objects.filter(email="forvaltare@example.se").exists()


def django_capture_on_commit():  # type: ignore[no-untyped-def]
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_notices_page_is_public_and_subscription_validates(ref, client: Client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/forvaltning/driftinformation/").status_code == 200
    bad = client.post("/forvaltning/driftinformation/", {"action": "subscribe", "email": "inte-en-adress"})
    assert bad.status_code == 400
    assert not NoticeSubscription.objects.exists()
    forbidden = client.post("/forvaltning/driftinformation/", {"action": "draft", "kind": "release"})
    assert forbidden.status_code == 403
    assert not ServiceNotice.objects.exists()


def test_quarterly_report_covers_economy_services_development_and_deviations(ref, gits) -> None:  # type: ignore[no-untyped-def]
    economy_seeds.load_seed_budgets()
    budget = Budget.objects.get(responsibility_object__code="gits-overgripande", year=2025)
    economy.record_outcome(gits, budget.lines.get(), 2, "700000")
    report = quarterly_report(2025, 1)
    row = next(r for r in report.economy if r.budget == budget)
    assert row.budget_to_date == Decimal("730000.00") and row.outcome_to_date == Decimal("700000.00")
    assert any("SITIV Utvecklingsportfölj" in d and "R-ECO-2" in d for d in report.deviations)
    assert any("R-GOV-3" in d for d in report.deviations)  # SITIV's seats as listed in seed 004
    assert {s.managed_object.code for s in report.services} >= {"shvo", "siths"}
    pdf = report_pdf(report)
    assert pdf.startswith(b"%PDF")
    with pytest.raises(DomainError):
        quarterly_report(2025, 5)


def test_quarterly_report_lists_the_quarters_decisions(ref, gits) -> None:  # type: ignore[no-untyped-def]
    case = decided_case(gits)
    today = timezone.localdate()
    report = quarterly_report(today.year, (today.month - 1) // 3 + 1)
    assert [d.case_id for d in report.decisions] == [case.pk]
    assert Decision.objects.count() == 1


def test_report_pages_need_economy_view(ref) -> None:  # type: ignore[no-untyped-def]
    nurse = as_actor(Client(), actor(Role.WARD_NURSE, WARD))
    assert nurse.get("/forvaltning/rapport/2025/1/").status_code == 403
    member = as_actor(Client(), actor(Role.FORUM_MEMBER, "Borås kontaktpunkt"))
    assert member.get("/forvaltning/rapport/2025/1/").status_code == 200
    pdf = member.get("/forvaltning/rapport/2025/1/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert member.get("/forvaltning/rapport/").status_code == 302
