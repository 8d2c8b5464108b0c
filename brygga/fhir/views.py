"""The FHIR R4 REST endpoint, /fhir/r4/ (docs/fhir.md). Thin: each view opens what it needs through the
checked paths (``open_case``, ``open_person``, ``unit_cases``), maps with ``mapping`` and writes through
``writes`` (the cases services). Another unit's resource is 404 — and the attempt is in the access log."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from brygga.access.models import AccessLogEntry
from brygga.access.services import (
    log_access,
    log_extract,
    log_list_access,
    open_person,
    person_by_identifier,
    person_by_reference,
    visible_persons,
)
from brygga.accounts.context import AuthedRequest
from brygga.accounts.permissions import Perm
from brygga.cases import selectors as case_selectors
from brygga.cases import services
from brygga.cases.models import Case, CaseEvent, Meeting
from brygga.consent.services import consents_for_answer
from brygga.core.errors import NotFound
from brygga.documents.models import Attachment
from brygga.fhir import audit, capability, communication, consent, mapping, systems, writes
from brygga.fhir.careplan import careplan
from brygga.fhir.http import actor_of, fhir_response, fhir_view, run_write
from brygga.fhir.outcome import FhirError
from brygga.fhir.validation import read_body, validate
from brygga.messaging import services as messaging
from brygga.organisations.models import Unit
from brygga.people.models import Person
from brygga.sip.services import open_sip

MAX_COUNT = 200
DEFAULT_COUNT = 50


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/r4/").rstrip("/")


def searchset(
    request: HttpRequest, resources: list[dict[str, Any]], total: int | None = None
) -> HttpResponse:
    base = base_url(request)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources) if total is None else total,
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [
            {
                **({"fullUrl": f"{base}/{r['resourceType']}/{r['id']}"} if r.get("id") else {}),
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
    if not bundle["entry"]:
        del bundle["entry"]
    return fhir_response(bundle)


def _count(request: HttpRequest) -> tuple[int, int]:
    try:
        count = int(request.GET.get("_count", DEFAULT_COUNT))
        offset = int(request.GET.get("_offset", 0))
    except ValueError as exc:
        raise FhirError.single(400, "FHIR-SOK", "_count och _offset är heltal.", "", "invalid") from exc
    return max(0, min(count, MAX_COUNT)), max(0, offset)


def _token_param(value: str) -> tuple[str, str]:
    system, bar, code = value.rpartition("|")
    return (system if bar else ""), code


def _open_case(request: AuthedRequest, pk: str, what: str) -> Case:
    """The case through the one checked path. A refusal is 404, and the access log's middleware writes the
    DENIED entry for it (ADR 0801), as for every other page and API."""
    return services.open_case(actor_of(request), pk, what=what)


# --- metadata -----------------------------------------------------------------------------------------------


@fhir_view(("GET",), public=True)
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability.capability_statement(base_url(request)))


# --- Patient ------------------------------------------------------------------------------------------------


@fhir_view(("GET",))
def patient_read(request: AuthedRequest, pk: str) -> HttpResponse:
    actor = actor_of(request)
    person = open_person(actor, pk, what=f"fhir:Patient/{pk}")
    return fhir_response(mapping.patient(person, actor.can(Perm.PERSON_REVEAL_PROTECTED)))


@fhir_view(("GET",))
def patient_search(request: AuthedRequest) -> HttpResponse:
    """Only the persons the unit is involved with (need-to-know); every match is logged as a list read."""
    actor = actor_of(request)
    persons = visible_persons(actor).select_related("registered_municipality", "listed_unit")
    if "identifier" in request.GET:
        system, value = _token_param(request.GET["identifier"])
        if system and system not in systems.ACCEPTED_PERSON_SYSTEMS:
            persons = persons.none()
        persons = persons.filter(identifier=value.replace("-", "").replace("+", ""))
    elif "_id" in request.GET:
        persons = persons.filter(pk__in=[int(x) for x in request.GET["_id"].split(",") if x.isdecimal()])
    else:
        raise FhirError.single(400, "FHIR-SOK", "Sök på identifier eller _id.", "", "not-supported")
    count, offset = _count(request)
    found = list(persons.order_by("pk")[offset : offset + count])
    log_list_access(actor, found, "fhir:Patient?search")
    revealed = actor.can(Perm.PERSON_REVEAL_PROTECTED)
    return searchset(request, [mapping.patient(p, revealed) for p in found])


@fhir_view(("GET", "POST"))
def patient_type(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        raise FhirError.single(
            405,
            "FHIR-METOD",
            "Personer kommer från folkbokföringen; Patient skapas inte här.",
            "",
            "not-supported",
        )
    return patient_search(request)


# --- Organization -------------------------------------------------------------------------------------------


@fhir_view(("GET",))
def organization_read(request: HttpRequest, pk: str) -> HttpResponse:
    unit = Unit.objects.filter(pk=int(pk) if pk.isdecimal() else 0).first()
    if unit is None:
        raise NotFound
    return fhir_response(mapping.organization(unit))


@fhir_view(("GET",))
def organization_search(request: HttpRequest) -> HttpResponse:
    units: QuerySet[Unit] = Unit.objects.all()
    if "identifier" in request.GET:
        _system, value = _token_param(request.GET["identifier"])
        units = units.filter(hsa_id=value)
    if "name" in request.GET:
        units = units.filter(name__icontains=request.GET["name"])
    count, offset = _count(request)
    return searchset(
        request, [mapping.organization(u) for u in units.order_by("pk")[offset : offset + count]]
    )


# --- Encounter ----------------------------------------------------------------------------------------------


def _encounter_answer(case_pk: int, status: int) -> tuple[int, dict[str, Any], dict[str, str]]:
    # The case and its version in one statement (docs/benchmarks.md); the caller opened it.
    case, version = mapping.case_for_answer(case_pk)
    headers = {
        "ETag": mapping.etag(version),
        "Location": f"/fhir/r4/Encounter/{case.pk}/_history/{version.number}",
    }
    return status, mapping.encounter(case, version), headers


@fhir_view(("GET", "POST"))
def encounter_type(request: AuthedRequest) -> HttpResponse:
    if request.method == "GET":
        return encounter_search(request)
    actor = actor_of(request)
    resource = read_body(request, "Encounter")
    # The FHIR header, or the search in the query string (what fhirpy's ``create(identifier=…)`` sends).
    condition = request.headers.get("If-None-Exist", "").strip() or (
        f"identifier={request.GET['identifier']}" if "identifier" in request.GET else ""
    )

    def write() -> tuple[int, dict[str, Any], dict[str, str]]:
        if condition:
            existing = writes.find_by_identifier(actor, condition)
            if len(existing) > 1:
                raise FhirError.single(
                    412, "FHIR-VILLKOR", "Villkoret träffar flera vårdtillfällen.", "If-None-Exist"
                )
            if existing:
                services.open_case(actor, existing[0].pk, what="fhir:villkorlig")
                return _encounter_answer(existing[0].pk, 200)
        case = writes.create_encounter(actor, resource)
        return _encounter_answer(case.pk, 201)

    return run_write(
        request, "fhir:Encounter:create", {"resource": resource, "if_none_exist": condition}, write
    )


def encounter_search(request: AuthedRequest) -> HttpResponse:
    actor = actor_of(request)
    cases = services.unit_cases(actor.unit).select_related("ward", "person").distinct()
    if "identifier" in request.GET:
        _system, value = _token_param(request.GET["identifier"])
        cases = cases.filter(external_id=value)
    if "patient" in request.GET or "subject" in request.GET:
        ref = request.GET.get("patient") or request.GET.get("subject") or ""
        cases = cases.filter(
            person_id=int(ref.rpartition("/")[2]) if ref.rpartition("/")[2].isdecimal() else 0
        )
    if "status" in request.GET:
        wanted = set(request.GET["status"].split(","))
        cases = cases.filter(status__in=[s for s, f in mapping.ENCOUNTER_STATUS.items() if f in wanted])
    if "_id" in request.GET:
        cases = cases.filter(pk__in=[int(x) for x in request.GET["_id"].split(",") if x.isdecimal()])
    count, offset = _count(request)
    total = cases.count()
    page = list(cases.order_by("-admitted_at", "-pk")[offset : offset + count])
    log_list_access(actor, [c.person for c in page], "fhir:Encounter?search")
    version = mapping.versions([c.pk for c in page])
    return searchset(request, [mapping.encounter(c, version[c.pk]) for c in page], total)


@fhir_view(("GET", "PUT"))
def encounter_instance(request: AuthedRequest, pk: str) -> HttpResponse:
    actor = actor_of(request)
    case = _open_case(request, pk, f"fhir:Encounter/{pk}")
    if request.method == "GET":
        _status, resource, headers = _encounter_answer(case.pk, 200)
        headers.pop("Location")
        return fhir_response(resource, 200, headers)
    resource = read_body(request, "Encounter")
    # If-Match, or the version the client read (meta.versionId, which clients such as fhirpy send back).
    version_read = str((resource.get("meta") or {}).get("versionId") or "")
    if_match = request.headers.get("If-Match", "").strip() or (f'W/"{version_read}"' if version_read else "")
    if not if_match:
        raise FhirError.single(
            428,
            "IF-MATCH",
            "Ange If-Match (eller meta.versionId) med versionen som ändringen bygger på.",
            "If-Match",
            "required",
        )

    def write() -> tuple[int, dict[str, Any], dict[str, str]]:
        locked = services.lock_case(case)
        current = mapping.versions([locked.pk])[locked.pk]
        if if_match.removeprefix("W/") != f'"{current.number}"':
            raise FhirError.single(
                412,
                "VERSION",
                f"Vårdtillfället har ändrats sedan version {if_match}; "
                f"läs om det (nu {mapping.etag(current)}).",
                "If-Match",
                "conflict",
            )
        writes.update_encounter(actor, locked, resource)
        return _encounter_answer(locked.pk, 200)

    return run_write(
        request, f"fhir:Encounter:{case.pk}:update", {"resource": resource, "if_match": if_match}, write
    )


# --- Task ---------------------------------------------------------------------------------------------------


def _task_events(unit: Unit | None) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(
        case__in=services.unit_cases(unit), kind__in=list(mapping.TASK_KINDS)
    ).select_related("unit", "case__ward")


def _parse_task_id(pk: str) -> tuple[int, int | None]:
    event, _sep, owner = pk.partition("-")
    if not event.isdecimal() or (owner and not owner.isdecimal()):
        raise NotFound
    return int(event), int(owner) if owner else None


def _task_or_404(request: AuthedRequest, pk: str) -> tuple[CaseEvent, int | None, dict[str, Any]]:
    actor = actor_of(request)
    event_pk, owner_id = _parse_task_id(pk)
    event = (
        CaseEvent.objects.filter(pk=event_pk, kind__in=list(mapping.TASK_KINDS))
        .select_related("unit")
        .first()
    )
    if event is None:
        raise NotFound
    case = _open_case(request, str(event.case_id), f"fhir:Task/{pk}")
    context = mapping.TaskContext.load([case.pk])
    assert actor.unit is not None  # open_case refused a membership without a unit
    for resource in mapping.tasks_of(event, case, context, actor.unit):
        if resource["id"] == pk:
            return event, owner_id, resource
    raise NotFound


@fhir_view(("GET", "PUT", "PATCH"))
def task_instance(request: AuthedRequest, pk: str) -> HttpResponse:
    actor = actor_of(request)
    event, owner_id, resource = _task_or_404(request, pk)
    if request.method == "GET":
        return fhir_response(resource)
    if request.method == "PATCH":
        changed = _patched(request, resource)
    else:
        changed = read_body(request, "Task")
        if changed.get("id") not in (None, pk):
            raise FhirError.single(
                400, "FHIR-ID", "Resursens id ska vara samma som i adressen.", "Task.id", "invalid"
            )

    def write() -> tuple[int, dict[str, Any], dict[str, str]]:
        writes.update_task(actor, event, owner_id, changed)
        _event, _owner, fresh = _task_or_404(request, pk)
        return 200, fresh, {}

    return run_write(request, f"fhir:Task:{pk}:update", changed, write)


def _patched(request: HttpRequest, current: dict[str, Any]) -> dict[str, Any]:
    """PATCH with a JSON Patch (``[{"op": "replace", "path": "/status", "value": "received"}]``) or a partial
    resource (what fhirpy's ``patch`` sends). Only ``status`` and ``statusReason`` may change."""
    try:
        body = json.loads(request.body or b"null")
    except ValueError as exc:
        raise FhirError.single(400, "FHIR-JSON", f"Ogiltig JSON: {exc}", "", "structure") from exc
    changed = dict(current)
    if isinstance(body, list):
        for op in body:
            path = str(op.get("path", "")) if isinstance(op, dict) else ""
            if op.get("op") not in ("replace", "add") or path not in ("/status", "/statusReason"):
                raise FhirError.single(
                    422, "TASK-ANDRING", "Bara status och statusReason kan ändras.", "Task", "business-rule"
                )
            changed[path.lstrip("/")] = op.get("value")
    elif isinstance(body, dict):
        for name, value in body.items():
            if name in ("status", "statusReason"):
                changed[name] = value
            elif name not in ("resourceType", "id") and value != current.get(name):
                raise FhirError.single(
                    422,
                    "TASK-ANDRING",
                    "Bara status och statusReason kan ändras.",
                    f"Task.{name}",
                    "business-rule",
                )
    else:
        raise FhirError.single(
            400, "FHIR-JSON", "Ange en JSON Patch eller en del av resursen.", "", "structure"
        )

    validate(changed)
    return changed


@fhir_view(("GET", "POST"))
def task_type(request: AuthedRequest) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "POST":
        resource = read_body(request, "Task")

        def write() -> tuple[int, dict[str, Any], dict[str, str]]:
            event = writes.create_task(actor, resource)
            _event, _owner, fresh = _task_or_404(request, str(event.pk))
            return 201, fresh, {"Location": f"/fhir/r4/Task/{event.pk}"}

        return run_write(request, "fhir:Task:create", resource, write)
    return task_search(request)


def task_search(request: AuthedRequest) -> HttpResponse:
    """The unit's Tasks: ``owner`` (Organization/<id> or an HSA-id), ``status``, ``code``, ``encounter``,
    ``patient``. The inbox query of standards.md §3: ``Task?owner=<unit>&status=requested``."""
    actor = actor_of(request)
    if actor.unit is None:
        return searchset(request, [])
    events = _task_events(actor.unit)
    if "code" in request.GET:
        kinds = [
            mapping.TASK_CODE_TO_KIND[c]
            for c in (_token_param(x)[1] for x in request.GET["code"].split(","))
            if c in mapping.TASK_CODE_TO_KIND
        ]
        events = events.filter(kind__in=kinds)
    if "encounter" in request.GET:
        ref = request.GET["encounter"].rpartition("/")[2]
        events = events.filter(case_id=int(ref) if ref.isdecimal() else 0)
    if "patient" in request.GET:
        ref = request.GET["patient"].rpartition("/")[2]
        events = events.filter(case__person_id=int(ref) if ref.isdecimal() else 0)
    owner_filter = request.GET.get("owner", "")
    owner_id: int | None = None
    if owner_filter:
        ref = owner_filter.rpartition("/")[2] if owner_filter.startswith("Organization/") else ""
        unit = (
            Unit.objects.filter(pk=int(ref)).first()
            if ref.isdecimal()
            else Unit.objects.filter(hsa_id=_token_param(owner_filter)[1]).first()
        )
        owner_id = unit.pk if unit is not None else 0
    statuses = set(request.GET["status"].split(",")) if "status" in request.GET else None
    count, offset = _count(request)
    found = list(events.order_by("-recorded_at", "-pk")[:1000])
    context = mapping.TaskContext.load([e.case_id for e in found])
    cases = case_selectors.cases_by_id({e.case_id for e in found})
    resources: list[dict[str, Any]] = []
    for event in found:
        for resource in mapping.tasks_of(event, cases[event.case_id], context, actor.unit):
            if owner_filter and resource.get("owner", {}).get("reference") != f"Organization/{owner_id}":
                continue
            if statuses is not None and resource["status"] not in statuses:
                continue
            resources.append(resource)
    page = resources[offset : offset + count]
    shown = {r["for"]["reference"] for r in page}
    log_list_access(
        actor, [c.person for c in cases.values() if f"Patient/{c.person_id}" in shown], "fhir:Task?search"
    )
    return searchset(request, page, len(resources))


# --- CarePlan (the SIP) -------------------------------------------------------------------------------------


@fhir_view(("GET",))
def careplan_read(request: AuthedRequest, pk: str) -> HttpResponse:
    """The SIP as a CarePlan with its contained CareTeam (brygga.fhir.careplan), through ``open_sip``
    (logged)."""
    sip = open_sip(actor_of(request), pk, what="fhir:CarePlan")
    return fhir_response(careplan(sip))


# --- Communication (the case's messages) --------------------------------------------------------------------


def _communication_answer(
    request: AuthedRequest, message_pk: int, status: int
) -> tuple[int, dict[str, Any], dict[str, str]]:

    actor = actor_of(request)
    message = messaging.case_message(message_pk)
    if message is None:
        raise NotFound
    case = _open_case(request, str(message.thread.case_id), f"fhir:Communication/{message_pk}")
    if str(message.pk) not in messaging.readable_messages(actor, [str(message.pk)]):
        raise NotFound  # R-SEK-2: the unit takes part but may not read this message
    attachments = list(
        Attachment.objects.filter(owner_type="message", owner_id=str(message.pk)).order_by("pk")
    )
    headers = {"Location": f"/fhir/r4/Communication/{message.pk}"} if status == 201 else {}
    return status, communication.communication(message, case, attachments), headers


@fhir_view(("GET",))
def communication_read(request: AuthedRequest, pk: str) -> HttpResponse:
    if not pk.isdecimal():
        raise NotFound
    _status, resource, _headers = _communication_answer(request, int(pk), 200)
    return fhir_response(resource)


@fhir_view(("GET", "POST"))
def communication_type(request: AuthedRequest) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "POST":
        resource = read_body(request, "Communication")

        def write() -> tuple[int, dict[str, Any], dict[str, str]]:
            case = writes.case_from_reference(actor, resource.get("encounter"), "Communication.encounter")
            message = communication.send(actor, case, resource)
            return _communication_answer(request, message.pk, 201)

        return run_write(request, "fhir:Communication:create", resource, write)
    ref = request.GET.get("encounter", "").rpartition("/")[2]
    if not ref:
        raise FhirError.single(
            400,
            "FHIR-SOK",
            "Sök meddelanden per vårdtillfälle: encounter=Encounter/<id>.",
            "",
            "not-supported",
        )
    case = _open_case(request, ref, "fhir:Communication?search")
    return searchset(request, communication.case_communications(actor, case))


# --- AuditEvent (the person's access-log extract, R-LOG-3) --------------------------------------------------


@fhir_view(("GET",))
def audit_event_search(request: AuthedRequest) -> HttpResponse:
    """``AuditEvent?patient=Patient/<id>`` or ``AuditEvent?patient:identifier=<system>|<number>``: the extract
    a person may request, for a token whose role reviews the log (Perm.ACCESS_LOG_REVIEW). The extract itself
    is logged as an export, as on the extract page."""

    actor = actor_of(request)
    actor.require(Perm.ACCESS_LOG_REVIEW)
    person: Person | None = None
    if "patient:identifier" in request.GET:
        _system, value = _token_param(request.GET["patient:identifier"])
        person = person_by_identifier(value.replace("-", ""))
    elif "patient" in request.GET:
        ref = request.GET["patient"].rpartition("/")[2]
        person = person_by_reference(int(ref) if ref.isdecimal() else 0)
    else:
        raise FhirError.single(400, "FHIR-SOK", "Ange patient eller patient:identifier.", "", "required")
    if person is None:
        return searchset(request, [])
    entries = list(log_extract(person))
    log_access(actor, person, AccessLogEntry.Action.EXPORT, "fhir:AuditEvent", had_involvement=False)
    count, offset = _count(request)
    page = entries[offset : offset + count]
    return searchset(request, [audit.audit_event(e, person.pk) for e in page], len(entries))


# --- Consent ------------------------------------------------------------------------------------------------


@fhir_view(("GET",))
def consent_search(request: AuthedRequest) -> HttpResponse:
    """``Consent?patient=Patient/<id>``: the person's recorded consents, for a unit involved with the person
    (``open_person``: checked and logged)."""

    ref = request.GET.get("patient", "").rpartition("/")[2]
    if not ref:
        raise FhirError.single(400, "FHIR-SOK", "Ange patient=Patient/<id>.", "", "required")
    person = open_person(actor_of(request), ref, what="fhir:Consent")
    records = consents_for_answer(person)
    return searchset(
        request,
        [consent.consent(r, list(r.parties.all()), list(r.excluded_parties.all())) for r in records],
    )


# --- DocumentReference, Binary, Provenance (signed documents and attachments) -------------------------------


def _patient_param(request: HttpRequest) -> str:
    ref = request.GET.get("patient") or request.GET.get("subject") or ""
    kind, _sep, pk = ref.rpartition("/")
    if not pk or kind not in ("", "Patient"):
        raise FhirError.single(
            400, "FHIR-SOK", "Sök per person: patient=Patient/<id> (eller subject=).", "", "required"
        )
    return pk


@fhir_view(("GET",))
def document_reference_read(request: AuthedRequest, pk: str) -> HttpResponse:
    from brygga.fhir import documents

    return fhir_response(documents.read_reference(actor_of(request), pk))


@fhir_view(("GET",))
def document_reference_search(request: AuthedRequest) -> HttpResponse:
    """``DocumentReference?patient=Patient/<id>``: the person's signed documents (every version) and the
    attachments the unit may read; ``status=current`` leaves the superseded versions out."""
    from brygga.fhir import documents

    found = documents.person_references(actor_of(request), _patient_param(request))
    if "status" in request.GET:
        wanted = set(request.GET["status"].split(","))
        found = [r for r in found if r["status"] in wanted]
    count, offset = _count(request)
    return searchset(request, found[offset : offset + count], len(found))


def _wants_raw(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return bool(accept) and "json" not in accept and "*/*" not in accept


@fhir_view(("GET",))
def binary_read(request: AuthedRequest, pk: str) -> HttpResponse:
    """The file: as a Binary resource (``Accept: application/fhir+json``, the default), or the bytes
    themselves when the client asks for another type (``Accept: application/pdf``)."""
    from brygga.fhir import documents

    content_type, data = documents.open_binary(actor_of(request), pk)
    if _wants_raw(request):
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{pk}"'
        response["Cache-Control"] = "no-store"
        return response
    response = fhir_response(documents.binary(pk, content_type, data))
    response["Cache-Control"] = "no-store"
    return response


@fhir_view(("GET",))
def provenance_read(request: AuthedRequest, pk: str) -> HttpResponse:
    from brygga.fhir import documents

    return fhir_response(documents.read_provenance(actor_of(request), pk))


@fhir_view(("GET",))
def provenance_search(request: AuthedRequest) -> HttpResponse:
    """``Provenance?target=DocumentReference/signed-<id>``: the signatures of that version."""
    from brygga.fhir import documents

    target = request.GET.get("target", "")
    if not target.startswith("DocumentReference/"):
        raise FhirError.single(
            400, "FHIR-SOK", "Sök underskrifter per dokument: target=DocumentReference/<id>.", "", "required"
        )
    return searchset(request, documents.target_provenances(actor_of(request), target))


# --- PractitionerRole (units' functions, contact roles, staff by HSA-id) ------------------------------------


def _unit_from_param(value: str) -> Unit | None:
    """``Organization/<id>`` or an HSA-id (``<system>|<HSA-id>`` or the bare HSA-id)."""
    kind, _sep, ref = value.rpartition("/")
    if kind == "Organization":
        return Unit.objects.filter(pk=int(ref) if ref.isdecimal() else 0).first()
    return Unit.objects.filter(hsa_id=_token_param(value)[1]).first()


@fhir_view(("GET",))
def practitioner_role_read(request: HttpRequest, pk: str) -> HttpResponse:
    from brygga.fhir import directory

    return fhir_response(directory.read_role(pk))


@fhir_view(("GET",))
def practitioner_role_search(request: HttpRequest) -> HttpResponse:
    """``organization=Organization/<id>`` (or an HSA-id): the unit's function, contact roles and staff;
    ``practitioner.identifier=<HSA-id>`` or ``identifier=<commission HSA-id>``: a person's roles."""
    from brygga.fhir import directory

    if "organization" in request.GET:
        unit = _unit_from_param(request.GET["organization"])
        found = directory.unit_roles([unit]) if unit is not None else []
    elif "practitioner.identifier" in request.GET or "identifier" in request.GET:
        found = directory.practitioner_roles(
            request.GET.get("practitioner.identifier") or request.GET.get("identifier")
        )
    else:
        raise FhirError.single(
            400,
            "FHIR-SOK",
            "Sök på organization, practitioner.identifier eller identifier.",
            "",
            "not-supported",
        )
    count, offset = _count(request)
    return searchset(request, found[offset : offset + count], len(found))


# --- Appointment (planning meetings) ------------------------------------------------------------------------


def _appointments(request: AuthedRequest, meetings: list[Meeting]) -> list[dict[str, Any]]:
    from brygga.fhir import directory

    unit = actor_of(request).unit
    if unit is None or not meetings:  # without a unit, unit_cases/open_case found nothing
        return []
    invited = set(
        Meeting.participants.through.objects.filter(meeting__in=meetings, unit=unit).values_list(
            "meeting_id", flat=True
        )
    )
    return [directory.appointment(m, m.case, m.pk in invited) for m in meetings]


def _meetings() -> QuerySet[Meeting]:
    return (
        Meeting.objects.select_related("case__person", "video_room")
        .prefetch_related("participants")
        .order_by("starts_at", "pk")
    )


@fhir_view(("GET",))
def appointment_read(request: AuthedRequest, pk: str) -> HttpResponse:
    meeting = _meetings().filter(pk=int(pk) if pk.isdecimal() else 0).first()
    if meeting is None:
        raise NotFound
    _open_case(request, str(meeting.case_id), f"fhir:Appointment/{pk}")
    return fhir_response(_appointments(request, [meeting])[0])


@fhir_view(("GET",))
def appointment_search(request: AuthedRequest) -> HttpResponse:
    """The planning meetings of the cases the unit takes part in: ``patient=Patient/<id>``,
    ``actor=PractitionerRole/unit-<id>`` (or ``Organization/<id>``, an HSA-id) for a unit's meetings,
    ``encounter``/``supporting-info=Encounter/<id>``; each person shown is logged."""
    actor = actor_of(request)
    meetings = _meetings().filter(case__in=services.unit_cases(actor.unit))
    if not any(k in request.GET for k in ("patient", "actor", "supporting-info", "encounter", "_id")):
        raise FhirError.single(
            400, "FHIR-SOK", "Sök på patient, actor, encounter eller _id.", "", "not-supported"
        )
    if "patient" in request.GET:
        ref = request.GET["patient"].rpartition("/")[2]
        meetings = meetings.filter(case__person_id=int(ref) if ref.isdecimal() else 0)
    if "actor" in request.GET:
        value = request.GET["actor"]
        unit: Unit | None
        if value.startswith("PractitionerRole/unit-"):
            ref = value.removeprefix("PractitionerRole/unit-")
            unit = Unit.objects.filter(pk=int(ref) if ref.isdecimal() else 0).first()
        else:
            unit = _unit_from_param(value)
        meetings = meetings.filter(participants=unit) if unit is not None else meetings.none()
    encounter = request.GET.get("encounter") or request.GET.get("supporting-info")
    if encounter:
        ref = encounter.rpartition("/")[2]
        meetings = meetings.filter(case_id=int(ref) if ref.isdecimal() else 0)
    if "_id" in request.GET:
        meetings = meetings.filter(pk__in=[int(x) for x in request.GET["_id"].split(",") if x.isdecimal()])
    meetings = meetings.distinct()
    count, offset = _count(request)
    total = meetings.count()
    page = list(meetings[offset : offset + count])
    log_list_access(
        actor, list({m.case.person_id: m.case.person for m in page}.values()), "fhir:Appointment?search"
    )
    return searchset(request, _appointments(request, page), total)
