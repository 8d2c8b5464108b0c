"""SIP, consent and care requests under /api/v1/sip: the same services as the web pages, with the same
permission and need-to-know checks and access logging. A write with an ``Idempotency-Key`` header is stored
with its answer (in the cases app's IdempotencyRecord): a retry with the same key and body gets the stored
answer and changes nothing — a refusal included; the same key with another body is refused (IDEMPOTENS).
``GET /sip/{id}/careplan`` gives the SIP as a FHIR R4-shaped CarePlan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from brygga.access.services import log_list_access, open_person
from brygga.accounts.context import Actor, AuthedRequest
from brygga.consent import services as consent_services
from brygga.core.errors import DomainError, NotFound
from brygga.core.idempotency import KEY_CONFLICT, AnswerShape, idempotency_key, run_idempotent
from brygga.messaging import api as messages_api
from brygga.messaging import services as messaging
from brygga.organisations.models import Unit
from brygga.people.presenters import person_summary
from brygga.sip import selectors, services
from brygga.sip.models import CareRequest, Sip

router = Router(tags=["SIP, öppenvård och samtycke"])

# Writes answer with the object or with the structured refusal; both may be a stored, replayed answer.
ENVELOPE: dict[int, Any] = {code: dict[str, Any] for code in (200, 201, 400, 403, 404, 409, 422)}


# --- idempotency --------------------------------------------------------------------------------------------


def _conflict() -> tuple[int, dict[str, Any]]:
    return 422, {"error": "invalid", "problems": [dict(KEY_CONFLICT)]}


# The SIP API's words: the object, or {"error", "problems"}; a replay says "replayed": true.
SHAPE = AnswerShape(
    refused=lambda exc: (exc.status, exc.as_dict()),
    not_found=lambda: (404, {"error": "not_found", "problems": []}),
    key_conflict=_conflict,
    replayed=lambda body: {**body, "replayed": True},
)


def idempotent(
    request: AuthedRequest, scope: str, body: Any, operation: Callable[[], tuple[int, dict[str, Any]]]
) -> Status[dict[str, Any]]:
    """Run one write in its own transaction; with an Idempotency-Key at most once per (user, unit, key)."""
    actor: Actor = request.actor
    status, answer = run_idempotent(actor, idempotency_key(request), f"sip:{scope}", body, operation, SHAPE)
    return Status(status, answer)


def _actor(request: AuthedRequest) -> Actor:
    return request.actor


def _unit(hsa_or_id: str | int | None) -> Unit | None:
    if hsa_or_id in (None, ""):
        return None
    text = str(hsa_or_id)
    unit = Unit.objects.filter(hsa_id=text).first()
    if unit is None and text.isdecimal():
        unit = Unit.objects.filter(pk=int(text)).first()
    if unit is None:
        raise DomainError.single("unit", "OKAND-ENHET", "Okänd enhet.")
    return unit


# --- output -------------------------------------------------------------------------------------------------


def sip_out(sip: Sip) -> dict[str, Any]:
    current = sip.current_version()
    return {
        "id": sip.pk,
        "status": sip.status,
        "status_label": sip.get_status_display(),
        "person": person_summary(sip.person),
        "case_id": sip.case_id,
        "concerns_child": sip.concerns_child,
        "initiated_by": sip.initiated_by_unit.hsa_id,
        "summoned_at": sip.summoned_at,
        "meeting_at": sip.meeting_at,
        "meeting_held_at": sip.meeting_held_at,
        "closed_at": sip.closed_at,
        "current_version": current.number if current else None,
        "participants": [
            {
                "kind": p.kind,
                "unit": p.unit.hsa_id if p.unit else None,
                "name": p.name or (p.unit.name if p.unit else ""),
            }
            for p in sip.participants.select_related("unit")
        ],
        "follow_ups": [
            {
                "id": f.pk,
                "due_on": f.due_on,
                "description": f.description,
                "responsible": f.responsible_unit.hsa_id,
                "done_at": f.done_at,
            }
            for f in sip.follow_ups.select_related("responsible_unit")
        ],
    }


def care_request_out(cr: CareRequest) -> dict[str, Any]:
    return {
        "id": cr.pk,
        "status": cr.status,
        "person": person_summary(cr.person),
        "from_unit": cr.from_unit.hsa_id,
        "to_unit": cr.to_unit.hsa_id,
        "reason": cr.reason,
        "health_summary": cr.health_summary,
        "requested_efforts": cr.requested_efforts,
        "medication_responsibility": cr.medication_responsibility,
        "start_on": cr.start_on,
        "contact_name": cr.contact_name,
        "contact_phone": cr.contact_phone,
        "legal_basis": cr.legal_basis,
        "sip_id": cr.sip_id,
        "sent_at": cr.sent_at,
        "answer_due_at": cr.answer_due_at,
        "answered_at": cr.answered_at,
        "decline_reason": cr.decline_reason,
        "answer_text": cr.answer_text,
    }


# --- schemas ------------------------------------------------------------------------------------------------


class SipIn(Schema):
    person_id: int
    need_description: str
    case_id: int | None = None


class ParticipantIn(Schema):
    kind: str
    unit: str | None = None  # HSA-id
    name: str = ""
    role_text: str = ""


class SummonsIn(Schema):
    meeting_at: dt.datetime
    location: str = ""


class MeetingIn(Schema):
    held_at: dt.datetime | None = None
    note: str = ""


class EffortIn(Schema):
    need: str = ""
    effort: str = ""
    responsible_unit: str | None = None  # HSA-id
    performer_other: str = ""


class DraftIn(Schema):
    what_matters: str = ""
    needs: str = ""
    other_efforts: str = ""
    overall_responsible_unit: str | None = None
    efforts: list[EffortIn] = []
    change_reason: str = ""


class EstablishIn(Schema):
    follow_up_on: dt.date | None = None
    follow_up_description: str = ""
    follow_up_unit: str | None = None


class FollowUpIn(Schema):
    due_on: dt.date
    description: str
    responsible_unit: str


class CloseIn(Schema):
    reason: str
    text: str = ""


class ConsentIn(Schema):
    person_id: int
    given_by: str
    form: str
    purpose: str = Field(max_length=200)
    parties: list[str]
    categories: list[str]
    exclusions_note: str = Field(max_length=2000)
    excluded_parties: list[str] = []
    excluded_categories: list[str] = []
    given_at: dt.datetime | None = None
    representative_name: str = Field("", max_length=200)
    representative_relation: str = Field("", max_length=100)
    valid_until: dt.date | None = None


class ConsentWithdrawIn(Schema):
    note: str = ""


class OfferIn(Schema):
    person_id: int
    answer: str
    answered_by: str = "person"
    case_id: int | None = None
    note: str = ""


class CareRequestIn(Schema):
    person_id: int
    to_unit: str
    reason: str
    health_summary: str
    requested_efforts: list[str]
    medication_responsibility: str
    start_on: dt.date
    contact_name: str
    contact_phone: str
    efforts_detail: str = ""
    sip_id: int | None = None


class AnswerIn(Schema):
    answer: str
    reason: str = ""
    text: str = ""


class TextIn(Schema):
    text: str = ""


# --- reading ------------------------------------------------------------------------------------------------


@router.get("/", summary="Den aktiva enhetens SIP och vårdbegäranden som behöver åtgärd (loggas)")
def inbox(request: AuthedRequest) -> list[dict[str, Any]]:
    actor = _actor(request)
    if actor.unit is None:
        raise NotFound
    items = selectors.inbox_items(actor.unit)
    log_list_access(actor, {i.person.pk: i.person for i in items}.values(), f"sip-api-lista:{actor.unit.pk}")
    return [
        {
            "kind": i.kind,
            "id": i.pk,
            "state": i.state,
            "label": i.label,
            "rule": i.rule,
            "due_at": i.due_at,
            "person": person_summary(i.person),
        }
        for i in items
    ]


@router.get(
    "/disclosure",
    response=ENVELOPE,
    summary="Får uppgiften lämnas? Den rättsliga grunden eller regeln som hindrar",
)
def disclosure(request: AuthedRequest, person_id: int, to_unit: str, category: str) -> Status[dict[str, Any]]:
    actor = _actor(request)
    person = open_person(actor, person_id, what="samtycke/prövning")
    target = _unit(to_unit)
    if target is None:
        raise DomainError.single("to_unit", "OKAND-ENHET", "Ange den enhet som uppgiften ska lämnas till.")
    if actor.unit is None:  # open_person has already refused an actor without an active unit
        raise NotFound
    try:
        return Status(200, consent_services.decide_disclosure(person, category, target, actor.unit).as_dict())
    except DomainError as exc:
        return Status(exc.status, exc.as_dict())


@router.get("/care-requests/{request_id}", summary="Läs en vårdbegäran (loggas)")
def read_care_request(request: AuthedRequest, request_id: int) -> dict[str, Any]:
    return care_request_out(services.open_care_request(_actor(request), request_id, what="api"))


# GET /{sip_id}/careplan (the SIP as a FHIR CarePlan) is added to this router by the FHIR app, which sits
# above this one: brygga.fhir.careplan.add_careplan_route, called where the API is assembled (brygga.api.api).


# --- writes -------------------------------------------------------------------------------------------------


@router.post("/", response=ENVELOPE, summary="Starta en SIP (upptäck behov)")
def start(request: AuthedRequest, payload: SipIn) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        person = open_person(actor, payload.person_id, what="sip/api")
        case = selectors.case_of_person(person, payload.case_id) if payload.case_id else None
        if payload.case_id and case is None:
            raise DomainError.single("case_id", "OKANT-ARENDE", "Ärendet gäller inte personen.")
        sip = services.start_sip(actor, person, need_description=payload.need_description, case=case)
        return 201, {"ok": True, "sip": sip_out(sip)}

    return idempotent(request, "start", payload.dict(), op)


def _on_sip(
    request: AuthedRequest, sip_id: int, scope: str, body: Any, change: Callable[[Actor, Sip], object]
) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        sip = services.open_sip(actor, sip_id, what=f"api/{scope}")
        change(actor, sip)
        return 200, {
            "ok": True,
            "sip": sip_out(selectors.sip_for_answer(sip)),
        }

    return idempotent(request, f"{scope}:{sip_id}", body, op)


@router.post("/{sip_id}/participants", response=ENVELOPE, summary="Lägg till deltagare")
def add_participant(request: AuthedRequest, sip_id: int, payload: ParticipantIn) -> Status[dict[str, Any]]:
    return _on_sip(
        request,
        sip_id,
        "participant",
        payload.dict(),
        lambda a, s: services.add_participant(
            a, s, kind=payload.kind, unit=_unit(payload.unit), name=payload.name, role_text=payload.role_text
        ),
    )


@router.post(
    "/{sip_id}/summons",
    response=ENVELOPE,
    summary="Kalla till SIP-möte (kräver deltagare från båda huvudmännen och samtycke)",
)
def summon(request: AuthedRequest, sip_id: int, payload: SummonsIn) -> Status[dict[str, Any]]:
    return _on_sip(
        request,
        sip_id,
        "summons",
        payload.dict(),
        lambda a, s: services.summon(a, s, meeting_at=payload.meeting_at, location=payload.location),
    )


@router.post("/{sip_id}/meeting", response=ENVELOPE, summary="SIP-mötet har hållits")
def meeting(request: AuthedRequest, sip_id: int, payload: MeetingIn) -> Status[dict[str, Any]]:
    return _on_sip(
        request,
        sip_id,
        "meeting",
        payload.dict(),
        lambda a, s: services.record_meeting(a, s, held_at=payload.held_at, note=payload.note),
    )


@router.put("/{sip_id}/draft", response=ENVELOPE, summary="Spara planens utkast")
def draft(request: AuthedRequest, sip_id: int, payload: DraftIn) -> Status[dict[str, Any]]:
    def change(a: Actor, s: Sip) -> object:
        return services.save_draft(
            a,
            s,
            what_matters=payload.what_matters,
            needs=payload.needs,
            other_efforts=payload.other_efforts,
            overall_responsible_unit=_unit(payload.overall_responsible_unit),
            efforts=[{**e.dict(), "responsible_unit": _unit(e.responsible_unit)} for e in payload.efforts],
            change_reason=payload.change_reason,
        )

    return _on_sip(request, sip_id, "draft", payload.dict(), change)


@router.post("/{sip_id}/establish", response=ENVELOPE, summary="Fastställ planen (R-SIP-4 kontrolleras)")
def establish(request: AuthedRequest, sip_id: int, payload: EstablishIn) -> Status[dict[str, Any]]:
    return _on_sip(
        request,
        sip_id,
        "establish",
        payload.dict(),
        lambda a, s: services.establish(
            a,
            s,
            follow_up_on=payload.follow_up_on,
            follow_up_description=payload.follow_up_description,
            follow_up_unit=_unit(payload.follow_up_unit),
        ),
    )


@router.post(
    "/{sip_id}/follow-ups", response=ENVELOPE, summary="Planera uppföljning (datum i det förflutna nekas)"
)
def follow_up(request: AuthedRequest, sip_id: int, payload: FollowUpIn) -> Status[dict[str, Any]]:
    return _on_sip(
        request,
        sip_id,
        "follow-up",
        payload.dict(),
        lambda a, s: services.add_follow_up(
            a,
            s,
            due_on=payload.due_on,
            description=payload.description,
            responsible_unit=_unit(payload.responsible_unit),
        ),
    )


@router.post("/{sip_id}/close", response=ENVELOPE, summary="Avsluta SIP")
def close(request: AuthedRequest, sip_id: int, payload: CloseIn) -> Status[dict[str, Any]]:
    return _on_sip(
        request,
        sip_id,
        "close",
        payload.dict(),
        lambda a, s: services.close_sip(a, s, reason=payload.reason, text=payload.text),
    )


@router.post(
    "/consents",
    response=ENVELOPE,
    summary="Registrera samtycke (vem, till vilka, vilka uppgifter, vad det inte omfattar)",
)
def record_consent(request: AuthedRequest, payload: ConsentIn) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        person = open_person(actor, payload.person_id, what="samtycke/api")
        consent = consent_services.record_consent(
            actor,
            person,
            given_by=payload.given_by,
            form=payload.form,
            purpose=payload.purpose,
            parties=[_unit(u) for u in payload.parties],  # type: ignore[misc]
            categories=payload.categories,
            exclusions_note=payload.exclusions_note,
            excluded_parties=[_unit(u) for u in payload.excluded_parties],  # type: ignore[misc]
            excluded_categories=payload.excluded_categories,
            given_at=payload.given_at,
            representative_name=payload.representative_name,
            representative_relation=payload.representative_relation,
            valid_until=payload.valid_until,
        )
        return 201, {"ok": True, "consent_id": consent.pk}

    return idempotent(request, "consent", payload.dict(), op)


@router.post("/consents/{consent_id}/withdraw", response=ENVELOPE, summary="Återkalla samtycke")
def withdraw(request: AuthedRequest, consent_id: int, payload: ConsentWithdrawIn) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        consent = consent_services.consent_by_id(consent_id)
        if consent is None:
            raise NotFound
        consent_services.withdraw_consent(actor, consent, note=payload.note)
        return 200, {"ok": True, "consent_id": consent.pk, "withdrawn_at": timezone.now()}

    return idempotent(request, f"withdraw:{consent_id}", payload.dict(), op)


@router.post(
    "/offers", response=ENVELOPE, summary="Registrera erbjudande om SIP och personens svar (R-SIP-K-2)"
)
def offer(request: AuthedRequest, payload: OfferIn) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        person = open_person(actor, payload.person_id, what="sip-erbjudande/api")
        case = selectors.case_of_person(person, payload.case_id) if payload.case_id else None
        found = services.record_sip_offer(
            actor,
            person,
            answer=payload.answer,
            answered_by=payload.answered_by,
            case=case,
            note=payload.note,
        )
        return 201, {"ok": True, "offer_id": found.pk, "answer": found.answer}

    return idempotent(request, "offer", payload.dict(), op)


@router.post(
    "/care-requests", response=ENVELOPE, summary="Skicka vårdbegäran till kommunal hälso- och sjukvård"
)
def send_care_request(request: AuthedRequest, payload: CareRequestIn) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        person = open_person(actor, payload.person_id, what="vårdbegäran/api")
        sip = selectors.sip_of_person(person, payload.sip_id) if payload.sip_id else None
        cr = services.send_care_request(
            actor,
            person,
            to_unit=_unit(payload.to_unit),
            reason=payload.reason,
            health_summary=payload.health_summary,
            requested_efforts=payload.requested_efforts,
            medication_responsibility=payload.medication_responsibility,
            start_on=payload.start_on,
            contact_name=payload.contact_name,
            contact_phone=payload.contact_phone,
            efforts_detail=payload.efforts_detail,
            sip=sip,
        )
        return 201, {"ok": True, "care_request": care_request_out(cr)}

    return idempotent(request, "care-request", payload.dict(), op)


def _on_request(
    request: AuthedRequest,
    request_id: int,
    scope: str,
    body: Any,
    change: Callable[[Actor, CareRequest], object],
) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        cr = services.open_care_request(actor, request_id, what=f"api/{scope}")
        change(actor, cr)
        cr.refresh_from_db()
        return 200, {"ok": True, "care_request": care_request_out(cr)}

    return idempotent(request, f"{scope}:{request_id}", body, op)


@router.post(
    "/care-requests/{request_id}/answer",
    response=ENVELOPE,
    summary="Svara: accepted, declined (med skäl) eller needs_info",
)
def answer(request: AuthedRequest, request_id: int, payload: AnswerIn) -> Status[dict[str, Any]]:
    return _on_request(
        request,
        request_id,
        "answer",
        payload.dict(),
        lambda a, cr: services.answer_care_request(
            a, cr, answer=payload.answer, reason=payload.reason, text=payload.text
        ),
    )


@router.post("/care-requests/{request_id}/supplement", response=ENVELOPE, summary="Komplettera efter fråga")
def supplement(request: AuthedRequest, request_id: int, payload: TextIn) -> Status[dict[str, Any]]:
    return _on_request(
        request,
        request_id,
        "supplement",
        payload.dict(),
        lambda a, cr: services.supplement_care_request(a, cr, text=payload.text),
    )


# --- messages (the generic threads, brygga.messaging.services) --------------------------------------------


def _subject(actor: Actor, kind: str, pk: int, what: str) -> messaging.Subject:
    if kind == "sip":
        return messaging.subject_for(services.open_sip(actor, pk, what=what))
    return messaging.subject_for(services.open_care_request(actor, pk, what=what))


def _on_message(
    request: AuthedRequest,
    kind: str,
    pk: int,
    scope: str,
    body: Any,
    change: Callable[[Actor, messaging.Subject], dict[str, Any]],
) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        subject = _subject(actor, kind, pk, f"api/{scope}")
        return (200 if scope == "pin" else 201), {"ok": True, "message": change(actor, subject)}

    return idempotent(request, f"{kind}:{scope}:{pk}", body, op)


def _message_routes(prefix: str, kind: str, label: str) -> None:
    """GET and POST {prefix}/messages, POST {prefix}/messages/{message_id}/forward|pin for one subject."""

    def list_messages(request: AuthedRequest, pk: int) -> list[dict[str, Any]]:
        actor = _actor(request)
        return messages_api.list_messages(actor, _subject(actor, kind, pk, "api/meddelanden"))

    def send_message(
        request: AuthedRequest, pk: int, payload: messages_api.MessageIn
    ) -> Status[dict[str, Any]]:
        return _on_message(
            request,
            kind,
            pk,
            "message",
            messages_api.body_of(payload),
            lambda a, s: messages_api.send(a, s, payload),
        )

    def forward_message(
        request: AuthedRequest, pk: int, message_id: int, payload: messages_api.ForwardIn
    ) -> Status[dict[str, Any]]:
        return _on_message(
            request,
            kind,
            pk,
            f"forward:{message_id}",
            messages_api.body_of(payload),
            lambda a, s: messages_api.forward(a, s, message_id, payload),
        )

    def pin_message(
        request: AuthedRequest, pk: int, message_id: int, payload: messages_api.PinIn
    ) -> Status[dict[str, Any]]:
        return _on_message(
            request,
            kind,
            pk,
            "pin",
            {"message": message_id, **payload.dict()},
            lambda a, s: messages_api.pin(a, s, message_id, payload),
        )

    for view in (list_messages, send_message, forward_message, pin_message):
        view.__name__ = f"{kind}_{view.__name__}"  # unique OpenAPI operation ids
    router.get(f"{prefix}/messages", response=list[dict[str, Any]], summary=f"{label}: meddelanden (loggas)")(
        list_messages
    )
    router.post(
        f"{prefix}/messages",
        response=ENVELOPE,
        summary=f"{label}: skicka ett meddelande; rättslig grund per mottagare (R-SEK-2)",
    )(send_message)
    router.post(
        f"{prefix}/messages/{{message_id}}/forward", response=ENVELOPE, summary=f"{label}: vidaresänd"
    )(forward_message)
    router.post(
        f"{prefix}/messages/{{message_id}}/pin", response=ENVELOPE, summary=f"{label}: fäst eller lossa"
    )(pin_message)


_message_routes("/{pk}", "sip", "SIP")
_message_routes("/care-requests/{pk}", "care_request", "Vårdbegäran")


# Registered last on purpose: Django matches URL patterns in order and ``{sip_id}`` matches any single path
# segment, so a GET /{sip_id} registered earlier answered 405 for POST /consents, /offers and /care-requests.
@router.get("/{sip_id}", summary="Läs en SIP (kräver att enheten deltar; loggas)")
def read_sip(request: AuthedRequest, sip_id: int) -> dict[str, Any]:
    return sip_out(services.open_sip(_actor(request), sip_id, what="api"))
