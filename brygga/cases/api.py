"""The integration API for hospital EHRs and robots: create and update cases, send notices, change the
expected date, mark discharge-ready, discharge — so nurses stop retyping what the EHR already has.

Every write answers with a machine acknowledgement in MedCom's terms (``ok``, ``transient-error``: retry,
``fatal-error``: do not retry, fix the message). A write with an ``Idempotency-Key`` header is stored with its
answer: a retry with the same key and body gets the stored answer and changes nothing; the same key with a
different body is refused. ``POST /cases/batch`` runs many operations, each in its own transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Literal

from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from brygga.access.services import lookup_person
from brygga.accounts.context import Actor, AuthedRequest
from brygga.cases import ingest, selectors, services
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.core.errors import DomainError, NotFound
from brygga.core.idempotency import KEY_CONFLICT, AnswerShape, idempotency_key, run_idempotent
from brygga.core.paging import set_paging_headers
from brygga.messaging import api as messages_api
from brygga.messaging import services as messaging
from brygga.people.presenters import person_summary

router = Router(tags=["In- och utskrivning"])

MAX_BATCH = 500


# --- schemas ------------------------------------------------------------------------------------------------


class ProblemOut(Schema):
    field: str
    rule: str
    message: str


class AckOut(Schema):
    code: Literal["ok", "transient-error", "fatal-error"] = Field(
        description="MedCom: ok; transient-error (försök igen); fatal-error (rätta, försök inte igen)"
    )
    message_id: str = Field(description="Idempotency-Key om den skickades, annars ett nytt id")
    replayed: bool = Field(False, description="Sant när svaret är det sparade svaret på ett tidigare anrop")
    problems: list[ProblemOut] = []


class ParticipantOut(Schema):
    hsa_id: str
    name: str
    role: str
    status: str
    acknowledged_at: dt.datetime | None


class CaseOut(Schema):
    id: int
    external_id: str
    status: str
    person: dict[str, Any]
    ward_hsa_id: str
    site: str
    municipality_code: str | None
    care_type: str
    admitted_at: dt.datetime
    need_assessed_at: dt.datetime | None
    notice_sent_at: dt.datetime | None
    notice_due_at: dt.datetime | None
    notice_late: bool
    expected_discharge_date: dt.date | None
    discharge_ready_at: dt.datetime | None
    sip_needed: bool
    sip_summons_due_at: dt.datetime | None
    sip_summons_sent_at: dt.datetime | None
    coordinator_name: str
    discharge_info_sent_at: dt.datetime | None
    discharged_at: dt.datetime | None
    closed_at: dt.datetime | None
    participants: list[ParticipantOut]


class Envelope(Schema):
    acknowledgement: AckOut
    case: CaseOut | None = None


class EventOut(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    unit_hsa_id: str
    data: dict[str, Any]


class CaseIn(Schema):
    identifier: str = Field(description="Personnummer, samordningsnummer eller reservnummer")
    admitted_at: dt.datetime
    care_type: Literal["somatic", "psychiatric"]
    expected_discharge_date: dt.date | None = None
    need_assessed_at: dt.datetime | None = Field(
        None, description="När läkaren bedömde att insatser kan behövas (R-INS-1); startar 24-timmarsfristen"
    )
    external_id: str = Field("", max_length=64, description="Vårdtillfällets id i journalsystemet")
    send_notice: bool = Field(False, description="Skicka inskrivningsmeddelandet direkt (R-INS-2)")
    recipients: list[str] | None = Field(
        None, description="HSA-id; utelämnas för adressering från folkbokföring"
    )


class NoticeIn(Schema):
    recipients: list[str] | None = None
    assessed_at: dt.datetime | None = None


class ExpectedDateIn(Schema):
    expected_discharge_date: dt.date
    reason: str
    comment: str = Field("", max_length=500)


class DischargeReadyIn(Schema):
    at: dt.datetime | None = None


class DischargeReadyWithdrawIn(Schema):
    reason: str = Field(max_length=500)


class DischargeInfoIn(Schema):
    summary_given: bool = False
    at: dt.datetime | None = None


class DischargeIn(Schema):
    discharged_at: dt.datetime | None = None
    destination: str = Field("", max_length=200)


class TransferIn(Schema):
    to_ward: str = Field(description="Den nya avdelningens HSA-id")
    at: dt.datetime | None = None


class LeaveIn(Schema):
    at: dt.datetime | None = None
    expected_return: dt.date | None = None


class LeaveEndIn(Schema):
    at: dt.datetime | None = None


class DeathIn(Schema):
    died_at: dt.datetime


class CancelNoticeIn(Schema):
    target_event: int = Field(
        description="Händelsen (inskrivnings- eller utskrivningsmeddelandet) som annulleras"
    )
    reason: str
    text: str = Field("", max_length=500)


class CorrectNoticeIn(Schema):
    target_event: int = Field(description="Händelsen vars tid rättas (inskrivning eller utskrivning)")
    new_time: dt.datetime
    reason: str = Field(max_length=500)


class BatchItem(Schema):
    op: Literal[
        "create",
        "admission_notice",
        "expected_date",
        "discharge_ready",
        "discharge_info",
        "discharge",
        "transfer",
        "leave_start",
        "leave_end",
        "death",
        "cancel_notice",
        "correct_notice",
    ]
    case_id: int | None = None
    external_id: str | None = Field(None, description="Alternativ till case_id: avdelningens externa id")
    idempotency_key: str | None = None
    payload: dict[str, Any] = {}


class BatchIn(Schema):
    items: list[BatchItem] = Field(..., max_length=MAX_BATCH)


class BatchItemOut(Schema):
    index: int
    status: int
    acknowledgement: AckOut
    case: CaseOut | None = None


class BatchOut(Schema):
    acknowledgement: AckOut
    items: list[BatchItemOut]


ENVELOPE = {code: Envelope for code in (200, 201, 400, 403, 404, 409, 422, 503)}


# --- presenting ---------------------------------------------------------------------------------------------


def case_out(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "external_id": case.external_id,
        "status": case.status,
        "person": person_summary(case.person),
        "ward_hsa_id": case.ward.hsa_id,
        "site": case.site.name,
        "municipality_code": case.municipality.scb_code if case.municipality else None,
        "care_type": case.care_type,
        "admitted_at": case.admitted_at,
        "need_assessed_at": case.need_assessed_at,
        "notice_sent_at": case.notice_sent_at,
        "notice_due_at": case.notice_due_at,
        "notice_late": case.notice_late,
        "expected_discharge_date": case.expected_discharge_date,
        "discharge_ready_at": case.discharge_ready_at,
        "sip_needed": case.sip_needed,
        "sip_summons_due_at": case.sip_summons_due_at,
        "sip_summons_sent_at": case.sip_summons_sent_at,
        "coordinator_name": case.coordinator_name,
        "discharge_info_sent_at": case.discharge_info_sent_at,
        "discharged_at": case.discharged_at,
        "closed_at": case.closed_at,
        "participants": [
            {
                "hsa_id": p.unit.hsa_id,
                "name": p.unit.name,
                "role": p.role,
                "status": p.status,
                "acknowledged_at": p.acknowledged_at,
            }
            for p in sorted(case.participants.all(), key=lambda p: p.pk)
        ],
    }


def _ack(code: str, message_id: str, problems: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message_id": message_id, "replayed": False, "problems": problems or []}


# --- idempotent execution -----------------------------------------------------------------------------------

Operation = Callable[[], tuple[int, Case]]


def _shape(message_id: str) -> AnswerShape:
    """The cases API's words for refusals and replays: everything inside a MedCom acknowledgement."""

    def refused(exc: DomainError) -> tuple[int, dict[str, Any]]:
        problems = [p.as_dict() for p in exc.problems]
        return exc.status, {"acknowledgement": _ack("fatal-error", message_id, problems)}

    def not_found() -> tuple[int, dict[str, Any]]:
        problem = {"field": "case_id", "rule": "OKAND-ARENDE", "message": "Ärendet finns inte."}
        return 404, {"acknowledgement": _ack("fatal-error", message_id, [problem])}

    def key_conflict() -> tuple[int, dict[str, Any]]:
        return 422, {"acknowledgement": _ack("fatal-error", message_id, [dict(KEY_CONFLICT)])}

    def replayed(body: dict[str, Any]) -> dict[str, Any]:
        body["acknowledgement"] = {**body["acknowledgement"], "replayed": True}
        return body

    def transient() -> tuple[int, dict[str, Any]]:
        return 503, {"acknowledgement": _ack("transient-error", message_id, [_transient()])}

    return AnswerShape(refused, not_found, key_conflict, replayed, transient)


