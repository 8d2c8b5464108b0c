"""The receiving side in headless Chromium (issue 18), one test per receiving persona: the municipality's
contact point, the home-care nurse, and the biståndshandläggare with the vårdcentral. Each follows a case from
the notice: the count in the menu, the inbox refreshing itself, the notification e-mail (sent by the worker),
the planning basis as far as the disclosure decision allows (R-SEK-1..4) with what is withheld and why, the
ward's phone number, its own planning recorded back, the SIP started from the case and the video meeting.
axe-core checks every page at 1280 and at 320 CSS px (WCAG 1.4.10: no sideways scrolling). Screenshots:
receiving-*."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brygga.demo import personas
from tests.e2e.harness import (
    ROOT,
    E2EServer,
    assert_accessible_basics,
    assert_axe_clean,
    assert_no_horizontal_scroll,
    login,
    page_measure,
    reveal,
    screenshot,
)

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

WARD = "Sahlgrenska, medicinavdelning"
WARD_PHONE = "031-390 06 10"  # demo contact details (brygga.demo.receiving), PTS's range for fiction


@pytest.fixture
def session(browser: Any, e2e_url: str) -> Iterator[Any]:
    contexts = []

    def open_as(username: str, width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(
            base_url=e2e_url, locale="sv-SE", viewport={"width": width, "height": height}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        login(page, username)
        if page.url.endswith("/enhet/"):
            page.get_by_label(re.compile(re.escape(WARD))).check()
            with page.expect_navigation():
                page.get_by_role("button", name="Fortsätt").click()
        return page

    yield open_as
    for context in contexts:
        context.close()


def scenario(server: E2EServer, call: str) -> str:
    return server.shell(f"from tests import receiving_scenario as s; print({call})")


def check_page(page: Any, name: str) -> None:
    """axe-core at the current width and at 320 px, no sideways scrolling at 320, screenshots of both."""
    assert_accessible_basics(page)
    assert_axe_clean(page, "1280 px")
    # Inboxes hold every demo row: the visible part says enough (and keeps docs/screenshots small).
    screenshot(page, name, full_page="inbox" not in name)
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    assert_no_horizontal_scroll(page)
    chrome = page.evaluate(
        "() => document.querySelector('.site-header').offsetHeight"
        " + (document.querySelector('.site-nav') ? document.querySelector('.site-nav').offsetHeight : 0)"
    )
    assert chrome <= 640 / 4, f"header and menu take {chrome} px of a 640 px phone screen"
    assert_axe_clean(page, "320 px")
    screenshot(page, f"{name}-320", full_page=False)
    page.set_viewport_size(size)


def mails_to(server: E2EServer, address: str) -> list[str]:
    folder = server.var_dir / "mail"
    texts = [p.read_text(errors="replace") for p in sorted(folder.glob("*"))] if folder.exists() else []
    messages = [m for t in texts for m in t.split("-" * 79) if f"To: {address}" in m]
    return messages


def run_worker(server: E2EServer) -> None:
    server.manage("db_worker", "--batch", "--no-startup-delay", "--no-reload")


def test_contact_point_is_told_reads_what_it_may_and_takes_part_in_sip_and_video(
    session: Any, e2e_server: E2EServer
) -> None:
    identifier = personas.test_number("19450101", 983)
    case_id = int(
        scenario(
            e2e_server,
            f"s.admit('{identifier}', 'Rut', 'Mottagardotter', "
            "consents={'Göteborg kontaktpunkt': ('nursing', 'function', 'sip')})",
        )
    )
    case_url = f"/arenden/{case_id}/"

    # Told: the count in the menu, the row in the inbox.
    contact = session("kontaktpunkt")
    contact.goto("/arenden/")
    badge = contact.locator("nav .count-badge")
    assert int(badge.inner_text().split()[0]) >= 1
    assert "Rut Mottagardotter" in contact.inner_text("main")
    check_page(contact, "receiving-inbox-kontaktpunkt")

    # The physician marks discharge-ready; the open inbox refreshes itself and says so politely.
    scenario(e2e_server, f"s.discharge_ready({case_id})")
    contact.wait_for_function(
        "() => document.querySelector('#inbox-announce').textContent.trim().length > 0", timeout=20_000
    )
    row = contact.locator("#inbox-list tr", has_text="Rut Mottagardotter")
    assert "Utskrivningsklar" in row.inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row.inner_text())  # when it became discharge-ready
    assert contact.locator("#inbox-announce").get_attribute("aria-live") == "polite"

    # …and the worker sends the e-mail at once (urgent), with a link and no personal data.
    run_worker(e2e_server)
    mails = mails_to(e2e_server, "kontaktpunkt@brygga.example")
    ours = [m for m in mails if case_url in m]
    assert ours, mails[-3:]
    assert "Mottagardotter" not in ours[-1] and identifier.replace("-", "") not in ours[-1]

    # Reads the planning basis as far as the consent goes; the medication list is withheld with the rule.
    contact.goto(case_url)
    basis = contact.locator("#planeringsunderlag")
    assert "Smärtfri i vila" in basis.inner_text()  # nursing: consent
    medications = contact.locator("#pb-medications").inner_text()
    assert "Undanhållet" in medications and "R-SEK-2" in medications and "Waran" not in medications
    # The ward changes the nursing status: marked for the contact point, which read it before.
    scenario(e2e_server, f"s.change_nursing({case_id}, 'Ont vid rörelse')")
    contact.goto(case_url)
    assert "Ändrat sedan ni först läste" in contact.locator("#pb-nursing").inner_text()
    # Finds the ward's phone number next to the ward.
    assert WARD_PHONE in contact.locator("section[aria-labelledby=parts-title]").inner_text()
    check_page(contact, "receiving-case-kontaktpunkt")

    # The vårdcentral summons to SIP from the case: the contact point opens it from the case.
    scenario(e2e_server, f"s.summon_sip({case_id})")
    contact.goto(case_url)
    with contact.expect_navigation():
        contact.get_by_role("link", name=re.compile("SIP kopplad till ärendet")).click()
    assert "/sip/" in contact.url and "Rut Mottagardotter" in contact.inner_text("main")
    assert case_url in contact.content()  # the SIP links back to the case
    check_page(contact, "receiving-sip-kontaktpunkt")

    # A video meeting for the units of the case; the room link is shown to the invited units.
    contact.goto(case_url)
    reveal(contact, "meeting")
    contact.locator("#mt-form").select_option("video")
    tomorrow = dt.datetime.now() + dt.timedelta(days=1)  # noqa: DTZ005 — the form takes local time
    contact.locator("#mt-at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    with contact.expect_navigation():
        contact.locator("form#meeting").get_by_role("button", name="Boka").click()
    assert contact.get_by_role("link", name=re.compile("videolänk", re.I)).count() >= 1


def test_home_care_nurse_reads_the_medication_list_and_records_ready_to_receive(
    session: Any, e2e_server: E2EServer
) -> None:
    identifier = personas.test_number("19460202", 984)
    case_id = int(
        scenario(
            e2e_server,
            f"s.admit('{identifier}', 'Sixten', 'Hemmasson', extra_units=('Göteborg hemsjukvård',), "
            f"consents={{'Göteborg hemsjukvård': ('nursing', 'medications'), '{WARD}': ('efforts',)}})",
        )
    )
    case_url = f"/arenden/{case_id}/"
    nurse = session("hemsjukvard")
    nurse.goto("/arenden/")
    assert nurse.locator("nav .count-badge").count() == 1
    assert "Sixten Hemmasson" in nurse.inner_text("main")
    check_page(nurse, "receiving-inbox-hemsjukvard")

    nurse.goto(case_url)
    assert "Waran 2,5 mg" in nurse.locator("#pb-medications").inner_text()
    situation = nurse.locator("#pb-situation").inner_text()
    assert "Undanhållet" in situation and "R-SEK-2" in situation
    assert WARD_PHONE in nurse.inner_text("main")

    # Records its own planning; the ward sees it (the person consented to the ward reading it).
    reveal(nurse, "receiver-plan")
    nurse.get_by_label(re.compile("^Planerade insatser")).fill("Hemsjukvård morgon och kväll, läkemedel")
    nurse.get_by_label("Vi är redo att ta emot patienten").check()
    with nurse.expect_navigation():
        nurse.get_by_role("button", name="Spara och visa för avdelningen").click()
    assert "Redo att ta emot" in nurse.locator("#mottagarnas-planering").inner_text()
    check_page(nurse, "receiving-case-hemsjukvard")

    ward = session("sjukskoterska")
    ward.goto(case_url)
    plans = ward.locator("#mottagarnas-planering").inner_text()
    assert "Hemsjukvård morgon och kväll" in plans and "Redo att ta emot" in plans


def test_bistandshandlaggare_sees_what_is_withheld_and_the_vardcentral_reads_it_all(
    session: Any, e2e_server: E2EServer
) -> None:
    identifier = personas.test_number("19470303", 986)
    case_id = int(
        scenario(
            e2e_server,
            f"s.admit('{identifier}', 'Majken', 'Beslutsdotter', extra_units=('Göteborg biståndsenhet',))",
        )
    )
    case_url = f"/arenden/{case_id}/"
    officer = session("handlaggare")
    officer.goto("/arenden/")
    assert "Majken Beslutsdotter" in officer.inner_text("main")
    check_page(officer, "receiving-inbox-handlaggare")
    officer.goto(case_url)
    basis = officer.locator("#planeringsunderlag").inner_text()
    assert basis.count("Undanhållet") == 4 and "R-SEK-2" in basis  # social services: no consent, nothing
    assert "Smärtfri" not in basis and "Waran" not in basis
    assert WARD_PHONE in officer.inner_text("main")
    reveal(officer, "receiver-plan")
    officer.get_by_label(re.compile("^Beslut")).fill("Hemtjänst beviljad 4 gånger per dag")
    with officer.expect_navigation():
        officer.get_by_role("button", name="Spara och visa för avdelningen").click()
    assert "Hemtjänst beviljad" in officer.locator("#mottagarnas-planering").inner_text()
    check_page(officer, "receiving-case-handlaggare")

    # The vårdcentral is the ward's own principal and secrecy area (R-SEK-1): every section.
    vc = session("fastvardkontakt")
    vc.goto(case_url)
    basis = vc.locator("#planeringsunderlag").inner_text()
    assert "Undanhållet" not in basis and "Waran 2,5 mg" in basis and "R-SEK-1" in basis
    # The biståndsenhet's decision is withheld from the vårdcentral without a basis, and says so.
    assert "Undanhållet" in vc.locator("#mottagarnas-planering").inner_text()
    check_page(vc, "receiving-case-vardcentral")


def test_measure_the_case_page(session: Any, e2e_server: E2EServer) -> None:
    """Page height and Tab presses from the top to the message box and to the unit's next action, for the
    contact point (acknowledge) and the ward nurse (send the discharge information). Written to
    var/case-page-measure.json; the figures are in docs/receiving.md."""
    identifier = personas.test_number("19480404", 989)
    case_id = int(scenario(e2e_server, f"s.admit('{identifier}', 'Mätt', 'Mätsson')"))
    results: dict[str, Any] = {}
    contact = session("kontaktpunkt")
    contact.goto(f"/arenden/{case_id}/")
    results["kontaktpunkt"] = page_measure(
        contact, {"to_message_box": "#msg-body", "to_next_action": "#acknowledge button"}
    )
    nurse = session("sjukskoterska")
    nurse.goto(f"/arenden/{case_id}/")
    results["sjukskoterska"] = page_measure(
        nurse, {"to_message_box": "#msg-body", "to_next_action": "#discharge-info button[type=submit]"}
    )
    out = Path(ROOT / "var" / "case-page-measure.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    assert all(v["height"] > 0 for v in results.values())


# Collects what the page's Content-Security-Policy refuses (and uncaught errors) from the first script on: an
# init script is evaluated through the DevTools protocol, which the page's policy does not govern.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
});
"""


