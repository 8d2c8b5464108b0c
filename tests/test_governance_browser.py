"""End to end in headless Chromium: a ward nurse suggests an improvement, a delregion stands behind it, GITS
prepares it and sends it on consultation, the delregion answers, the forum with the mandate decides, and the
decision appears on the public roadmap (issue 6). Screenshots land in docs/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.harness import assert_accessible_basics, login, screenshot

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

TITLE = "Bifoga dokument direkt från journalen"
DECISION = "SITIV beslutar att bilagor från journalen införs 2026."


def sign_in(page: Any, username: str) -> None:
    page.context.clear_cookies()
    login(page, username)
    if page.url.endswith("/enhet/"):
        page.get_by_role("radio").first.check()
        with page.expect_navigation():
            page.get_by_role("button", name="Fortsätt").click()


def click(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()
    assert page.get_by_role("alert").count() == 0, page.get_by_role("alert").inner_text()


def test_need_to_decision_on_the_public_roadmap(page: Any) -> None:
    sign_in(page, "sjukskoterska")
    page.goto("/forvaltning/arenden/nytt/?fran=samordningsärende")
    assert_accessible_basics(page)
    page.get_by_label("Rubrik").fill(TITLE)
    page.get_by_label("Beskrivning").fill("Underlag skickas i dag på fax; vi vill bifoga dem i ärendet.")
    click(page, "Skicka")
    case_url = page.url
    assert re.search(r"/forvaltning/arenden/F-\d{4}-\d{4}/$", case_url)
    assert page.locator("#case-state").inner_text() == "Initiativ"

    sign_in(page, "forum")
    page.goto(case_url)
    click(page, "Södra Älvsborg står bakom")

    sign_in(page, "gits")
    page.goto(case_url)
    click(page, "Till behovsinventering")
    page.get_by_label("Adressat (forum med mandat)").select_option(label="Styrgrupp IT i Väst (SITIV)")
    page.get_by_label("Beslutsområde").select_option(value="within_frame")
    click(page, "Adressera och ge uppdrag")
    click(page, "Starta beredning")
    assert page.locator("#case-state").inner_text() == "Beredning"
    page.get_by_label("Förslag").fill("Bilagor upp till 10 MB i ärendet, med loggning.")
    click(page, "Skicka remiss till delregioner och parter")
    assert page.locator("#case-state").inner_text() == "Remiss"
    assert_accessible_basics(page)
    screenshot(page, "governance-consultation")

    sign_in(page, "forum")
    page.goto(case_url)
    click(page, "Svara för Södra Älvsborg")

    sign_in(page, "gits")
    page.goto(case_url)
    click(page, "Stäng och sammanställ remissen")

    sign_in(page, "forum")
    page.goto(case_url)
    page.get_by_label("Beslutstext och motivering").fill(DECISION)
    click(page, "Registrera beslut")
    assert page.locator("#case-state").inner_text() == "Beslutat"

    page.context.clear_cookies()
    page.goto("/forvaltning/fardplan/")
    decided = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Beslutat")))
    card = decided.locator("li", has_text=TITLE)
    assert card.count() == 1
    assert DECISION in card.inner_text()
    assert "1 delregion står bakom" in card.inner_text()
    assert_accessible_basics(page)
    screenshot(page, "governance-roadmap")