def execute_answer(
    actor: Actor, key: str | None, scope: str, body: Any, operation: Callable[[], tuple[int, dict[str, Any]]]
) -> tuple[int, dict[str, Any]]:
    """Run one write whose success answer the operation builds itself (it gets the acknowledgement added)."""
    message_id = key or str(uuid.uuid4())

    def run() -> tuple[int, dict[str, Any]]:
        status, answer = operation()
        return status, {"acknowledgement": _ack("ok", message_id), **answer}

    return run_idempotent(actor, key, scope, body, run, _shape(message_id))


def execute(
    actor: Actor, key: str | None, scope: str, body: Any, operation: Operation
) -> tuple[int, dict[str, Any]]:
    """Run one write with its machine acknowledgement; with a key, at most once (answer stored with it)."""

    def run() -> tuple[int, dict[str, Any]]:
        status, case = operation()
        return status, {"case": case_out(case)}

    return execute_answer(actor, key, scope, body, run)


def _transient() -> dict[str, str]:
    return {
        "field": "",
        "rule": "TILLFALLIGT-FEL",
        "message": "Tillfälligt fel; försök igen med samma nyckel.",
    }


def _key(request: HttpRequest) -> str | None:
    return idempotency_key(request)


def _respond(result: tuple[int, dict[str, Any]]) -> Status[dict[str, Any]]:
    return Status(result[0], result[1])


