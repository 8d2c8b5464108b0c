"""In headless Chromium on the demo data (issue 5): GITS opens the settlements and one invoice basis; Göteborg's
contact point disputes a line of its own settlement and GITS answers; GITS changes the average model's
threshold from a date on the rules page, first refused with the field named, then saved; the statistics
analyst sees the process statistics as charts with their tables. Screenshots in docs/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.harness import assert_accessible_basics, screenshot
from tests.test_governance_browser import click, sign_in

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser


def test_invoice_basis_dispute_and_answer(page: Any) -> None:
    sign_in(page, "gits")
    page.goto("/betalningsansvar/?kommun=1480&ar=&manad=")
    assert_accessible_basics(page)
    screenshot(page, "payment-settlements")
    page.get_by_role("row").filter(has_text="Göteborg").first.get_by_role("link").click()
    page.wait_for_load_state()
    assert_accessible_basics(page)
    assert page.get_by_role("heading", name="Ärenden som ingår").is_visible()
    detail_url = page.url
    screenshot(page, "payment-invoice-basis")

    sign_in(page, "kontaktpunkt")
    page.goto(detail_url)
    if page.locator("table a[href*='/betalningsansvar/arende/']").count():  # a run from the cases
        page.locator("table a[href*='/betalningsansvar/arende/']").first.click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).inner_text().startswith("Betalningsansvar för ärende")
        assert page.get_by_role("heading", name="Regel som gäller för vistelsen").is_visible()
        assert_accessible_basics(page)
        screenshot(page, "payment-case")
        page.goto(detail_url)
    page.get_by_label("Rad", exact=True).select_option(index=1)
    page.get_by_label("Varför bestrids raden?").fill("Patienten var folkbokförd i Mölndal vid inskrivningen.")
    click(page, "Bestrid")
    assert "Patienten var folkbokförd i Mölndal" in page.content()

    sign_in(page, "gits")
    page.goto(detail_url)
    page.get_by_label("Avslå").check()
    page.get_by_label("Beslut och motivering").fill("Folkbokföringen är kontrollerad: Göteborg.")
    click(page, "Spara beslut")
    assert "Folkbokföringen är kontrollerad" in page.content()
    assert_accessible_basics(page)


def test_changing_the_average_threshold_from_a_date(page: Any) -> None:
    sign_in(page, "gits")
    page.goto("/betalningsansvar/regler/")
    assert_accessible_basics(page)
    page.get_by_text("Ändra vg-average v1").click()
    form = page.locator("details[open] form")
    form.get_by_label("Gäller från").fill("2027-01-01")
    form.get_by_label("Tröskel för medelvärdet (dagar)").fill("tre")
    with page.expect_navigation():
        form.get_by_role("button", name="Spara ändringen").click()
    alert = page.get_by_role("alert")
    assert "Ange antal dagar" in alert.inner_text() and "BETALNING-REGEL" not in alert.inner_text()
    alert.get_by_role("link").first.click()  # the summary's link takes the focus to the field
    assert page.evaluate("document.activeElement.id") == "field-average_threshold"
    screenshot(page, "payment-rule-change-refused")
    form = page.locator("details[open] form")
    assert form.get_by_label("Gäller från").input_value() == "2027-01-01"  # nothing typed is lost
    form.get_by_label("Tröskel för medelvärdet (dagar)").fill("2,5")
    with page.expect_navigation():
        form.get_by_role("button", name="Spara ändringen").click()
    assert page.get_by_role("alert").count() == 0
    assert re.search(r"vg-average-2027-01-01 v1", page.content())
    screenshot(page, "payment-rules")


def test_process_statistics_as_charts_with_tables(page: Any) -> None:
    sign_in(page, "statistik")
    page.goto("/statistik/")
    assert_accessible_basics(page)
    charts = page.locator("figure.stat-chart")
    assert charts.count() >= 3
    assert page.locator("figure.stat-chart svg").count() >= 3
    assert page.locator("figure.stat-chart table").count() == charts.count()  # a table behind every chart
    screenshot(page, "statistics-overview")
