"""In headless Chromium: a ward nurse reports a collaboration deviation from the form, is refused with R-AVV-1
next to the description when the text holds a personnummer, corrects it; the municipality's contact point
receives, investigates and answers; GITS sees only the suppressed counts. Also the economy's price list page and
the forum editing page render accessibly. Screenshots in docs/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import assert_accessible_basics, screenshot
from tests.test_governance_browser import click, sign_in

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

TEXT = "Utskrivningsmeddelandet kom inte fram till kommunen före hemgång."


def test_report_answer_and_count_a_deviation(page: Any) -> None:
    sign_in(page, "sjukskoterska")
    page.goto("/avvikelser/ny/?fran=in- och utskrivningsärende")
    assert_accessible_basics(page)
    page.get_by_label("Kategori").select_option("discharge_unplanned")
    page.get_by_label("Datum för händelsen").fill("2026-01-05")
    page.get_by_label("Mottagande organisation").select_option(label="Göteborgs kommun")
    page.get_by_label("Vad hände?").fill("Gäller 19121212-1212. " + TEXT)
    with page.expect_navigation():
        page.get_by_role("button", name="Rapportera").click()
    assert "R-AVV-1" in page.get_by_role("alert").inner_text()
    assert page.locator("#error-report-description").is_visible()
    assert page.get_by_label("Vad hände?").get_attribute("aria-invalid") == "true"
    screenshot(page, "deviations-refused")
    page.get_by_label("Vad hände?").fill(TEXT)
    click(page, "Rapportera")
    number = page.get_by_role("heading", level=1).inner_text().split(":")[0]
    assert number.startswith("AVV-")

    sign_in(page, "kontaktpunkt")
    page.goto(f"/avvikelser/{number}/")
    click(page, "Bekräfta mottagen")
    click(page, "Starta utredning")
    page.get_by_label("Svar till den rapporterande enheten (utan personuppgifter)").fill(
        "Meddelandet fastnade vid en driftstörning; rutinen för kontroll är införd."
    )
    click(page, "Skicka svar")
    assert "Besvarad" in page.content()
    assert_accessible_basics(page)
    screenshot(page, "deviations-answered")

    sign_in(page, "gits")
    page.goto("/avvikelser/oversikt/")
    assert_accessible_basics(page)
    assert "<5" in page.content() or "&lt;5" in page.content()
    assert TEXT not in page.content()
    screenshot(page, "deviations-overview")


def test_economy_and_forum_editing_pages(page: Any) -> None:
    sign_in(page, "gits")
    page.goto("/ekonomi/prislistor/")
    assert_accessible_basics(page)
    page.get_by_role("link", name="Öppna data-plattform").first.click()
    page.wait_for_load_state()
    assert_accessible_basics(page)
    screenshot(page, "economy-price-list")
    page.goto("/forvaltning/forum/sitiv/andra/")
    assert_accessible_basics(page)
    assert "Mandatet kräver jämn fördelning" in page.content()
    screenshot(page, "governance-forum-edit")