def _actor(request: AuthedRequest) -> Actor:
    return request.actor


# --- operations (shared by the single endpoints and the batch) ----------------------------------------------


def _find_case(actor: Actor, case_id: int | None, external_id: str | None) -> Case:
    if case_id is None and external_id and actor.unit is not None:
        case_id = selectors.case_id_by_external_id(actor.unit, external_id)
    if case_id is None:
        raise NotFound
    return services.open_case(actor, case_id)


def _fresh_many(pks: list[int]) -> list[Case]:
    """The cases as written, with everything ``case_out`` shows, in two statements (no N+1)."""
    return selectors.cases_for_answer(pks)


def _fresh(pk: int) -> Case:
    found = _fresh_many([pk])
    if not found:
        raise Case.DoesNotExist
    return found[0]


def _op_create(actor: Actor, data: CaseIn) -> tuple[int, Case]:
    with services.inbox_in_step_once():
        return _admit(actor, data)


def _admit(actor: Actor, data: CaseIn) -> tuple[int, Case]:
    person = lookup_person(actor, data.identifier)
    case = services.admit(
        actor,
        person,
        admitted_at=data.admitted_at,
        care_type=data.care_type,
        expected_discharge_date=data.expected_discharge_date,
        need_assessed_at=data.need_assessed_at,
        external_id=data.external_id,
    )
    if data.send_notice:
        services.send_admission_notice(actor, case, recipients=data.recipients)
    return 201, _fresh(case.pk)


def _op_notice(actor: Actor, case: Case, data: NoticeIn) -> tuple[int, Case]:
    services.send_admission_notice(actor, case, recipients=data.recipients, assessed_at=data.assessed_at)
    return 200, _fresh(case.pk)


