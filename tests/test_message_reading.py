"""Reading messages under R-SEK-2 (brygga.messaging.services.Readable): a unit reads what it sent or received
(named in the stored basis), or what a unit holding the message could disclose to it today (same principal
and secrecy area, or a consent naming it). A unit that joins later does not read what another principal sent
before it took part until there is a basis: not in the threads, not by id, not its attachments, not in the
API or on the page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.context import Actor
from brygga.accounts.models import ApiToken
from brygga.accounts.permissions import Role
from brygga.consent.services import withdraw_consent
from brygga.core.errors import NotFound
from brygga.documents.attachments import attachments_for, open_attachment
from brygga.messaging import services as messaging
from brygga.people.models import Person
from brygga.sip import services as sip_services
from brygga.sip.models import Sip
from tests.factories import PRIMARY_CARE, actor, make_person, share_consent, unit

pytestmark = pytest.mark.django_db

HOME = "Göteborg hemsjukvård"
LATER = "Borås kontaktpunkt"  # another principal (Borås stad), joins the SIP after the first message
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET = "Insulin morgon och kväll, ny dos från måndag"


@pytest.fixture(autouse=True)
def document_storage(isolated_documents: Path) -> Path:
    return isolated_documents / "documents"


@pytest.fixture
def later() -> Actor:
    return actor(Role.MUNICIPAL_CONTACT, LATER)


@pytest.fixture
def person(vc: Actor) -> Person:
    p = make_person("1480")
    involve(
        p,
        unit(PRIMARY_CARE),
        Involvement.Kind.OTHER,
        "test:listning",
        at=timezone.now() - dt.timedelta(days=30),
    )
    share_consent(vc, p, [unit(HOME), unit(PRIMARY_CARE)], ("sip", "health"))
    return p


@pytest.fixture
def sip(vc: Actor, person: Person) -> Sip:
    """A summoned SIP of the vårdcentral and the home care; a message with a PDF sent to the home care; then
    a unit of another principal joins, with the person's consent for the SIP but not for health information."""
    sip = sip_services.start_sip(vc, person, need_description="Hemsjukvård och vårdcentralens insatser")
    sip_services.add_participant(vc, sip, kind="unit", unit=unit(HOME))
    sip_services.summon(vc, sip, meeting_at=timezone.now() + dt.timedelta(days=2), location="Vårdcentralen")
    sip.refresh_from_db()
    messaging.send_message(
        vc,
        messaging.subject_for(sip),
        body=SECRET,
        category="other",
        title="Dosändring vecka 48",
        files=[SimpleUploadedFile("lista.pdf", PDF, content_type="application/pdf")],
    )
    share_consent(vc, person, [unit(LATER)], ("sip",))
    sip_services.add_participant(vc, sip, kind="unit", unit=unit(LATER))
    return sip


def test_r_sek_2_a_unit_that_joined_later_does_not_read_another_principals_earlier_message(
    vc: Actor, later: Actor, sip: Sip
) -> None:
    subject = messaging.subject_for(sip)
    (message,) = [m for t in messaging.thread_list(subject, vc.unit) for m in t.message_list]  # type: ignore[attr-defined]
    assert message.body == SECRET
    assert [t.message_list for t in messaging.thread_list(subject, unit(HOME))] == [[message]]  # type: ignore[attr-defined]
    # the unit that joined later: no thread (its subject is text too), no message by id, nothing pinned
    assert messaging.thread_list(subject, later.unit) == []
    with pytest.raises(NotFound):
        messaging.message_of(subject, message.pk, later.unit)
    messaging.pin_message(vc, subject, message)
    assert messaging.pinned_of(subject, later.unit) == []
    assert messaging.pinned_of(subject, vc.unit) == [message]
    assert messaging.readable_messages(later, [str(message.pk)]) == set()
    assert messaging.readable_messages(vc, [str(message.pk), "x", "999999"]) == {str(message.pk)}
    assert messaging.thread_list(subject, None) == []  # no unit, nothing read (fail closed)


def test_r_sek_2_the_earlier_messages_attachments_are_not_found_nor_listed_for_that_unit(
    vc: Actor, later: Actor, sip: Sip, person: Person
) -> None:
    _person, for_vc = attachments_for(vc, person.pk)
    (attachment,) = [a for a in for_vc if a.owner_type == "message"]
    assert open_attachment(vc, attachment.pk) == attachment
    with pytest.raises(NotFound):
        open_attachment(later, attachment.pk)
    _person, for_later = attachments_for(later, person.pk)
    assert attachment not in list(for_later)


