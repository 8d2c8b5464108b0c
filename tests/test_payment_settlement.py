"""Stored settlement runs: inputs kept for exact reproduction, re-running, missing amounts reported, the
municipality's disputes and the region's resolution, closing, and who sees which municipality."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.organisations.models import Municipality
from brygga.payment import services
from brygga.payment.models import DailyAmount, Dispute, PaymentRule, SettlementLine, SettlementRun
from tests.factories import CONTACT_POINT, WARD, actor
from tests.test_payment_engine import VG_MARCH_2022, stay

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 23)
GITS = "GITS kansli"
BORAS_CONTACT = "Borås kontaktpunkt"


def gothenburg() -> Municipality:
    return Municipality.objects.get(scb_code="1480")


def settle(year: int = 2022, month: int = 3, facts=VG_MARCH_2022) -> SettlementRun:  # type: ignore[no-untyped-def]
    return services.run_settlement(
        actor(Role.GITS_COORDINATOR, GITS), gothenburg(), year, month, facts, TODAY
    )


def test_reference_configuration_is_seeded_with_sources() -> None:
    """R-BET-4: 7 800 (2019), 8 200 (2020), 9 300 (2022), each with its source; 2023 is unknown."""
    assert {(a.year, a.amount) for a in DailyAmount.objects.all()} == {
        (2019, Decimal("7800.00")),
        (2020, Decimal("8200.00")),
        (2022, Decimal("9300.00")),
    }
    assert services.current_amount(2019).source == "HSLF-FS 2018:67"  # type: ignore[union-attr]
    assert services.current_amount(2023) is None
    codes = {r.code: r for r in services.current_rules()}
    assert set(codes) == {"national-default", "national-psychiatry-2018", "vg-average", "vg-psychiatry-2020"}
    assert (
        codes["vg-average"].average_threshold == Decimal("3.00") and codes["vg-average"].long_stay_days == 7
    )
    assert all(r.source and r.rule_ids for r in codes.values())


def test_settlement_run_stores_lines_and_totals_computed_in_the_database() -> None:
    """The March 2022 scenario of test_payment_engine: 93 000 kr, with the rule applied on every line."""
    run = settle()
    assert run.totals() == {"payable_days": Decimal("10.00"), "amount": Decimal("93000.00")}
    assert run.amount_per_day == Decimal("9300.00") and run.amount_source
    lines = {line.case_reference: line for line in run.lines.all()}
    assert lines["E"].kind == "long_stay" and lines["E"].amount == Decimal("74400.00")
    assert lines["H"].kind == "excluded" and lines["H"].exclusion_rule == "R-VG-BET-2"
    assert all(line.rule_label.startswith("vg-average v1") for line in run.lines.exclude(case_reference=""))
    assert [p["rule"] for p in run.problems] == ["R-VG-BET-2"]
    assert {f["case_reference"] for f in run.facts} == set("ABCDEFGHIJ")  # K lives in Borås


def test_rerunning_with_the_same_inputs_gives_the_same_run() -> None:
    first = settle()
    again = settle()
    assert again.pk == first.pk and SettlementRun.objects.count() == 1
    assert SettlementLine.objects.filter(run=first).count() == first.lines.count()


def test_changed_facts_make_a_new_run_that_supersedes_the_open_one() -> None:
    first = settle()
    second = settle(facts=[*VG_MARCH_2022, stay("L", "2022-03-20", "2022-03-30")])  # 10 days: long stay
    first.refresh_from_db()
    assert first.status == SettlementRun.Status.SUPERSEDED and second.sequence == 2
    assert second.totals()["amount"] == Decimal("93000.00") + 7 * Decimal("9300.00")


def test_a_stored_run_is_reproduced_exactly_from_its_inputs_even_after_configuration_changes() -> None:
    run = settle()
    gits = actor(Role.GITS_COORDINATOR, GITS)
    services.add_rule_version(gits, "vg-average", average_threshold=Decimal("2.0"))
    services.record_amount(gits, 2022, "9999", "Rättelse (test)")
    assert services.reproduce(run) == []
    assert PaymentRule.objects.get(code="vg-average", version=1).average_threshold == Decimal("3.00")
    line = run.lines.get(case_reference="E")
    SettlementLine.objects.filter(pk=line.pk).update(amount=Decimal("1.00"))
    assert services.reproduce(run) and "Rad" in services.reproduce(run)[0]


def test_a_new_rule_version_is_used_by_the_next_run_and_named_on_its_lines() -> None:
    gits = actor(Role.GITS_COORDINATOR, GITS)
    services.add_rule_version(gits, "vg-average", average_threshold=Decimal("2.0"))
    run = settle()
    excess = run.lines.get(kind="average_excess")
    assert excess.rule_label == "vg-average v2" and excess.payable_days == Decimal("8.00")  # 20 − 2.0×6


def test_missing_amount_for_the_year_is_reported_and_nothing_is_guessed() -> None:
    """R-BET-4: no amount known for 2024 → days are shown, amounts are empty, a blocking problem is listed,
    and the settlement cannot be closed until the amount is recorded and the month re-run."""
    facts = [stay("A", "2024-03-01", "2024-03-12")]  # 11 days: 8 payable
    run = settle(2024, 3, facts)
    assert run.amount_per_day is None and run.totals() == {"payable_days": Decimal("8.00"), "amount": None}
    assert [(p["rule"], p["blocking"]) for p in run.problems] == [("R-BET-4", True)]
    gits = actor(Role.GITS_COORDINATOR, GITS)
    with pytest.raises(DomainError) as refused:
        services.close_settlement(gits, run.pk)
    assert refused.value.problems[0].rule == "BETALNING-DATAPROBLEM"
    run.refresh_from_db()
    assert run.status == SettlementRun.Status.OPEN and run.closed_at is None
    services.record_amount(gits, 2024, "10 000", "HSLF-FS (test)")
    rerun = settle(2024, 3, facts)
    assert rerun.pk != run.pk and rerun.totals()["amount"] == Decimal("80000.00")


def test_recording_an_amount_needs_its_source_and_a_positive_value() -> None:
    gits = actor(Role.GITS_COORDINATOR, GITS)
    with pytest.raises(DomainError) as refused:
        services.record_amount(gits, 2025, "-5", "  ")
    assert {(p.field, p.rule) for p in refused.value.problems} == {
        ("amount", "R-BET-4"),
        ("source", "R-BET-4"),
    }
    assert services.current_amount(2025) is None
    with pytest.raises(PermissionDenied):
        services.record_amount(actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT), 2025, "9000", "HSLF-FS x")


def test_a_month_that_has_not_ended_cannot_be_settled() -> None:
    with pytest.raises(DomainError) as refused:
        services.run_settlement(
            actor(Role.GITS_COORDINATOR, GITS), gothenburg(), 2026, 11, [], dt.date(2026, 11, 23)
        )
    assert refused.value.problems[0].rule == "BETALNING-MANAD"
    assert not SettlementRun.objects.exists()


def test_dispute_resolve_and_close_and_a_dispute_on_a_closed_settlement_is_refused() -> None:
    run = settle()
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    gits = actor(Role.GITS_COORDINATOR, GITS)
    line = run.lines.get(case_reference="E")
    with pytest.raises(DomainError) as no_comment:
        services.raise_dispute(contact, run.pk, line.pk, "  ")
    assert no_comment.value.problems[0].field == "comment" and not Dispute.objects.exists()
    dispute = services.raise_dispute(contact, run.pk, line.pk, "Patienten var inte folkbokförd hos oss.")
    with pytest.raises(DomainError) as open_disputes:
        services.close_settlement(gits, run.pk)
    assert open_disputes.value.problems[0].rule == "BETALNING-OPPNA-TVISTER"
    services.resolve_dispute(gits, dispute.pk, accepted=False, resolution="Folkbokföring kontrollerad.")
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.REJECTED and dispute.resolved_by == gits.user
    services.close_settlement(gits, run.pk)
    with pytest.raises(DomainError) as closed:
        services.raise_dispute(contact, run.pk, line.pk, "Vi bestrider igen.")
    assert closed.value.problems[0].rule == "BETALNING-STANGD" and closed.value.status == 409
    assert Dispute.objects.count() == 1
    with pytest.raises(DomainError) as rerun:
        settle(facts=[])
    assert rerun.value.problems[0].rule == "BETALNING-STANGD"
    assert SettlementRun.objects.count() == 1


def test_another_municipality_cannot_see_or_dispute_the_settlement() -> None:
    run = settle()
    boras = actor(Role.MUNICIPAL_CONTACT, BORAS_CONTACT, username="boras")
    line = run.lines.first()
    with pytest.raises(NotFound):
        services.raise_dispute(boras, run.pk, line.pk, "Inte vår.")  # type: ignore[union-attr]
    assert not services.visible_runs(boras).exists() and not Dispute.objects.exists()
    with pytest.raises(PermissionDenied):  # the region side resolves, it does not dispute
        services.raise_dispute(actor(Role.GITS_COORDINATOR, GITS), run.pk, line.pk, "x")  # type: ignore[union-attr]


def test_visibility_municipality_sees_its_own_region_sees_all_others_nothing() -> None:
    gits = actor(Role.GITS_COORDINATOR, GITS)
    services.run_settlement(gits, gothenburg(), 2022, 3, VG_MARCH_2022, TODAY)
    boras = Municipality.objects.get(scb_code="1490")
    services.run_settlement(gits, boras, 2022, 3, VG_MARCH_2022, TODAY)
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    assert {r.municipality.scb_code for r in services.visible_runs(contact)} == {"1480"}
    assert services.visible_runs(gits).count() == 2
    assert services.visible_runs(actor(Role.STATISTICS, GITS, username="stat")).count() == 2
    assert not services.visible_runs(actor(Role.WARD_NURSE, WARD)).exists()
    boras_run = SettlementRun.objects.get(municipality=boras)
    assert {line.case_reference for line in boras_run.lines.all()} == {"K"}
    with pytest.raises(NotFound):
        services.open_run(contact, boras_run.pk)


def test_run_month_settles_every_municipality() -> None:
    runs = services.run_month(actor(Role.GITS_COORDINATOR, GITS), 2022, 3, VG_MARCH_2022, TODAY)
    assert len(runs) == 49
    by_code = {r.municipality.scb_code: r for r in runs}
    assert by_code["1480"].totals()["amount"] == Decimal("93000.00")
    assert by_code["1490"].totals()["amount"] == Decimal("148800.00")  # K: 19 days > 7 → (19 − 3) × 9 300
    assert by_code["1489"].totals()["amount"] == Decimal("0.00") and not by_code["1489"].lines.exists()


def test_resolving_twice_is_refused() -> None:
    run = settle()
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    gits = actor(Role.GITS_COORDINATOR, GITS)
    dispute = services.raise_dispute(contact, run.pk, run.lines.first().pk, "Fel datum.")  # type: ignore[union-attr]
    services.resolve_dispute(gits, dispute.pk, accepted=True, resolution="Rättas vid omkörning.")
    with pytest.raises(DomainError) as again:
        services.resolve_dispute(gits, dispute.pk, accepted=False, resolution="Ändrat oss.")
    assert again.value.problems[0].rule == "BETALNING-TVIST-BESVARAD"
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.ACCEPTED


def test_seeded_rules_choose_by_date_and_care_type() -> None:
    """With the seeded configuration: May 2018 is before the VG agreement (2018-09-25), so a somatic stay uses
    the national default (R-BET-1: notice 2 May, from 5 May, discharged 10 May → 5 days) and no amount is known
    for 2018; February 2020 psychiatric care uses VG's 7-day individual rule (R-VG-BET-6: notice 10 Feb, from
    17 Feb, discharged 20 Feb → 3 days × 8 200 = 24 600 kr)."""
    from brygga.payment.facts import CareType

    may_2018 = settle(2018, 5, [stay("N", "2018-05-02", "2018-05-10")])
    line = may_2018.lines.get(case_reference="N")
    assert line.rule_label == "national-default v1" and line.payable_days == 5 and line.amount is None
    assert may_2018.totals()["amount"] is None
    feb_2020 = settle(2020, 2, [stay("P", "2020-02-10", "2020-02-20", care=CareType.PSYCHIATRIC)])
    line = feb_2020.lines.get(case_reference="P")
    assert line.rule_label == "vg-psychiatry-2020 v1" and line.amount == Decimal("24600.00")
    assert feb_2020.totals()["amount"] == Decimal("24600.00")


def test_settle_payment_command_reads_stay_facts_from_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io
    import json

    from django.core.management import CommandError, call_command

    actor(Role.GITS_COORDINATOR, GITS, username="region")
    path = tmp_path / "facts.json"
    path.write_text(json.dumps([f.as_dict() for f in VG_MARCH_2022]), encoding="utf-8")
    out = io.StringIO()
    args = ["--year", "2022", "--month", "3", "--facts", str(path), "--municipality", "1480"]
    call_command("settle_payment", *args, "--user", "region", stdout=out)
    assert "Göteborg 2022-03 körning 1: 93000.00 kr, 1 dataproblem" in out.getvalue()
    actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kommun")
    with pytest.raises(CommandError):
        call_command("settle_payment", *args, "--user", "kommun")
    assert SettlementRun.objects.count() == 1