def _op_expected_date(actor: Actor, case: Case, data: ExpectedDateIn) -> tuple[int, Case]:
    services.change_expected_date(actor, case, data.expected_discharge_date, data.reason, data.comment)
    return 200, _fresh(case.pk)


def _op_discharge_ready(actor: Actor, case: Case, data: DischargeReadyIn) -> tuple[int, Case]:
    services.set_discharge_ready(actor, case, data.at)
    return 200, _fresh(case.pk)


def _op_discharge_info(actor: Actor, case: Case, data: DischargeInfoIn) -> tuple[int, Case]:
    services.send_discharge_info(actor, case, summary_given=data.summary_given, at=data.at)
    return 200, _fresh(case.pk)


def _op_discharge(actor: Actor, case: Case, data: DischargeIn) -> tuple[int, Case]:
    services.discharge(actor, case, data.discharged_at, data.destination)
    return 200, _fresh(case.pk)


def _op_transfer(actor: Actor, case: Case, data: TransferIn) -> tuple[int, Case]:
    services.transfer(actor, case, data.to_ward, data.at)
    return 200, _fresh(case.pk)


def _op_leave_start(actor: Actor, case: Case, data: LeaveIn) -> tuple[int, Case]:
    services.start_leave(actor, case, data.at, data.expected_return)
    return 200, _fresh(case.pk)


def _op_leave_end(actor: Actor, case: Case, data: LeaveEndIn) -> tuple[int, Case]:
    services.end_leave(actor, case, data.at)
    return 200, _fresh(case.pk)


def _op_death(actor: Actor, case: Case, data: DeathIn) -> tuple[int, Case]:
    services.record_death(actor, case, data.died_at)
    return 200, _fresh(case.pk)


def _op_cancel_notice(actor: Actor, case: Case, data: CancelNoticeIn) -> tuple[int, Case]:
    services.cancel_notice(actor, case, data.target_event, data.reason, data.text)
    return 200, _fresh(case.pk)


def _op_correct_notice(actor: Actor, case: Case, data: CorrectNoticeIn) -> tuple[int, Case]:
    services.correct_notice(actor, case, data.target_event, data.new_time, data.reason)
    return 200, _fresh(case.pk)


CASE_OPS: dict[str, tuple[type[Schema], Callable[[Actor, Case, Any], tuple[int, Case]]]] = {
    "admission_notice": (NoticeIn, _op_notice),
    "expected_date": (ExpectedDateIn, _op_expected_date),
    "discharge_ready": (DischargeReadyIn, _op_discharge_ready),
    "discharge_info": (DischargeInfoIn, _op_discharge_info),
    "discharge": (DischargeIn, _op_discharge),
    "transfer": (TransferIn, _op_transfer),
    "leave_start": (LeaveIn, _op_leave_start),
    "leave_end": (LeaveEndIn, _op_leave_end),
    "death": (DeathIn, _op_death),
    "cancel_notice": (CancelNoticeIn, _op_cancel_notice),
    "correct_notice": (CorrectNoticeIn, _op_correct_notice),
}


def _on_case(request: AuthedRequest, case_id: int, scope: str, payload: Schema) -> Status[dict[str, Any]]:
    actor = _actor(request)
    _schema, op = CASE_OPS[scope]
    return _respond(
        execute(
            actor,
            _key(request),
            f"{scope}:{case_id}",
            payload.dict(),
            lambda: op(actor, services.open_case(actor, case_id, what="api"), payload),
        )
    )


# --- endpoints ----------------------------------------------------------------------------------------------


