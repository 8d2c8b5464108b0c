"""End to end in headless Chromium against a real server (issue 4, "done when"):

1. a person from a discharge case through the SIP offer, consent, summons (which meets the case's 3-day
   deadline, R-SIP-K-1), meeting, an established plan (R-SIP-4), the plan PDF and a follow-up;
2. a second person through an outpatient care request that municipal home health care accepts, with the
   legal basis of each shared piece shown (R-SEK-2/3).

Screenshots in docs/screenshots/sip-*."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest

from brygga.demo import personas
from tests.e2e.harness import E2EServer, assert_accessible_basics, login, screenshot

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

FIRST = personas.test_number("19370707", 984)
SECOND = personas.test_number("19480202", 986)

SETUP = """
import datetime as dt
from django.utils import timezone
from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.cases import rules, services
from brygga.organisations.models import Unit
from brygga.access.persons import register_person
vc = Unit.objects.get(name='Närhälsan Göteborg vårdcentral')
def person(identifier, given):
    return register_person(identifier, given, 'Webbtestsson', 'Provgatan 7', '41301', 'Göteborg',
                           municipality_code='1480', listed_unit_hsa_id=vc.hsa_id)
first, second = person('{first}', 'Sixten'), person('{second}', 'Vera')
# The second person is the vårdcentral's listed patient (an involvement the listing would give).
from brygga.access.services import involve
involve(second, vc, 'other', 'listning:e2e')
def actor(username):
    return Actor.for_membership(Membership.objects.get(user__username=username,
                                unit__name='Sahlgrenska, medicinavdelning'), channel='command')
nurse, physician = actor('sjukskoterska'), actor('lakare')
now = timezone.now()
case = services.admit(nurse, first, admitted_at=now - dt.timedelta(hours=30), care_type='somatic',
                      expected_discharge_date=(now + dt.timedelta(days=2)).date(),
                      need_assessed_at=now - dt.timedelta(hours=30))
services.send_admission_notice(nurse, case)
services.save_planning_basis(nurse, case, answers={{k: 'ja' for k in rules.PLANNING_QUESTIONS}},
                             needs={{k: 'ja' for k in rules.NEEDS}}, nursing_status={{'pain': 'Smärtfri'}})
