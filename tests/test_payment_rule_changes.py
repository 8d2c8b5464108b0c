"""Changing a payment rule from the rules page (issue 5 item 1; brygga.payment.rule_changes): a change from a
date leaves the rule as it was before the date and starts a new rule on it; a correction is a new version;
every bad value is named with its field and nothing is written; two equally specific rules on the same day
are refused (R-GOV-1); only payment managers may change rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound
from brygga.payment import rule_changes, services
from brygga.payment.engine import select_rule
from brygga.payment.models import PaymentRule
from tests.factories import CONTACT_POINT, actor
from tests.test_payment_engine import stay

pytestmark = pytest.mark.django_db

GITS = "GITS kansli"


@pytest.fixture
def gits():  # type: ignore[no-untyped-def]
    return actor(Role.GITS_COORDINATOR, GITS, username="gits-rules")


def form(rule: PaymentRule, **changes: str) -> dict[str, str]:
    """The rules page's form for ``rule`` as the browser posts it, with ``changes``."""
    data = {
        "mode": "from_date",
        "name": rule.name,
        "rule_ids": rule.rule_ids,
        "source": rule.source,
        "valid_from": "",
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else "",
        "requires_sip_summons": "on" if rule.requires_sip_summons else "",
        "free_days": str(rule.free_days),
        "average_threshold": str(rule.average_threshold),
        "long_stay_days": str(rule.long_stay_days),
        "long_stay_free_days": str(rule.long_stay_free_days),
        "day_zero": rule.day_zero,
        "window_months": str(rule.window_months),
    }
    data.update(changes)
    return data


def vg_average() -> PaymentRule:
    return PaymentRule.objects.filter(code="vg-average").order_by("-version").first()  # type: ignore[return-value]


def rule_on(day: str) -> str:
    """The label of the rule the engine picks for a somatic stay with its notice on ``day``."""
    rule, problem = select_rule(stay("A", day, None), [r.params() for r in services.current_rules()])
    assert rule is not None, problem
    return rule.label


def test_a_change_from_a_date_keeps_the_rule_before_it_and_starts_a_new_rule_on_it(gits) -> None:  # type: ignore[no-untyped-def]
    source = "Beslut i den politiska samrådsgruppen 2026-11-20, § 12 (test)"
    new = rule_changes.change_rule(
        gits,
        "vg-average",
        form(vg_average(), valid_from="2027-01-01", average_threshold="2,5", source=source),
    )
    assert (new.code, new.version, new.valid_from, new.valid_to) == (
        "vg-average-2027-01-01", 1, dt.date(2027, 1, 1), None
    )  # fmt: skip
    assert new.average_threshold == Decimal("2.50") and new.source == source and new.created_by == gits.user
    ended = vg_average()
    assert (ended.version, ended.valid_to, ended.average_threshold) == (
        2,
        dt.date(2026, 12, 31),
        Decimal("3.00"),
    )
    assert PaymentRule.objects.get(code="vg-average", version=1).valid_to is None  # the version runs used
    assert rule_on("2026-12-31") == "vg-average v2"
    assert rule_on("2027-01-01") == "vg-average-2027-01-01 v1"
    assert rule_on("2019-05-01") == "vg-average v2"


def test_a_correction_is_a_new_version_for_the_whole_period(gits) -> None:  # type: ignore[no-untyped-def]
    rule = vg_average()
    changed = rule_changes.change_rule(
        gits,
        "vg-average",
        form(rule, mode="version", valid_from=rule.valid_from.isoformat(), long_stay_days="10"),
    )
    assert (changed.code, changed.version, changed.long_stay_days) == ("vg-average", 2, 10)
    assert PaymentRule.objects.get(code="vg-average", version=1).long_stay_days == 7
    assert rule_on("2019-05-01") == "vg-average v2"


def test_every_bad_value_is_named_and_nothing_is_written(gits) -> None:  # type: ignore[no-untyped-def]
    before = list(PaymentRule.objects.values_list("code", "version"))
    bad = form(
        vg_average(),
        valid_from="1 januari",
        average_threshold="tre",
        long_stay_days="0",
        day_zero="dag 2",
        window_months="2",
        name="",
    )
    with pytest.raises(DomainError) as refused:
        rule_changes.change_rule(gits, "vg-average", bad)
    fields = {p.field for p in refused.value.problems}
    assert fields == {
        "valid_from",
        "average_threshold",
        "long_stay_days",
        "day_zero",
        "window_months",
        "name",
    }
    assert {p.rule for p in refused.value.problems} == {"BETALNING-REGEL"}
    assert list(PaymentRule.objects.values_list("code", "version")) == before