@router.get(
    "/",
    response=list[CaseOut],
    summary="Den aktiva enhetens ärenden (inkorgen, det brådskande först; sidindelad; loggas)",
    description=(
        "Sidindelad: `page` (från 1) och `page_size` (högst 200, standard 50). Svaret har rubrikerna "
        "`X-Total-Count` och `X-Page-Count`, och `Link` med `rel=next`/`rel=prev` när det finns fler sidor."
    ),
)
def list_cases(
    request: AuthedRequest,
    response: HttpResponse,
    status: str = "open",
    q: str = "",
    page: int = 1,
    page_size: int = selectors.PAGE_SIZE,
) -> list[dict[str, Any]]:
    found = selectors.case_page(
        _actor(request), status=status, q=q, page=page, per_page=max(1, min(page_size, 200))
    )
    set_paging_headers(request, response, found)
    cases = list(found.object_list)
    prefetch_related_objects(
        cases, Prefetch("participants", queryset=Participant.objects.select_related("unit"))
    )
    return [case_out(c) for c in cases]


@router.post(
    "/", response=ENVELOPE, summary="Skapa ärende vid inskrivning (valfritt med inskrivningsmeddelande)"
)
def create_case(request: AuthedRequest, payload: CaseIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    return _respond(
        execute(actor, _key(request), "create", payload.dict(), lambda: _op_create(actor, payload))
    )


@router.post(
    "/batch", response=BatchOut, summary="Flera operationer; var och en i egen transaktion med egen kvittens"
)
def batch(request: AuthedRequest, payload: BatchIn) -> dict[str, Any]:
    actor = _actor(request)
    batch_key = _key(request)
    answers: dict[int, tuple[int, dict[str, Any]]] = {}
    run: list[ingest.Item] = []  # consecutive ``create`` items: admitted set-based (brygga.cases.ingest)
    for index, item in enumerate(payload.items):
        key = item.idempotency_key or (f"{batch_key}:{index}" if batch_key else None)
        data = _create_in(item) if item.op == "create" else None
        if data is not None:
            run.append(ingest.Item(index, key, data, data.dict()))
            continue
        answers.update(_admit_run(actor, run))
        run = []
        answers[index] = _batch_item(actor, key, item)
    answers.update(_admit_run(actor, run))
    items = [
        {"index": index, "status": status, **answer} for index, (status, answer) in sorted(answers.items())
    ]
    failed = [i for i in items if i["acknowledgement"]["code"] != "ok"]
    code = (
        "ok"
        if not failed
        else (
            "transient-error"
            if all(i["acknowledgement"]["code"] == "transient-error" for i in failed)
            else "fatal-error"
        )
    )
    problems = [
        {"field": f"items.{i['index']}", "rule": "BATCH", "message": "Operationen kvitterades inte med ok."}
        for i in failed
    ]
    return {"acknowledgement": _ack(code, batch_key or str(uuid.uuid4()), problems), "items": items}


@router.get("/{case_id}", response=CaseOut, summary="Läs ett ärende (kräver medverkan; loggas)")
def read_case(request: AuthedRequest, case_id: int) -> dict[str, Any]:
    return case_out(services.open_case(_actor(request), case_id, what="api"))


@router.get("/{case_id}/events", response=list[EventOut], summary="Ärendets händelser (loggas)")
def case_events(request: AuthedRequest, case_id: int) -> list[dict[str, Any]]:
    case = services.open_case(_actor(request), case_id, what="api/events")
    return [
        {
            "id": e.pk,
            "kind": e.kind,
            "occurred_at": e.occurred_at,
            "recorded_at": e.recorded_at,
            "unit_hsa_id": e.unit.hsa_id,
            "data": e.data,
        }
        for e in CaseEvent.objects.filter(case=case).select_related("unit").order_by("occurred_at", "id")
    ]


@router.post(
    "/{case_id}/admission-notice", response=ENVELOPE, summary="Skicka inskrivningsmeddelande (R-INS-1..4)"
)
def admission_notice(request: AuthedRequest, case_id: int, payload: NoticeIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "admission_notice", payload)


@router.post(
    "/{case_id}/expected-date", response=ENVELOPE, summary="Ändra beräknat utskrivningsdatum (R-INS-5)"
)
def expected_date(request: AuthedRequest, case_id: int, payload: ExpectedDateIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "expected_date", payload)


@router.post("/{case_id}/discharge-ready", response=ENVELOPE, summary="Utskrivningsklar (läkare; R-DEF-UK-1)")
def discharge_ready(
    request: AuthedRequest, case_id: int, payload: DischargeReadyIn
) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "discharge_ready", payload)


