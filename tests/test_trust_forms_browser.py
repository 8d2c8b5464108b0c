"""Issue 13, "done when": in headless Chromium against a real server, the admission, planning basis and consent
forms are each sent with exactly one error. Every typed value is still there afterwards, the error summary
has focus and links to the field, the field is marked invalid, and nothing was written. The browser's own
validation bubble never appears (``novalidate``): the Swedish server messages are what the user meets.
Screenshots: trust-*.png."""

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

MEDICINE = "Sahlgrenska, medicinavdelning"
IDENTIFIER = personas.test_number("19380303", 983)


@pytest.fixture
def nurse(browser: Any, e2e_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=e2e_url, locale="sv-SE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, "sjukskoterska")
    if page.url.endswith("/enhet/"):
        page.get_by_label(re.compile(re.escape(MEDICINE))).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Fortsätt").click()
    yield page
    context.close()


def count(server: E2EServer, expression: str) -> int:
    """A row count in the server's own database, through manage.py shell."""
    return int(server.shell(f"import django; django.setup(); {expression}").splitlines()[-1])


def focused_id(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.id"))


def test_admission_planning_and_consent_keep_everything_typed_and_write_nothing(
    nurse: Any, e2e_server: E2EServer
) -> None:
    e2e_server.shell(
        "import django; from brygga.access.persons import register_person; "
        f"register_person('{IDENTIFIER}', 'Tora', 'Formtestsson', 'Provgatan 11', '41301', 'Göteborg', "
        "municipality_code='1480', listed_unit_hsa_id=__import__('brygga.organisations.models', "
        "fromlist=['Unit']).Unit.objects.get(name='Närhälsan Göteborg vårdcentral').hsa_id)"
    )
    digits = IDENTIFIER.replace("-", "")
    cases_of_person = f"from brygga.cases.models import Case; print(Case.objects.filter(person__identifier='{digits}').count())"
    admitted = (dt.datetime.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")  # noqa: DTZ005 — local

    # --- admission with one error: no expected discharge date while the notice is to be sent (R-INS-4)
    nurse.goto("/arenden/nytt/")
    nurse.get_by_label("Personnummer, samordningsnummer eller reservnummer").fill(IDENTIFIER)
    nurse.get_by_label("Inskriven (datum och tid)").fill(admitted)
    nurse.get_by_label("Psykiatrisk vård").check()
    with nurse.expect_navigation():
        nurse.get_by_role("button", name="Skriv in").click()
    assert focused_id(nurse) == "error-summary"
    summary = nurse.locator("#error-summary")
    assert "Beräknat utskrivningsdatum måste anges." in summary.inner_text()
    assert (
        nurse.get_by_label("Personnummer, samordningsnummer eller reservnummer").input_value() == IDENTIFIER
    )
    assert nurse.get_by_label("Inskriven (datum och tid)").input_value() == admitted
    assert nurse.get_by_label("Psykiatrisk vård").is_checked()
    assert nurse.get_by_label(re.compile("Läkaren bedömer")).is_checked()
    assert nurse.get_by_label(re.compile("Skicka inskrivningsmeddelandet")).is_checked()
    date_field = nurse.get_by_label("Beräknat utskrivningsdatum")
    assert date_field.get_attribute("aria-invalid") == "true"
    assert date_field.get_attribute("aria-describedby") == "error-expected_discharge_date"
    assert count(e2e_server, cases_of_person) == 0
    assert_accessible_basics(nurse)
    screenshot(nurse, "trust-admission-refused")
    summary.get_by_role("link").first.click()  # the summary's link leads to the field
    assert nurse.url.endswith("#field-expected_discharge_date")

    # corrected: the same form goes through (no "already an open stay" dead end)
    date_field.fill((dt.date.today() + dt.timedelta(days=4)).isoformat())  # noqa: DTZ011 — the server's today
    with nurse.expect_navigation():
        nurse.get_by_role("button", name="Skriv in").click()
    created = re.search(r"/arenden/(\d+)/", nurse.url)  # the fragment of the summary link may stay
    assert created, nurse.url
    case_id = created.group(1)
    assert count(e2e_server, cases_of_person) == 1

    # --- planning basis with one error: one question left unanswered
    planning = nurse.locator("form#planning")
    questions = planning.locator("fieldset.choices")
    n = questions.count()
    for i in range(n):
        fieldset = questions.nth(i)
        legend = fieldset.locator("legend").inner_text()
        if legend.startswith("Bor ensam") or legend.startswith("Samtycke"):
            continue  # Bor ensam: the one error; the consent answer is optional
        fieldset.get_by_label("Vet ej").check()
    planning.get_by_label("Smärta").fill("Värk i höger höft, Alvedon vid behov")
    planning.get_by_label("Läkemedelslista").fill("Alvedon 1 g x 4\nFragmin 5000 E x 1")
    planning.locator("input[name='needs_text.social_services']").fill("Hemtjänst morgon och kväll")
    planning.locator("#c-ja").check()
    with nurse.expect_navigation():
        planning.get_by_role("button", name="Spara planeringsunderlag").click()
    assert focused_id(nurse) == "error-summary"
    planning = nurse.locator("form#planning")
    assert planning.get_by_label("Smärta").input_value() == "Värk i höger höft, Alvedon vid behov"
    assert planning.get_by_label("Läkemedelslista").input_value() == "Alvedon 1 g x 4\nFragmin 5000 E x 1"
    assert planning.locator("input[name='needs_text.social_services']").input_value() == (
        "Hemtjänst morgon och kväll"
    )
    assert planning.locator("#c-ja").is_checked()
    # the limit is shown where it matters: a counter under each limited text area (ADR 0007)
    assert re.fullmatch(r"36 / 2\s000", planning.locator("#ns-pain + .counter").inner_text()), (
        planning.locator("#ns-pain + .counter").inner_text()
    )
    assert planning.locator("#q-home_care_before-vet_ej").is_checked()
    assert planning.locator("#n-primary_care-vet_ej").is_checked()
    assert not planning.locator("input[name='answers.lives_alone']:checked").count()
    assert planning.locator("#q-lives_alone-ja").get_attribute("aria-invalid") == "true"
    assert nurse.locator("#error-planning-answers\\.lives_alone").is_visible()
    assert (
        count(
            e2e_server,
            f"from brygga.cases.models import PlanningBasis; print(PlanningBasis.objects.filter(case_id={case_id}).count())",
        )
        == 0
    )
    screenshot(nurse, "trust-planning-refused")

    # --- consent with one error: the answer to "what should the consent not cover" is missing (R-SEK-4)
    person_id = count(
        e2e_server,
        f"from brygga.people.models import Person; print(Person.objects.get(identifier='{digits}').pk)",
    )
    nurse.goto(f"/sip/samtycke/{person_id}/?arende={case_id}")
    form = nurse.locator("form#consent")
    form.get_by_label("Form", exact=True).select_option(index=1)
    consent_form = form.get_by_label("Form", exact=True).input_value()
    form.get_by_label("Syfte").fill("Samordnad utskrivning, Tora")
    categories = form.locator("fieldset#field-categories input[type=checkbox]")
    categories.nth(0).check()
    categories.nth(1).check()
    form.get_by_label("Gäller till (valfritt)").fill((dt.date.today() + dt.timedelta(days=90)).isoformat())  # noqa: DTZ011
    chosen = [categories.nth(0).get_attribute("value"), categories.nth(1).get_attribute("value")]
    with nurse.expect_navigation():
        form.get_by_role("button", name="Registrera samtycke").click()
    assert focused_id(nurse) == "error-summary"
    form = nurse.locator("form#consent")
    assert form.get_by_label("Syfte").input_value() == "Samordnad utskrivning, Tora"
    assert form.get_by_label("Form", exact=True).input_value() == consent_form
    for value in chosen:
        assert form.locator(f"fieldset#field-categories input[value='{value}']").is_checked(), value
    assert form.locator("fieldset#field-categories input:checked").count() == 2
    note = form.get_by_label(re.compile("Vad ska samtycket inte omfatta"))
    assert note.get_attribute("aria-invalid") == "true"
    assert (
        count(
            e2e_server,
            f"from brygga.consent.models import Consent; print(Consent.objects.filter(person_id={person_id}).count())",
        )
        == 0
    )
    assert_accessible_basics(nurse)
    screenshot(nurse, "trust-consent-refused")
