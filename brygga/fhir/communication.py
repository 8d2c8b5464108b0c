"""Messages in a case's threads as FHIR Communication (standards.md §3: MedCom CareCommunication's model —
category, subject as ``topic``, ``inResponseTo``, attachments). Reading goes through ``open_case`` and the
messaging app's reader check (R-SEK-2: a unit reads what it sent or received, or what could be disclosed to it
today); sending through ``messages_api.send`` — the legal basis per receiving unit, the attachments'
checks and the event, as in the UI and the JSON API."""

from __future__ import annotations

from typing import Any

from brygga.accounts.context import Actor
from brygga.cases.models import Case
from brygga.core.errors import DomainError, NotFound
from brygga.fhir import systems
from brygga.fhir.mapping import instant, unit_reference
from brygga.fhir.outcome import FhirError, from_domain_error
from brygga.messaging import api as messages_api
from brygga.messaging import services as messaging
from brygga.messaging.models import Message, Thread

CATEGORY = f"{systems.CANONICAL}/CodeSystem/message-category"  # MedCom's category codes, Swedish displays
THREAD = f"{systems.CANONICAL}/NamingSystem/thread"
PATHS = {
    "body": "Communication.payload",
    "category": "Communication.category",
    "subject": "Communication.topic",
    "title": "Communication.topic",
    "reply_to": "Communication.inResponseTo",
    "file": "Communication.payload.contentAttachment",
}


def communication(message: Message, case: Case, attachments: list[Any]) -> dict[str, Any]:
    thread: Thread = message.thread
    payload: list[dict[str, Any]] = [{"contentString": message.body}]
    for a in attachments:
        # The file is a DocumentReference (its Binary holds the bytes), read through the same checks.
        payload.append(
            {"contentReference": {"reference": f"DocumentReference/attachment-{a.pk}", "display": a.filename}}
        )
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": str(message.pk),
        "identifier": [{"system": THREAD, "value": str(thread.pk)}],
        "status": "completed",
        "category": [
            {
                "coding": [{"system": CATEGORY, "code": thread.category}],
                "text": str(thread.get_category_display()),
            }
        ],
        "subject": {"reference": f"Patient/{case.person_id}"},
        "encounter": {"reference": f"Encounter/{case.pk}"},
        "topic": {"text": thread.subject},
        "sent": instant(message.sent_at),
        "sender": unit_reference(message.unit),
        "payload": payload,
    }
    if message.in_reply_to_id:
        resource["inResponseTo"] = [{"reference": f"Communication/{message.in_reply_to_id}"}]
    return resource


def case_communications(actor: Actor, case: Case) -> list[dict[str, Any]]:
    """Every message of the case's threads the actor's unit may read (the caller opened the case)."""
    found = []
    for thread in messaging.thread_list(messaging.subject_for(case), actor.unit):
        for message in thread.message_list:  # type: ignore[attr-defined]
            message.thread = thread
            found.append(communication(message, case, message.attachment_list))
    return found


def send(actor: Actor, case: Case, resource: dict[str, Any]) -> Message:
    """``messages_api.send`` from a Communication: ``payload`` strings are the text, ``contentAttachment``
    with ``data`` the files, ``category`` and ``topic.text`` open a new thread, ``inResponseTo`` answers in
    one."""
    texts = [p["contentString"] for p in resource.get("payload") or [] if p.get("contentString")]
    files = [
        messages_api.AttachmentIn(filename=str(a.get("title") or "bilaga"), content_base64=str(a["data"]))
        for a in (p.get("contentAttachment") for p in resource.get("payload") or [])
        if a and a.get("data")
    ]
    category = next(
        (
            str(c.get("code"))
            for concept in resource.get("category") or []
            for c in concept.get("coding") or []
            if c.get("system") == CATEGORY
        ),
        "",
    )
    if category and category not in Thread.Category.values:
        raise FhirError.single(
            422,
            "FHIR-KOD",
            "Okänd kategori; se CodeSystem message-category.",
            "Communication.category",
            "code-invalid",
        )
    reply_to = None
    for ref in resource.get("inResponseTo") or []:
        kind, _sep, pk = str(ref.get("reference") or "").partition("/")
        if kind != "Communication" or not pk.isdecimal():
            raise FhirError.single(
                422,
                "FHIR-REFERENS",
                "inResponseTo ska vara Communication/<id>.",
                "Communication.inResponseTo",
            )
        reply_to = int(pk)
    payload = messages_api.MessageIn(
        body="\n\n".join(texts),
        category=category,
        subject=str((resource.get("topic") or {}).get("text") or ""),
        reply_to=reply_to,
        quote="",
        attachments=files,
    )
    try:
        out = messages_api.send(actor, messaging.subject_for(case), payload)
    except NotFound as exc:
        raise FhirError.single(
            422, "OKAND-MEDDELANDE", "Meddelandet som besvaras finns inte.", "Communication.inResponseTo"
        ) from exc
    except DomainError as exc:
        raise from_domain_error(exc, PATHS, "Communication") from exc
    return Message.objects.select_related("thread", "unit").get(pk=out["id"])