services.set_discharge_ready(physician, case)
print(first.pk, second.pk, case.pk)
"""


@pytest.fixture
def session(browser: Any, e2e_url: str) -> Iterator[Any]:
    contexts = []

    def open_as(username: str) -> Any:
        context = browser.new_context(
            base_url=e2e_url, locale="sv-SE", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        login(page, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def select_by_text(page: Any, select: str, text: str) -> None:
    value = page.locator(f"{select} option", has_text=text).first.get_attribute("value")
    page.locator(select).select_option(value=value)


def submit(page: Any, form: str, button: str) -> None:
    with page.expect_navigation():
        page.locator(form).get_by_role("button", name=button).click()


def test_discharge_case_through_sip_and_an_accepted_care_request(session: Any, e2e_server: E2EServer) -> None:
    first_id, second_id, case_id = (
        int(x) for x in e2e_server.shell(SETUP.format(first=FIRST, second=SECOND)).split()[-3:]
    )
    local_now = dt.datetime.now()  # noqa: DTZ005 — browser forms take the server's local time
    vc = session("fastvardkontakt")

    # The SIP offer and the person's yes (R-SIP-K-2), and the consent with what it must not cover (R-SEK-4).
    vc.goto(f"/sip/samtycke/{first_id}/")
    assert_accessible_basics(vc)
    vc.locator("#ans-accepted").check()
    vc.locator("#offer-case").select_option(str(case_id))
    submit(vc, "form#offer", "Registrera erbjudande och svar")
    assert "Tackar ja" in vc.inner_text("main")
    vc.get_by_label("Syfte").fill("SIP inför hemgång")
    vc.locator("#field-parties").select_option(label="Göteborg kontaktpunkt")
    for category in ("sip", "health"):
        vc.locator(f"#cat-{category}").check()
    vc.locator("#xcat-social").check()
    # First without the answer to "what must the consent not cover": refused with the rule, next to the field.
    submit(vc, "form#consent", "Registrera samtycke")
    assert "R-SEK-4" in vc.get_by_role("alert").inner_text()
    assert_accessible_basics(vc)
    vc.locator("#field-parties").select_option(label="Göteborg kontaktpunkt")
    for category in ("sip", "health"):
        vc.locator(f"#cat-{category}").check()
    vc.locator("#field-exclusions_note").fill("Inget om ekonomin")
    submit(vc, "form#consent", "Registrera samtycke")
    assert "Samtycket är registrerat" in vc.inner_text("main")
    screenshot(vc, "sip-consents")

    # Step 1: the SIP for the discharge case.
    vc.goto(f"/sip/ny/?person={first_id}&case={case_id}")
    vc.get_by_label("Varför behövs en SIP?").fill("Hemgång med hemtjänst och vårdcentralens uppföljning")
    with vc.expect_navigation():
        vc.get_by_role("button", name="Starta SIP").click()
    sip_url = vc.url
    assert re.search(r"/sip/\d+/$", sip_url), sip_url
    assert "R-SIP-K-1" in vc.inner_text("main")  # the case's summons deadline shows on the SIP

    # A summons without participants is refused with the rule, and nothing changes (R-SIP-1).
    vc.locator("#summon-meeting_at").fill((local_now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    submit(vc, "form#summon", "Skicka kallelse")
    assert "R-SIP-1" in vc.get_by_role("alert").inner_text()
    assert "Steg: Upptäck behov" in vc.inner_text("main")

    # Step 2: participants from the municipality and a relative.
    vc.goto(sip_url)
    vc.locator("#ap-kind").select_option("unit")
    # The unit picker (a combobox over the plain select): type, choose the first match with Enter.
    vc.locator("#ap-unit-combo").fill("Göteborg kontaktp")
    vc.wait_for_function("() => document.querySelector('#ap-unit-combo').ariaExpanded === 'true'")
    vc.locator("#ap-unit-combo").press("ArrowDown")
    vc.locator("#ap-unit-combo").press("Enter")
    assert vc.locator("#ap-unit-combo").input_value().startswith("Göteborg kontaktpunkt — Göteborg")
    submit(vc, "form#add-participant", "Lägg till")
    vc.locator("#ap-kind").select_option("relative")
    vc.locator("#ap-name").fill("Dottern Dora")
    vc.locator("#ap-role").fill("Dotter")
    submit(vc, "form#add-participant", "Lägg till")
    main = vc.inner_text("main")
    assert "Göteborg kontaktpunkt" in main and "Dottern Dora" in main
    assert "Samtycke lämnat" in main  # the legal-basis table
    assert_accessible_basics(vc)

    # Step 3: the summons; the case's summons is recorded too, within the 3 days.
    vc.locator("#summon-meeting_at").fill((local_now + dt.timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"))
    vc.locator("#summon-location").fill("Vårdcentralen, rum 3")
    submit(vc, "form#summon", "Skicka kallelse")
    assert "Kallad till SIP-möte" in vc.inner_text("main")
    assert "I tid" in vc.inner_text("main")
    sent = e2e_server.shell(
        f"from brygga.cases.models import Case; c = Case.objects.get(pk={case_id}); "
        "print(c.sip_summons_sent_at is not None and c.sip_summons_sent_at <= c.sip_summons_due_at)"
    )
    assert sent.endswith("True")

    # The contact point sees the summons as new in its list.
    contact = session("kontaktpunkt")
    contact.goto("/sip/")
    assert "Sixten Webbtestsson" in contact.inner_text(
        "main"
    ) and "Kallelse till SIP-möte" in contact.inner_text("main")
    assert_accessible_basics(contact)
    screenshot(contact, "sip-list-kontaktpunkt")

    # Step 4: the meeting is held, then the plan.
    vc.goto(sip_url)
    submit(vc, "form#meeting", "Registrera att mötet hölls")
    vc.get_by_label("Vad är viktigt för dig?").fill("Att kunna bo kvar hemma och träffa barnbarnen.")
    vc.get_by_label("Behov", exact=True).fill("Hjälp med dusch, tillsyn av läkemedel.")
    vc.locator("#e0-need").fill("Personlig hygien")
    vc.locator("#e0-effort").fill("Hemtjänst för dusch två gånger i veckan")
    select_by_text(vc, "#e0-unit", "Göteborg kontaktpunkt")
    vc.locator("#e1-need").fill("Läkemedel")
    vc.locator("#e1-effort").fill("Läkemedelsgenomgång")
    select_by_text(vc, "#e1-unit", "Närhälsan Göteborg vårdcentral")
    vc.get_by_label("Insatser av andra än kommun och region (skriv ”Inga” om inga)").fill("Dottern handlar.")
    submit(vc, "form#draft", "Spara utkast")
    # Without overall responsibility the plan cannot be established (R-SIP-4).
    submit(vc, "form#establish", "Fastställ planen")
    assert "R-SIP-4" in vc.get_by_role("alert").inner_text()
    vc.get_by_label("Övergripande ansvar").select_option(label="Närhälsan Göteborg vårdcentral")
    submit(vc, "form#draft", "Spara utkast")
    vc.locator("#field-follow_up_on").fill((local_now + dt.timedelta(days=30)).date().isoformat())
    vc.locator("#field-follow_up_description").fill("Fungerar hemtjänsten?")
    submit(vc, "form#establish", "Fastställ planen")
    main = vc.inner_text("main")
    assert "Planen är fastställd" in main and "Steg: Följ upp" in main and "Version 1" in main
    assert_accessible_basics(vc)
    screenshot(vc, "sip-detail-established")
    pdf = vc.request.get(sip_url + "plan.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # The established plan is frozen as a PDF and signed (PAdES, issue 7); the SIP page shows the signature.
    submit(vc, "form#sign-plan", "Underteckna planen")
    assert re.search(r"/dokument/\d+/$", vc.url), vc.url
    assert "SIP" in vc.inner_text("main") and "Det här är viktigt för dig" in vc.inner_text("main")
    with vc.expect_navigation():
        vc.get_by_role("button", name="Underteckna version 1").click()
    assert "Giltig underskrift" in vc.inner_text("main") and "Ogiltig" not in vc.inner_text("main")
    screenshot(vc, "sip-plan-signed")
    vc.goto(sip_url)
    assert "1 underskrift på version 1" in vc.inner_text("main")

    # Step 5: the follow-up is done.
    vc.locator("form.inline").first.get_by_label("Resultat").fill("Hemtjänsten fungerar.")
    submit(vc, "form.inline >> nth=0", "Markera som gjord")
    assert "Hemtjänsten fungerar." in vc.inner_text("main")

    # The second person: a care request to home health care, accepted.
    vc.goto(f"/sip/samtycke/{second_id}/")
    vc.get_by_label("Syfte").fill("Vårdbegäran")
    vc.locator("#field-parties").select_option(label="Göteborg hemsjukvård")
    for category in ("health", "medications", "efforts"):
        vc.locator(f"#cat-{category}").check()
    vc.locator("#field-exclusions_note").fill("Inget")
    submit(vc, "form#consent", "Registrera samtycke")
    vc.goto(f"/sip/vardbegaran/ny/?person={second_id}")
    assert_accessible_basics(vc)
    vc.get_by_label("Till", exact=True).select_option(label="Göteborg hemsjukvård")
    vc.get_by_label("Anledning till vårdbegäran").fill("Behöver sårvård i hemmet.")
    vc.get_by_label("Aktuellt hälsotillstånd").fill("Bensår, i övrigt stabil.")
    vc.locator("#eff-wound_care").check()
    vc.get_by_label("Ansvar för läkemedel").select_option("person")
    vc.get_by_label("Insatserna behövs från").fill((local_now + dt.timedelta(days=1)).date().isoformat())
    vc.get_by_label("Kontaktperson").fill("Fia Fastvård")
    vc.get_by_label("Telefon", exact=True).fill("031-100 00 01")
    screenshot(vc, "sip-care-request-new")
    with vc.expect_navigation():
        vc.get_by_role("button", name="Skicka vårdbegäran").click()
    request_url = vc.url
    assert re.search(r"/sip/vardbegaran/\d+/$", request_url), request_url

    home = session("hemsjukvard")
    home.goto("/sip/")
    assert "Vera Webbtestsson" in home.inner_text("main") and "Vårdbegäran att besvara" in home.inner_text(
        "main"
    )
    home.goto(request_url)
    main = home.inner_text("main")
    assert (
        "Rättslig grund" in main and "Samtycke lämnat" in main and "Uppgift i inskrivningsmeddelandet" in main
    )
    assert_accessible_basics(home)
    home.locator("#ans-accepted").check()
    submit(home, "form#answer", "Skicka svar")
    assert "Status: Accepterad" in home.inner_text("main")
    screenshot(home, "sip-care-request-accepted")