@router.post(
    "/{case_id}/discharge-ready/withdraw", response=ENVELOPE, summary="Återta utskrivningsklar (R-UK-2)"
)
def withdraw_discharge_ready(
    request: AuthedRequest, case_id: int, payload: DischargeReadyWithdrawIn
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    return _respond(
        execute(
            actor,
            _key(request),
            f"withdraw:{case_id}",
            payload.dict(),
            lambda: _withdraw(actor, case_id, payload.reason),
        )
    )


def _withdraw(actor: Actor, case_id: int, reason: str) -> tuple[int, Case]:
    case = services.open_case(actor, case_id, what="api")
    services.withdraw_discharge_ready(actor, case, reason)
    return 200, _fresh(case.pk)


@router.post(
    "/{case_id}/discharge-info", response=ENVELOPE, summary="Information vid utskrivning (R-UTS-1, R-UTS-2)"
)
def discharge_info(request: AuthedRequest, case_id: int, payload: DischargeInfoIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "discharge_info", payload)


@router.post("/{case_id}/discharge", response=ENVELOPE, summary="Utskrivning och utskrivningsmeddelande")
def discharge(request: AuthedRequest, case_id: int, payload: DischargeIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "discharge", payload)


@router.post(
    "/{case_id}/transfer", response=ENVELOPE, summary="Omflyttning till annan avdelning eller sjukhus"
)
def transfer(request: AuthedRequest, case_id: int, payload: TransferIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "transfer", payload)


@router.post("/{case_id}/leave", response=ENVELOPE, summary="Permission påbörjad")
def leave_start(request: AuthedRequest, case_id: int, payload: LeaveIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "leave_start", payload)


@router.post("/{case_id}/leave/end", response=ENVELOPE, summary="Permission avslutad")
def leave_end(request: AuthedRequest, case_id: int, payload: LeaveEndIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "leave_end", payload)


@router.post("/{case_id}/death", response=ENVELOPE, summary="Dödsfall under vårdtiden")
def death(request: AuthedRequest, case_id: int, payload: DeathIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "death", payload)


@router.post("/{case_id}/notices/cancel", response=ENVELOPE, summary="Annullera ett skickat meddelande (AN_)")
def cancel_notice(request: AuthedRequest, case_id: int, payload: CancelNoticeIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "cancel_notice", payload)


@router.post(
    "/{case_id}/notices/correct", response=ENVELOPE, summary="Rätta tiden i ett skickat meddelande (RE_)"
)
def correct_notice(request: AuthedRequest, case_id: int, payload: CorrectNoticeIn) -> Status[dict[str, Any]]:
    return _on_case(request, case_id, "correct_notice", payload)


@router.post("/{case_id}/acknowledge", response=ENVELOPE, summary="Kvittera ärendet för den aktiva enheten")
def acknowledge(request: AuthedRequest, case_id: int) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, Case]:
        case = services.open_case(actor, case_id, what="api")
        services.acknowledge(actor, case)
        return 200, case

    return _respond(execute(actor, _key(request), f"acknowledge:{case_id}", {}, op))


def _create_in(item: BatchItem) -> CaseIn | None:
    from pydantic import ValidationError

    try:
        return CaseIn(**item.payload)
    except ValidationError:
        return None  # answered by _batch_item with the schema problems


def _admit_run(actor: Actor, run: list[ingest.Item]) -> dict[int, tuple[int, dict[str, Any]]]:
    """A run of valid ``create`` items: validated each, written together (brygga.cases.ingest)."""
    ids = {i.index: i.key or str(uuid.uuid4()) for i in run}
    return ingest.admit_many(
        actor,
        run,
        shape=_shape,
        message_id=lambda i: ids[i.index],
        answer_ok=lambda message_id, case: {
            "acknowledgement": _ack("ok", message_id),
            "case": case_out(case),
        },
        one_by_one=lambda i: execute(actor, i.key, "create", i.body, lambda: _op_create(actor, i.data)),
        fetch=_fresh_many,
    )