def test_a_change_from_a_date_must_fall_inside_the_rule(gits) -> None:  # type: ignore[no-untyped-def]
    before = PaymentRule.objects.count()
    for day in ("2018-09-25", "2010-01-01"):  # on or before the start
        with pytest.raises(DomainError) as refused:
            rule_changes.change_rule(gits, "vg-average", form(vg_average(), valid_from=day))
        assert refused.value.problems[0].field == "valid_from"
    psychiatry = PaymentRule.objects.get(code="vg-psychiatry-2020")
    with pytest.raises(DomainError) as after_end:
        rule_changes.change_rule(gits, "vg-psychiatry-2020", form(psychiatry, valid_from="2020-06-01"))
    assert any(p.field == "valid_from" and "2020-03-31" in p.message for p in after_end.value.problems)
    assert PaymentRule.objects.count() == before


def test_r_gov_1_two_equally_specific_rules_on_the_same_day_are_refused(gits) -> None:  # type: ignore[no-untyped-def]
    rule_changes.change_rule(gits, "vg-average", form(vg_average(), valid_from="2027-01-01"))
    count = PaymentRule.objects.count()
    ended = vg_average()  # ends 2026-12-31; stretching it into 2027 would clash with the new rule
    with pytest.raises(DomainError) as refused:
        rule_changes.change_rule(
            gits,
            "vg-average",
            form(ended, mode="version", valid_from=ended.valid_from.isoformat(), valid_to="2027-06-30"),
        )
    problem = refused.value.problems[0]
    assert (problem.field, problem.rule) == ("valid_from", "R-GOV-1")
    assert "vg-average-2027-01-01 v1" in problem.message
    assert PaymentRule.objects.count() == count
    with pytest.raises(DomainError) as again:  # the same date twice
        rule_changes.change_rule(
            gits, "vg-average", form(ended, valid_from="2027-01-01", valid_to="2026-12-31")
        )
    assert again.value.problems[0].field in {"valid_from", "valid_to"}
    assert PaymentRule.objects.count() == count


def test_an_unknown_rule_is_not_found_and_a_municipality_cannot_change_rules(gits) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound):
        rule_changes.change_rule(gits, "no-such-rule", form(vg_average(), valid_from="2027-01-01"))
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp-rules")
    with pytest.raises(Exception, match="payment.manage"):
        rule_changes.change_rule(contact, "vg-average", form(vg_average(), valid_from="2027-01-01"))
    assert not PaymentRule.objects.filter(version__gt=1).exists()


# --- the page ---------------------------------------------------------------------------------------------------


def test_the_rules_page_changes_a_rule_and_shows_a_refused_form_with_its_values(client: Client, gits) -> None:  # type: ignore[no-untyped-def]
    client.force_login(gits.user)
    page = client.get(reverse("payment:rules")).content.decode()
    assert "Ändra vg-average v1" in page and 'for="rule-vg-average-average_threshold"' in page
    url = reverse("payment:change_rule", args=["vg-average"])
    refused = client.post(url, form(vg_average(), valid_from="2027-01-01", average_threshold="tre"))
    body = refused.content.decode()
    assert refused.status_code == 400 and "(BETALNING-REGEL)" not in body  # the message, not the code
    assert 'href="#field-average_threshold"' in body and 'id="field-average_threshold"' in body
    assert 'value="tre"' in body and '<details class="rule-change" open>' in body
    assert not PaymentRule.objects.filter(code="vg-average-2027-01-01").exists()
    done = client.post(url, form(vg_average(), valid_from="2027-01-01", average_threshold="2.5"))
    assert done.status_code == 302
    assert PaymentRule.objects.get(code="vg-average-2027-01-01").average_threshold == Decimal("2.50")
    listed = client.get(reverse("payment:rules")).content.decode()
    assert "vg-average-2027-01-01 v1" in listed and "Nästa avräkning använder" in listed


def test_a_municipality_sees_the_rules_but_no_forms_and_cannot_post(client: Client) -> None:
    client.force_login(actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="kp-page").user)
    page = client.get(reverse("payment:rules"))
    assert page.status_code == 200 and "vg-average v1" in page.content.decode()
    assert "Ändra en regel" not in page.content.decode()
    response = client.post(
        reverse("payment:change_rule", args=["vg-average"]), form(vg_average(), valid_from="2027-01-01")
    )
    assert response.status_code == 403 and PaymentRule.objects.filter(version__gt=1).count() == 0