def test_inbox_refreshes_itself_without_any_csp_violation(session: Any, e2e_server: E2EServer) -> None:
    """The inbox's refresh runs under `script-src 'self'` (no 'unsafe-eval', no inline style): htmx with
    eval turned off, the "not while focus is in the list" rule in our own script. Nothing is refused in the
    console; the list is replaced when something arrives, and not while keyboard focus is inside it."""
    identifier = personas.test_number("19490505", 991)
    contact = session("kontaktpunkt")
    console: list[str] = []
    contact.on(
        "console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    contact.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    contact.add_init_script(_CSP_LISTENER)
    contact.goto("/arenden/")
    signature = contact.locator("#inbox-list").get_attribute("hx-get")
    assert signature and "sig=" in signature

    # Something arrives: the open list is replaced and the polite live region says so.
    case_id = int(scenario(e2e_server, f"s.admit('{identifier}', 'Csp', 'Kontrollsson')"))
    contact.wait_for_function(
        "() => document.querySelector('#inbox-announce').textContent.trim().length > 0", timeout=20_000
    )
    assert "Csp Kontrollsson" in contact.locator("#inbox-list").inner_text()
    assert contact.locator("#inbox-list").get_attribute("hx-get") != signature

    # Keyboard focus inside the list: nothing arrives on the page while it is there, however much changes.
    contact.locator("#inbox-list a", has_text="Csp Kontrollsson").focus()
    requests: list[str] = []
    contact.on("request", lambda r: requests.append(r.url) if "del=lista" in r.url else None)
    scenario(e2e_server, f"s.discharge_ready({case_id})")
    contact.wait_for_timeout(5_000)  # the e2e server refreshes every 2 s: two chances
    assert requests == [], requests
    assert contact.evaluate("() => document.activeElement.textContent") == "Csp Kontrollsson"
    # Focus leaves the list: the next tick fetches and replaces it.
    contact.locator("#filter-q").focus()
    contact.wait_for_function(
        "() => /Utskrivningsklar/.test(document.querySelector('#inbox-list').innerText)", timeout=20_000
    )
    violations = contact.evaluate("() => window.__cspViolations")
    assert violations == [], violations
    assert console == [], console


def test_the_unit_picker_is_a_combobox_driven_by_keyboard_alone(session: Any, e2e_server: E2EServer) -> None:
    """The ward adds a recipient with the keyboard only (WAI-ARIA combobox over the plain select): Tab into
    it, type part of the name, arrows move the active option (aria-activedescendant), Escape closes, Enter
    chooses without submitting, Tab to the button, Enter adds. axe-core finds nothing with the list open."""
    identifier = personas.test_number("19510707", 993)
    case_id = int(scenario(e2e_server, f"s.admit('{identifier}', 'Kombo', 'Tangentsson')"))
    nurse = session("sjukskoterska")
    console: list[str] = []
    nurse.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    nurse.add_init_script(_CSP_LISTENER)
    nurse.goto(f"/arenden/{case_id}/")
    nurse.wait_for_load_state("networkidle")
    # Open the collapsed step from its summary with Enter, then Tab into the picker.
    nurse.locator("details:has(form#add-recipient) > summary").focus()
    if not nurse.evaluate("() => document.activeElement.parentElement.open"):
        nurse.keyboard.press("Enter")
    assert nurse.evaluate("() => document.activeElement.parentElement.open")
    nurse.keyboard.press("Tab")
    box = nurse.locator("#add-unit-combo")
    assert nurse.evaluate("() => document.activeElement.id") == "add-unit-combo"
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    assert nurse.locator("#add-unit").is_hidden()  # the plain select stays the form's field, out of view
    assert nurse.locator("form#add-recipient label[for=add-unit-combo]").inner_text() == "Enhet"

    nurse.locator("#add-unit-combo").scroll_into_view_if_needed()
    nurse.keyboard.type("göteborg hemsj")
    nurse.wait_for_function("() => document.querySelector('#add-unit-combo').ariaExpanded === 'true'")
    listbox = nurse.locator(f"#{box.get_attribute('aria-controls')}")
    assert listbox.get_attribute("role") == "listbox"
    options = listbox.locator("[role=option]")
    assert options.count() >= 1 and "Göteborg hemsjukvård" in options.first.inner_text()
    nurse.keyboard.press("ArrowDown")
    first = options.first.get_attribute("id")
    assert box.get_attribute("aria-activedescendant") == first
    assert options.first.get_attribute("aria-selected") == "true"
    assert nurse.evaluate("() => document.activeElement.id") == "add-unit-combo"  # focus stays in the box
    assert_axe_clean(nurse, "combobox open")
    screenshot(nurse, "receiving-unit-picker-open", full_page=False)
    nurse.keyboard.press("Escape")
    assert (
        box.get_attribute("aria-expanded") == "false" and box.get_attribute("aria-activedescendant") is None
    )
    nurse.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-expanded") == "true"
    nurse.keyboard.press("Enter")  # chooses; the form is not submitted
    assert f"/arenden/{case_id}/" in nurse.url and box.get_attribute("aria-expanded") == "false"
    home_hsa = nurse.locator("#add-unit").input_value()
    assert home_hsa and box.input_value().startswith("Göteborg hemsjukvård — Göteborg, Hemsjukvård")
    nurse.keyboard.press("Tab")
    assert nurse.evaluate("() => document.activeElement.textContent.trim()") == "Lägg till"
    with nurse.expect_navigation():
        nurse.keyboard.press("Enter")
    parts = nurse.locator("section[aria-labelledby=parts-title]").inner_text()
    assert "Göteborg hemsjukvård" in parts
    assert nurse.evaluate("() => window.__cspViolations") == [] and console == []


def test_the_unit_picker_works_without_javascript(browser: Any, e2e_url: str, e2e_server: E2EServer) -> None:
    """Progressive enhancement: with JavaScript off the picker is the plain select, which adds the unit."""
    identifier = personas.test_number("19520808", 994)
    case_id = int(scenario(e2e_server, f"s.admit('{identifier}', 'Utan', 'Skriptsson')"))
    context = browser.new_context(base_url=e2e_url, locale="sv-SE", java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, "sjukskoterska")
        if page.url.endswith("/enhet/"):
            page.get_by_label(re.compile(re.escape(WARD))).check()
            with page.expect_navigation():
                page.get_by_role("button", name="Fortsätt").click()
        page.goto(f"/arenden/{case_id}/")
        page.locator("details:has(form#add-recipient) > summary").click()
        picker = page.locator("#add-unit")
        assert picker.is_visible() and page.locator("#add-unit-combo").count() == 0
        assert page.locator("form#add-recipient label[for=add-unit]").inner_text() == "Enhet"
        label = picker.locator("option", has_text="Göteborg biståndsenhet — ").inner_text()
        picker.select_option(label=label)
        with page.expect_navigation():
            page.locator("form#add-recipient").get_by_role("button", name="Lägg till").click()
        assert "Göteborg biståndsenhet" in page.locator("section[aria-labelledby=parts-title]").inner_text()
    finally:
        context.close()