def _batch_item(actor: Actor, key: str | None, item: BatchItem) -> tuple[int, dict[str, Any]]:
    from pydantic import ValidationError

    body = {"op": item.op, "case_id": item.case_id, "external_id": item.external_id, "payload": item.payload}
    try:
        if item.op == "create":
            data = CaseIn(**item.payload)
            return execute(actor, key, "create", data.dict(), lambda: _op_create(actor, data))
        schema, op = CASE_OPS[item.op]
        parsed = schema(**item.payload)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]), "rule": f"SCHEMA-{e['type']}", "message": e["msg"]}
            for e in exc.errors()
        ]
        return 422, {"acknowledgement": _ack("fatal-error", key or str(uuid.uuid4()), problems)}
    return execute(
        actor,
        key,
        f"{item.op}:{item.case_id or item.external_id}",
        body,
        lambda: op(actor, _find_case(actor, item.case_id, item.external_id), parsed),
    )


# --- messages (the generic threads, brygga.messaging.services) --------------------------------------------

MESSAGE_ENVELOPE: dict[int, Any] = {code: dict[str, Any] for code in (200, 201, 400, 403, 404, 409, 422, 503)}


@router.get("/{case_id}/messages", response=list[dict[str, Any]], summary="Ärendets meddelanden (loggas)")
def case_messages(request: AuthedRequest, case_id: int) -> list[dict[str, Any]]:
    actor = _actor(request)
    case = services.open_case(actor, case_id, what="api/meddelanden")
    return messages_api.list_messages(actor, messaging.subject_for(case))


def _on_case_message(
    request: AuthedRequest,
    case_id: int,
    scope: str,
    body: Any,
    change: Callable[[Actor, Any], dict[str, Any]],
) -> Status[dict[str, Any]]:
    actor = _actor(request)

    def op() -> tuple[int, dict[str, Any]]:
        case = services.open_case(actor, case_id, what=f"api/{scope}")
        return 201 if scope != "pin" else 200, {"message": change(actor, messaging.subject_for(case))}

    return _respond(execute_answer(actor, _key(request), f"{scope}:{case_id}", body, op))


@router.post(
    "/{case_id}/messages",
    response=MESSAGE_ENVELOPE,
    summary="Skicka ett meddelande (ny tråd eller svar); rättslig grund per mottagare (R-SEK-2)",
)
def send_case_message(
    request: AuthedRequest, case_id: int, payload: messages_api.MessageIn
) -> Status[dict[str, Any]]:
    return _on_case_message(
        request,
        case_id,
        "message",
        messages_api.body_of(payload),
        lambda a, s: messages_api.send(a, s, payload),
    )


@router.post("/{case_id}/messages/{message_id}/forward", response=MESSAGE_ENVELOPE, summary="Vidaresänd")
def forward_case_message(
    request: AuthedRequest, case_id: int, message_id: int, payload: messages_api.ForwardIn
) -> Status[dict[str, Any]]:
    return _on_case_message(
        request,
        case_id,
        f"forward:{message_id}",
        messages_api.body_of(payload),
        lambda a, s: messages_api.forward(a, s, message_id, payload),
    )


@router.post("/{case_id}/messages/{message_id}/pin", response=MESSAGE_ENVELOPE, summary="Fäst eller lossa")
def pin_case_message(
    request: AuthedRequest, case_id: int, message_id: int, payload: messages_api.PinIn
) -> Status[dict[str, Any]]:
    return _on_case_message(
        request,
        case_id,
        "pin",
        {"message": message_id, **payload.dict()},
        lambda a, s: messages_api.pin(a, s, message_id, payload),
    )
