"""End to end in headless Chromium: the ward nurse attaches a PDF to a message of a demo case, writes a SIP
document, signs it, the physician co-signs, and both see two valid signatures. Screenshots in
docs/screenshots/documents-*."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import E2EServer, assert_accessible_basics, login, screenshot

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

MEDICINE = "Sahlgrenska, medicinavdelning"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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
        if page.url.endswith("/enhet/"):
            page.get_by_label(re.compile(re.escape(MEDICINE))).check()
            with page.expect_navigation():
                page.get_by_role("button", name="Fortsätt").click()
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_attach_a_pdf_to_a_message_and_sign_a_sip_with_two_signers(
    session: Any, e2e_server: E2EServer
) -> None:
    ids = e2e_server.shell(
        "from brygga.messaging.models import Message; "
        "m = Message.objects.filter(thread__case__ward__name='Sahlgrenska, medicinavdelning').first() "
        "or Message.objects.first(); "
        "print(m.pk, m.thread.case_id, m.thread.case.person_id)"
    )
    message_id, case_id, person_id = ids.split()[-3:]

    nurse = session("sjukskoterska")
    nurse.goto(f"/dokument/person/{person_id}/?owner_type=message&owner_id={message_id}")
    assert_accessible_basics(nurse)
    assert f"Bifogas till: Meddelande {message_id}" in nurse.inner_text("main")
    nurse.get_by_label(re.compile("Bifoga fil")).set_input_files(
        {"name": "lakemedelslista.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    with nurse.expect_navigation():
        nurse.get_by_role("button", name="Bifoga", exact=True).click()
    table = nurse.locator("section[aria-labelledby=attachments-title] table").inner_text()
    assert "lakemedelslista.pdf" in table and f"message {message_id}" in table
    screenshot(nurse, "documents-attachment")

    nurse.goto(f"/dokument/person/{person_id}/?owner_type=case&owner_id={case_id}")
    nurse.get_by_label("Rubrik").fill("SIP — samordnad individuell plan")
    nurse.get_by_label("Innehåll").fill("Mål: trygg hemgång.\n\nInsatser: hemtjänst morgon och kväll.")
    with nurse.expect_navigation():
        nurse.get_by_role("button", name="Skapa dokument").click()
    document_url = nurse.url
    assert re.search(r"/dokument/\d+/$", document_url), document_url
    with nurse.expect_navigation():
        nurse.get_by_role("button", name="Underteckna version 1").click()
    assert "Giltig underskrift" in nurse.inner_text("main")

    physician = session("lakare")
    physician.goto(document_url)
    with physician.expect_navigation():
        physician.get_by_role("button", name="Underteckna version 1").click()
    main = physician.inner_text("main")
    assert main.count("Giltig underskrift") == 2 and "Ogiltig" not in main
    assert_accessible_basics(physician)
    screenshot(physician, "documents-signed")