def test_listing_a_persons_attachments_checks_the_messages_in_one_go(
    vc: Actor, sip: Sip, person: Person
) -> None:
    """The reader check takes all of a listing's messages at once: more message attachments, same queries."""
    share_consent(vc, person, [unit(LATER)], ("sip", "health"))  # so that the later messages can be sent
    with CaptureQueriesContext(connection) as one:
        attachments_for(vc, person.pk)
    for n in range(3):
        messaging.send_message(
            vc,
            messaging.subject_for(sip),
            body=f"Bilaga {n}",
            category="other",
            title=f"Bilaga {n}",
            files=[SimpleUploadedFile(f"b{n}.pdf", PDF, content_type="application/pdf")],
        )
    with CaptureQueriesContext(connection) as four:
        _person, listed = attachments_for(vc, person.pk)
    assert len([a for a in listed if a.owner_type == "message"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_r_sek_3_after_a_consent_naming_it_the_later_unit_reads_the_earlier_message(
    vc: Actor, later: Actor, sip: Sip, person: Person
) -> None:
    subject = messaging.subject_for(sip)
    share_consent(vc, person, [unit(HOME), unit(PRIMARY_CARE), unit(LATER)], ("sip", "health"))
    (thread,) = messaging.thread_list(subject, later.unit)
    assert [m.body for m in thread.message_list] == [SECRET]  # type: ignore[attr-defined]
    assert thread.hidden_count == 0  # type: ignore[attr-defined]


def test_r_sek_3_after_the_consent_is_withdrawn_it_reads_only_what_was_sent_to_it(
    vc: Actor, later: Actor, sip: Sip, person: Person
) -> None:
    """The later unit was given health consent and received a reply in the same thread; the consent is then
    withdrawn. What was sent to it stays readable (it was disclosed then); the earlier message is hidden
    again, and the page says one message in the thread is not shown."""
    subject = messaging.subject_for(sip)
    given = share_consent(vc, person, [unit(LATER)], ("sip", "health"))
    (first,) = [m for t in messaging.thread_list(subject, vc.unit) for m in t.message_list]  # type: ignore[attr-defined]
    reply = messaging.send_message(vc, subject, body="Dosen gäller från måndag.", reply_to=first)
    withdraw_consent(vc, given, note="Vill inte längre")
    (thread,) = messaging.thread_list(subject, later.unit)
    assert thread.message_list == [reply] and thread.hidden_count == 1  # type: ignore[attr-defined]
    client = Client()
    client.force_login(later.user)
    html = client.get(reverse("sip:detail", args=[sip.pk])).content.decode()
    assert "Dosen gäller från måndag." in html and SECRET not in html
    assert "1 meddelande i tråden visas inte" in html


def test_r_sek_1_a_unit_of_the_holders_own_principal_reads_what_its_principal_holds(
    vc: Actor, sip: Sip
) -> None:
    """Another vårdcentral unit of the region joins: the region already holds the message (the sender is a
    region unit in the same secrecy area), so it is read without a new consent."""
    colleague = actor(Role.WARD_NURSE)  # Sahlgrenska, medicinavdelning: Västra Götalandsregionen
    subject = messaging.subject_for(sip)
    sip_services.add_participant(vc, sip, kind="unit", unit=colleague.unit)
    threads = messaging.thread_list(subject, colleague.unit)
    assert [m.body for t in threads for m in t.message_list] == [SECRET]  # type: ignore[attr-defined]


def test_the_page_and_the_api_show_the_later_unit_nothing_of_the_earlier_message(
    vc: Actor, later: Actor, sip: Sip
) -> None:
    client = Client()
    client.force_login(later.user)
    page = client.get(reverse("sip:detail", args=[sip.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert SECRET not in html and "Dosändring" not in html and "lista.pdf" not in html
    assert later.membership is not None
    _token, raw = ApiToken.issue(later.membership, "test")
    answer = Client().get(f"/api/v1/sip/{sip.pk}/messages", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert answer.status_code == 200 and answer.json() == []
    # the vårdcentral that sent it sees it on the same page and in the API
    client.force_login(vc.user)
    assert SECRET in client.get(reverse("sip:detail", args=[sip.pk])).content.decode()
    assert vc.membership is not None
    _token, own = ApiToken.issue(vc.membership, "test")
    mine = Client().get(f"/api/v1/sip/{sip.pk}/messages", HTTP_AUTHORIZATION=f"Bearer {own}")
    assert [m["body"] for m in mine.json()] == [SECRET]
