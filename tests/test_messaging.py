"""Message threads on a case, a SIP and a care request (brygga.messaging.services): the legal basis per receiving
unit (R-SEK-1..3), attachments in the same transaction, need-to-know, the pages and the idempotent API."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.context import Actor
from brygga.accounts.models import ApiToken
from brygga.accounts.permissions import Role
from brygga.cases import services as case_services
from brygga.cases.models import Case, CaseEvent
from brygga.consent.services import withdraw_consent
from brygga.core.errors import DomainError, NotFound
from brygga.documents.attachments import open_attachment
from brygga.documents.models import Attachment
from brygga.messaging import services as messaging
from brygga.messaging.models import Message, Thread
from brygga.sip import services as sip_services
from brygga.sip.models import CareRequest, Event, Sip, SipParticipant
from tests.factories import CONTACT_POINT, PRIMARY_CARE, WARD, actor, make_person, share_consent, unit

pytestmark = pytest.mark.django_db

HOME = "Göteborg hemsjukvård"
OUTSIDER = "Borås kontaktpunkt"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def document_storage(isolated_documents: Path) -> Path:
    return isolated_documents / "documents"


def stored_files(location: Path) -> list[Path]:
    return [p for p in location.rglob("*") if p.is_file()] if location.exists() else []


@pytest.fixture
def person():  # type: ignore[no-untyped-def]
    p = make_person("1480")
    involve(
        p,
        unit(PRIMARY_CARE),
        Involvement.Kind.OTHER,
        "test:listning",
        at=timezone.now() - dt.timedelta(days=30),
    )
    return p


def consent(by, person, parties=(HOME, PRIMARY_CARE), categories=("sip", "health", "medications", "efforts")):  # type: ignore[no-untyped-def]
    return share_consent(by, person, [unit(name) for name in parties], categories)


def summoned_sip(vc, person) -> Sip:  # type: ignore[no-untyped-def]
    sip = sip_services.start_sip(vc, person, need_description="Hemsjukvård och vårdcentralens insatser")
    sip_services.add_participant(vc, sip, kind="unit", unit=unit(HOME))
    sip_services.summon(vc, sip, meeting_at=timezone.now() + dt.timedelta(days=2), location="Vårdcentralen")
    sip.refresh_from_db()
    return sip


def care_request(vc, person) -> CareRequest:  # type: ignore[no-untyped-def]
    return sip_services.send_care_request(
        vc,
        person,
        to_unit=unit(HOME),
        reason="Behöver hjälp med sårvård i hemmet.",
        health_summary="Venöst bensår, i övrigt stabil.",
        requested_efforts=["wound_care"],
        medication_responsibility="person",
        start_on=timezone.localdate() + dt.timedelta(days=2),
        contact_name="Fia Fastvård",
        contact_phone="031-123 45 67",
    )


def noticed_case(nurse, recipients=None) -> Case:  # type: ignore[no-untyped-def]
    now = timezone.now()
    case = case_services.admit(
        nurse,
        make_person("1480"),
        admitted_at=now - dt.timedelta(hours=3),
        care_type="somatic",
        expected_discharge_date=(now + dt.timedelta(days=4)).date(),
        need_assessed_at=now - dt.timedelta(hours=3),
    )
    case_services.send_admission_notice(nurse, case, recipients=recipients)
    case.refresh_from_db()
    return case


def counts() -> tuple[int, ...]:
    return (
        Thread.objects.count(),
        Message.objects.count(),
        Attachment.objects.count(),
        CaseEvent.objects.filter(kind="message_sent").count(),
        Event.objects.filter(kind="message_sent").count(),
    )


def client_for(a) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(a.user)
    return client


def auth(a: Actor) -> dict[str, Any]:
    assert a.membership is not None
    _obj, raw = ApiToken.issue(a.membership, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# --- a SIP and a care request -------------------------------------------------------------------------------


def test_message_on_a_sip_records_the_event_the_basis_and_unacknowledges_r_sek_3(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    given = consent(vc, person)
    sip = summoned_sip(vc, person)
    sip_services.acknowledge_sip(home, sip)
    message = messaging.send_message(
        vc,
        messaging.subject_for(sip),
        body="Kan ni ta med läkemedelslistan?",
        category="medicine",
        title="Möte",
    )
    assert message.thread.sip == sip and message.thread.case is None and message.thread.person == person
    [basis] = message.legal_basis["units"]
    assert basis["unit"]["name"] == HOME and basis["basis"] == "consent" and basis["ref"] == given.pk
    assert basis["rule"] == "R-SEK-3" and message.legal_basis["category"] == "health"
    event = Event.objects.get(sip=sip, kind="message_sent")
    assert event.data["message"] == message.pk and event.data["legal_basis"] == [
        {"unit": unit(HOME).hsa_id, "basis": "consent"}
    ]
    assert SipParticipant.objects.get(sip=sip, unit=unit(HOME)).acknowledged_at is None
    assert AccessLogEntry.objects.filter(person=person, what=f"sip:{sip.pk}/message_sent").exists()
    # The receiving unit answers in the same thread; its basis towards the region is the same consent.
    reply = messaging.send_message(
        home, messaging.subject_for(sip), body="Ja.", reply_to=message, quote="läkemedelslistan"
    )
    assert reply.thread == message.thread and reply.legal_basis["units"][0]["unit"]["name"] == PRIMARY_CARE


def test_message_on_a_care_request_between_sender_and_receiver(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    consent(vc, person)
    request = care_request(vc, person)
    subject = messaging.subject_for(request)
    message = messaging.send_message(
        home, subject, body="Vilken tid passar?", category="nursing", title="Tid"
    )
    assert message.thread.care_request == request
    assert [u["unit"]["name"] for u in message.legal_basis["units"]] == [PRIMARY_CARE]
    assert Event.objects.filter(care_request=request, kind="message_sent").count() == 1
    pinned = messaging.pin_message(vc, subject, message)
    assert pinned.pinned and messaging.pinned_of(subject, vc.unit) == [message]
    forwarded = messaging.forward_message(vc, subject, message, include_text=False, reason="Till teamet")
    assert forwarded.thread.subject == "VB: Tid" and forwarded.quoted == ""
    with pytest.raises(DomainError) as exc:
        messaging.forward_message(vc, subject, message, include_text=True, to_unit=unit(WARD))
    assert exc.value.problems[0].rule == "VIDARESAND"


# --- the legal basis ----------------------------------------------------------------------------------------


def test_r_sek_2_message_to_another_principal_without_consent_is_refused_and_nothing_written(
    nurse, contact
) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    before, logged = counts(), AccessLogEntry.objects.filter(person=case.person).count()
    with pytest.raises(DomainError) as exc:
        case_services.send_message(
            nurse, case, body="Diagnos: hjärtsvikt", category="nursing", subject="Status"
        )
    problems = exc.value.problems
    assert exc.value.status == 403 and {p.rule for p in problems} == {"R-SEK-2"}
    assert {p.field for p in problems} == {"body"} and CONTACT_POINT in problems[0].message
    assert counts() == before
    assert AccessLogEntry.objects.filter(person=case.person).count() == logged


def test_r_sek_3_withdrawn_consent_refuses_the_next_message(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    given = consent(vc, person)
    request = care_request(vc, person)
    subject = messaging.subject_for(request)
    messaging.send_message(vc, subject, body="Första", category="nursing", title="Sår")
    withdraw_consent(vc, given, note="Vill inte längre")
    before = counts()
    with pytest.raises(DomainError) as exc:
        messaging.send_message(vc, subject, body="Andra", category="nursing", title="Sår")
    assert exc.value.problems[0].rule == "R-SEK-3" and "återkallades" in exc.value.problems[0].message
    assert counts() == before


def test_r_sek_1_same_principal_needs_no_consent(nurse, vc) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse, recipients=[unit(PRIMARY_CARE)])
    message = case_services.send_message(
        nurse, case, body="Läkemedelslista bifogas", category="medicine", subject="Lm"
    )
    [basis] = message.legal_basis["units"]
    assert basis["unit"]["name"] == PRIMARY_CARE and basis["basis"] == "same_principal"
    assert basis["rule"] == "R-SEK-1"


def test_legal_basis_is_stored_and_shown_on_every_message_of_the_page(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    consent(vc, person)
    sip = summoned_sip(vc, person)
    messaging.send_message(
        vc, messaging.subject_for(sip), body="Hej", category="carecoordination", title="Plan"
    )
    page = client_for(home).get(reverse("sip:detail", args=[sip.pk])).content.decode()
    assert "Rättslig grund" in page and "Samtycke lämnat" in page and "(R-SEK-3)" in page
    assert "Meddelanden om SIP:en" in page and "Plan" in page
    # Before writing, the form names each receiver with its basis, or the rule that would refuse it.
    assert "Mottagare och rättslig grund" in page and f"{PRIMARY_CARE}: Samtycke lämnat" in page


def test_thread_belongs_to_exactly_one_subject(nurse, vc, person) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    sip = sip_services.start_sip(vc, person, need_description="Behov")
    with pytest.raises(IntegrityError), transaction.atomic():
        Thread.objects.create(
            person=person, case=case, sip=sip, category="other", subject="x", created_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Thread.objects.create(person=person, category="other", subject="x", created_at=timezone.now())


# --- attachments --------------------------------------------------------------------------------------------


def test_attachment_on_a_sip_message_is_stored_shown_and_downloadable_by_the_receiver(
    vc, home, person
) -> None:  # type: ignore[no-untyped-def]
    consent(vc, person)
    sip = summoned_sip(vc, person)
    response = client_for(vc).post(
        reverse("sip:action", args=[sip.pk, "message"]),
        {
            "category": "medicine",
            "subject": "Läkemedel",
            "body": "Listan bifogas",
            "file": SimpleUploadedFile("lista.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    message = Message.objects.get(thread__sip=sip)
    attachment = Attachment.objects.get(owner_type="message", owner_id=str(message.pk))
    assert attachment.filename == "lista.pdf" and attachment.person == person
    page = client_for(home).get(reverse("sip:detail", args=[sip.pk])).content.decode()
    assert reverse("documents:download", args=[attachment.pk]) in page and "lista.pdf" in page
    assert open_attachment(home, attachment.pk) == attachment


@pytest.mark.parametrize(
    ("content", "limit", "rule"),
    [(b"just text, not a document", None, "DOK-BIL-1"), (PDF, 10, "DOK-BIL-2")],
    ids=["wrong-type", "too-big"],
)
def test_refused_attachment_means_no_message_and_the_error_is_next_to_the_field(
    vc, person, settings, document_storage, content, limit, rule
) -> None:  # type: ignore[no-untyped-def]
    if limit:
        settings.BRYGGA_ATTACHMENT_MAX_BYTES = limit
    consent(vc, person)
    request = care_request(vc, person)
    before = counts()
    response = client_for(vc).post(
        reverse("sip:care_request_action", args=[request.pk, "message"]),
        {
            "category": "nursing",
            "subject": "Såret",
            "body": "Bild bifogas",
            "file": SimpleUploadedFile("bild.pdf", content),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="error-message-file"' in page and rule in page
    assert counts() == before and stored_files(document_storage) == []


# --- need-to-know -------------------------------------------------------------------------------------------


def test_another_unit_cannot_read_or_post_and_nothing_changes(vc, person) -> None:  # type: ignore[no-untyped-def]
    consent(vc, person)
    sip = summoned_sip(vc, person)
    request = care_request(vc, person)
    messaging.send_message(vc, messaging.subject_for(sip), body="Hej", category="other", title="Ämne")
    outsider = actor(Role.MUNICIPAL_CONTACT, OUTSIDER)
    client, before = client_for(outsider), counts()
    assert client.get(reverse("sip:detail", args=[sip.pk])).status_code == 404
    data = {"category": "other", "subject": "Inbrytning", "body": "x"}
    assert client.post(reverse("sip:action", args=[sip.pk, "message"]), data).status_code == 404
    assert (
        client.post(reverse("sip:care_request_action", args=[request.pk, "message"]), data).status_code == 404
    )
    api = Client()
    assert api.get(f"/api/v1/sip/{sip.pk}/messages", **auth(outsider)).status_code == 404
    response = api.post(
        f"/api/v1/sip/care-requests/{request.pk}/messages",
        {"body": "x", "category": "other", "subject": "y"},
        content_type="application/json",
        **auth(outsider),
    )
    assert response.status_code == 404
    assert counts() == before
    with pytest.raises(NotFound):
        messaging.send_message(outsider, messaging.subject_for(sip), body="x", category="other", title="y")


def test_a_message_of_another_subject_cannot_be_answered_through_this_one(vc, person) -> None:  # type: ignore[no-untyped-def]
    consent(vc, person)
    sip = summoned_sip(vc, person)
    request = care_request(vc, person)
    on_sip = messaging.send_message(vc, messaging.subject_for(sip), body="a", category="other", title="b")
    with pytest.raises(NotFound):
        messaging.send_message(vc, messaging.subject_for(request), body="c", reply_to=on_sip)
    with pytest.raises(NotFound):
        messaging.message_of(messaging.subject_for(request), on_sip.pk, vc.unit)


# --- the API ------------------------------------------------------------------------------------------------


def test_api_message_with_idempotency_key_replays_and_a_reused_key_is_refused(vc, home, person) -> None:  # type: ignore[no-untyped-def]
    consent(vc, person)
    request = care_request(vc, person)
    url, headers = f"/api/v1/sip/care-requests/{request.pk}/messages", auth(vc)
    body = {
        "body": "Ordinationen bifogas",
        "category": "medicine",
        "subject": "Ordination",
        "attachments": [{"filename": "ord.pdf", "content_base64": base64.b64encode(PDF).decode()}],
    }
    first = Client().post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="m1", **headers)
    assert first.status_code == 201, first.content
    again = Client().post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="m1", **headers)
    assert again.status_code == 201 and again.json()["replayed"] is True
    assert again.json()["message"]["id"] == first.json()["message"]["id"]
    assert first.json()["message"]["legal_basis"]["units"][0]["basis"] == "consent"
    assert [a["filename"] for a in first.json()["message"]["attachments"]] == ["ord.pdf"]
    assert Message.objects.filter(thread__care_request=request).count() == 1
    other = Client().post(
        url, {**body, "body": "Annat"}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="m1", **headers
    )
    assert other.status_code == 422 and other.json()["problems"][0]["rule"] == "IDEMPOTENS"
    listed = Client().get(url, **auth(home)).json()
    assert [m["body"] for m in listed] == ["Ordinationen bifogas"]


def test_api_case_message_refusal_is_stored_and_replayed_with_the_acknowledgement(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    url, headers = f"/api/v1/cases/{case.pk}/messages", auth(nurse)
    body = {"body": "Diagnos", "category": "nursing", "subject": "Status"}
    first = Client().post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c1", **headers)
    assert first.status_code == 403
    ack = first.json()["acknowledgement"]
    assert ack["code"] == "fatal-error" and ack["problems"][0]["rule"] == "R-SEK-2"
    share_consent(nurse, case.person, [unit(CONTACT_POINT)])
    again = Client().post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c1", **headers)
    assert again.status_code == 403 and again.json()["acknowledgement"]["replayed"] is True
    fresh = Client().post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c2", **headers)
    assert fresh.status_code == 201 and fresh.json()["acknowledgement"]["code"] == "ok"
    message_id = fresh.json()["message"]["id"]
    pin = Client().post(
        f"{url}/{message_id}/pin", {"pinned": True}, content_type="application/json", **headers
    )
    assert pin.status_code == 200 and pin.json()["message"]["pinned"] is True


def test_the_shared_action_dispatch_answers_404_for_an_unknown_action_on_all_three_pages(
    vc, nurse, person
) -> None:  # type: ignore[no-untyped-def]
    consent(vc, person)
    sip = summoned_sip(vc, person)
    request = care_request(vc, person)
    case = noticed_case(nurse)
    assert client_for(vc).post(reverse("sip:action", args=[sip.pk, "nope"])).status_code == 404
    assert (
        client_for(vc).post(reverse("sip:care_request_action", args=[request.pk, "nope"])).status_code == 404
    )
    assert client_for(nurse).post(reverse("cases:action", args=[case.pk, "nope"])).status_code == 404
    # A refused message on the case page re-renders it with the rule next to the text field.
    response = client_for(nurse).post(
        reverse("cases:action", args=[case.pk, "message"]), {"category": "other", "subject": "x", "body": "y"}
    )
    assert response.status_code == 403 and 'id="error-message-body"' in response.content.decode()
    assert "får inte ta emot" in response.content.decode()


# --- from the case to a recorded consent (R-SEK-3) ------------------------------------------------------------


def test_r_sek_3_a_refused_receiver_links_to_the_consent_form_prefilled_with_the_cases_receivers(
    nurse,
) -> None:  # type: ignore[no-untyped-def]
    """The ward records the consent at admission and passes it on (R-SEK-3): from the case, the consent form
    starts with the case's receiving units and purpose; once recorded, the message has its basis."""
    case = noticed_case(nurse)
    receivers = set(
        case.participants.filter(status="active").exclude(role="ward").values_list("unit_id", flat=True)
    )
    assert unit(CONTACT_POINT).pk in receivers
    client = client_for(nurse)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    link = reverse("sip:consents", args=[case.person_id]) + f"?arende={case.pk}#consent"
    assert "får inte ta emot" in page and link.replace("&", "&amp;") in page
    assert "Registrera patientens samtycke för mottagarna" in page  # next to the refused receivers
    form = client.get(link.split("#")[0]).content.decode()
    assert f"ärende {case.pk}" in form
    parties = form.split('id="field-parties"')[1].split("</select>")[0]
    selected = {int(pk) for pk in re.findall(r'<option value="(\d+)" selected>', parties)}
    assert selected == receivers
    assert f'name="arende" value="{case.pk}"' in form
    refused = client.post(  # no category chosen: refused, the choice of receivers kept
        link.split("#")[0], {"action": "consent", "arende": case.pk, "parties": sorted(receivers)}
    )
    assert refused.status_code == 400
    kept = refused.content.decode().split('id="field-parties"')[1].split("</select>")[0]
    assert {int(pk) for pk in re.findall(r'<option value="(\d+)" selected>', kept)} == receivers
    done = client.post(
        link.split("#")[0],
        {
            "action": "consent",
            "arende": case.pk,
            "given_by": "person",
            "consent_form": "verbal",
            "purpose": f"Samordnad utskrivning (ärende {case.pk})",
            "parties": sorted(receivers),
            "categories": ["health"],
            "exclusions_note": "Inga undantag.",
        },
    )
    assert (
        done.status_code == 302
        and done["Location"] == reverse("cases:detail", args=[case.pk]) + "#messages-title"
    )
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    recipients = page.split('class="recipients"')[1].split("</ul>")[0]
    assert "får inte ta emot" not in recipients, recipients
    assert "Registrera patientens samtycke för mottagarna" not in page


def test_the_consent_form_takes_no_prefill_from_a_case_the_unit_does_not_take_part_in(nurse) -> None:  # type: ignore[no-untyped-def]
    case = noticed_case(nurse)
    other = actor(Role.WARD_NURSE, "NÄL, medicinavdelning", username="nal-nurse")
    assert other.unit is not None
    involve(case.person, other.unit, Involvement.Kind.OTHER, "test", at=timezone.now())
    form = client_for(other).get(reverse("sip:consents", args=[case.person_id]) + f"?arende={case.pk}")
    assert form.status_code == 200
    body = form.content.decode()
    assert f"ärende {case.pk}" not in body
    assert " selected>" not in body.split('id="field-parties"')[1].split("</select>")[0]
