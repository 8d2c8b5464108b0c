"""End to end in headless Chromium against a real server: one case from admission to closing across the ward
(nurse and physician), the municipality's contact point and the vårdcentral, with the rules shown in the
pages (R-INS-2, R-INS-4, R-UTS-1, R-DEF-UK-1, R-FVK-1, R-SIP-K-1). Screenshots in docs/screenshots/cases-*."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from brygga.demo import personas
from tests.e2e.harness import E2EServer, assert_accessible_basics, login, reveal, screenshot

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

MEDICINE = "Sahlgrenska, medicinavdelning"
IDENTIFIER = personas.test_number("19440606", 987)


@pytest.fixture
def session(browser: Any, e2e_url: str) -> Iterator[Any]:
    """A factory of logged-in pages, one browser context per user."""
    contexts = []

    def open_as(username: str) -> Any:
        context = browser.new_context(
            base_url=e2e_url, locale="sv-SE", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        login(page, username)
        if page.url.endswith("/enhet/"):
            page.get_by_label(re.compile(re.escape(MEDICINE))).check()
            with page.expect_navigation():
                page.get_by_role("button", name="Fortsätt").click()
        return page

    yield open_as
    for context in contexts:
        context.close()


def submit(page: Any, form_id: str, button: str) -> None:
    reveal(page, form_id)
    with page.expect_navigation():
        page.locator(f"form#{form_id}").get_by_role("button", name=button).click()


def test_case_from_admission_to_closing_across_ward_vardcentral_and_contact_point(
    session: Any, e2e_server: E2EServer
) -> None:
    e2e_server.shell(
        "import django; from brygga.access.persons import register_person; "
        f"register_person('{IDENTIFIER}', 'Berit', 'Webbtestsson', 'Provgatan 9', '41301', 'Göteborg', "
        "municipality_code='1480', listed_unit_hsa_id=__import__('brygga.organisations.models', "
        "fromlist=['Unit']).Unit.objects.get(name='Närhälsan Göteborg vårdcentral').hsa_id)"
    )
    local_now = dt.datetime.now()  # noqa: DTZ005 — the browser form takes the server's local time

    # The ward admits and sends the notice (R-INS-2 deadline shown).
    nurse = session("sjukskoterska")
    nurse.goto("/arenden/nytt/")
    assert_accessible_basics(nurse)
    nurse.get_by_label("Personnummer, samordningsnummer eller reservnummer").fill(IDENTIFIER)
    nurse.get_by_label("Inskriven (datum och tid)").fill(
        (local_now - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    )
    nurse.get_by_label("Beräknat utskrivningsdatum").fill(
        (local_now + dt.timedelta(days=3)).date().isoformat()
    )
    screenshot(nurse, "cases-new")
    with nurse.expect_navigation():
        nurse.get_by_role("button", name="Skriv in").click()
    case_url = nurse.url
    assert re.search(r"/arenden/\d+/$", case_url), case_url
    assert "Inskrivningsmeddelande" in nurse.inner_text("main") and "R-INS-2" in nurse.inner_text("main")
    assert_accessible_basics(nurse)

    # A refused discharge: the error summary names the rules, nothing changes.
    submit(nurse, "discharge", "Skriv ut och skicka utskrivningsmeddelande")
    summary = nurse.get_by_role("alert").inner_text()
    assert "R-UTS-1" in summary and "R-UTS-2" in summary
    screenshot(nurse, "cases-discharge-blocked")

    # The planning basis, with "vet ej" as an answer.
    nurse.goto(case_url)
    reveal(nurse, "planning")
    for key, value in [
        ("lives_alone", "ja"),
        ("home_care_before", "nej"),
        ("home_health_before", "vet_ej"),
        ("aids_needed", "ja"),
        ("cognitive_impairment", "nej"),
        ("relatives_informed", "ja"),
    ]:
        nurse.locator(f"#q-{key}-{value}").check()
    nurse.locator("#n-social_services-ja").check()
    nurse.locator("#n-municipal_health-vet_ej").check()
    nurse.locator("#n-primary_care-ja").check()
    nurse.get_by_label("Smärta").fill("Smärtfri i vila")
    submit(nurse, "planning", "Spara planeringsunderlag")
    assert "1 svar ”vet ej”" in nurse.inner_text("main") or "2 svar ”vet ej”" in nurse.inner_text("main")

    # The municipality's contact point: new in the inbox, acknowledges, books a video meeting.
    contact = session("kontaktpunkt")
    contact.goto("/arenden/")
    assert "Berit Webbtestsson" in contact.inner_text("main")
    assert_accessible_basics(contact)
    screenshot(contact, "cases-inbox-kontaktpunkt")
    with contact.expect_navigation():
        contact.get_by_role("button", name=re.compile("Kvittera Berit")).click()
    contact.goto(case_url)
    reveal(contact, "meeting")
    contact.locator("#mt-form").select_option("video")
    contact.locator("#mt-at").fill((local_now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    submit(contact, "meeting", "Boka")
    assert "videolänk" in contact.inner_text("main")

    # The vårdcentral appoints the fast vårdkontakt (R-FVK-1).
    vc = session("fastvardkontakt")
    vc.goto(case_url)
    reveal(vc, "coordinator")
    vc.get_by_label("Namn").fill("Frida Vårdkontaktsson")
    submit(vc, "coordinator", "Spara")
    assert "Frida Vårdkontaktsson" in vc.inner_text("main")

    # The physician marks discharge-ready; the nurse cannot (R-DEF-UK-1: no form for her).
    assert nurse.locator("form#discharge-ready").count() == 0
    physician = session("lakare")
    physician.goto(case_url)
    submit(physician, "discharge-ready", "Markera utskrivningsklar")
    assert "Kallelse till SIP" in physician.inner_text("main")  # both principals → R-SIP-K-1 deadline

    # The vårdcentral summons to SIP from the case within the 3 days; the person has consented (R-SEK-3).
    e2e_server.shell(
        "from brygga.accounts.context import Actor; from brygga.accounts.models import Membership; "
        "from brygga.people.models import Person; from brygga.organisations.models import Unit; "
        "from brygga.consent.services import record_consent; "
        "m = Membership.objects.get(user__username='sjukskoterska', unit__name='Sahlgrenska, medicinavdelning'); "
        f"record_consent(Actor.for_membership(m), Person.objects.get(identifier='{IDENTIFIER.replace('-', '')}'), "
        "given_by='person', form='verbal', purpose='SIP', categories=['sip'], exclusions_note='Inget', "
        "parties=list(Unit.objects.filter(name='Göteborg kontaktpunkt')))"
    )
    vc.goto(case_url)
    reveal(vc, "sip-summons")
    vc.get_by_label("SIP-möte (datum och tid)").fill(
        (local_now + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    )
    submit(vc, "sip-summons", "Skicka kallelse till SIP")
    assert "SIP kopplad till ärendet" in vc.inner_text("main")

    # The ward sends the discharge information, discharges and closes.
    nurse.goto(case_url)
    reveal(nurse, "discharge-info")
    nurse.get_by_label("Patienten har fått skriftlig sammanfattning (R-UTS-2)").check()
    submit(nurse, "discharge-info", "Skicka information")
    screenshot(nurse, "cases-detail-before-discharge")
    submit(nurse, "discharge", "Skriv ut och skicka utskrivningsmeddelande")
    assert "Läge: Utskriven" in nurse.inner_text("main")
    screenshot(nurse, "cases-detail-discharged")
    submit(nurse, "close", "Avsluta")

    case_id = int(re.search(r"/arenden/(\d+)/", case_url).group(1))  # type: ignore[union-attr]
    kinds = e2e_server.shell(
        "from brygga.cases.models import CaseEvent; "
        f"print(','.join(CaseEvent.objects.filter(case_id={case_id}).order_by('id').values_list('kind', flat=True)))"
    ).split(",")
    assert kinds[:2] == ["admitted", "admission_notice_sent"]
    assert kinds[-3:] == ["discharged", "discharge_notice_sent", "closed"]
    for kind in (
        "planning_updated",
        "acknowledged",
        "meeting_booked",
        "coordinator_appointed",
        "discharge_ready_set",
        "sip_summons_sent",
        "discharge_info_sent",
    ):
        assert kind in kinds, kind

    # After closing, the contact point still sees the history (grace period) but not in "Pågående"; the SIP
    # started from the case goes on and stays in its inbox.
    contact.goto("/arenden/?kind=case")
    assert "Berit Webbtestsson" not in contact.inner_text("main")
    contact.goto("/arenden/?kind=sip")
    assert "Berit Webbtestsson" in contact.inner_text("main")
