"""The FHIR R4 endpoint (/fhir/r4/, issue 19): valid resources out and in, the same services, rules, events
and need-to-know as the UI and the JSON API, OperationOutcomes naming the path and the rule, ETag versioning,
and subscriptions with an outbox written in the event's transaction."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.test import Client

from brygga.access.models import AccessLogEntry
from brygga.accounts.permissions import Role
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.fhir import systems
from brygga.fhir.models import Notification, Subscription
from brygga.fhir.subscriptions import TOPICS, deliver, due_subscriptions
from brygga.organisations.models import Unit
from tests.factories import CONTACT_POINT, OTHER_WARD, WARD, make_person, unit
from tests.fhir_helpers import FHIR_JSON, Receiver, encounter_body, task_body, token_for, valid

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
ADMITTED = NOW - dt.timedelta(hours=3)


def client(role: Role, unit_name: str, username: str | None = None) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(role, unit_name, username)}")


@pytest.fixture
def ehr() -> Client:
    return client(Role.SYSTEM, WARD)


@pytest.fixture
def municipality() -> Client:
    return client(Role.SYSTEM, CONTACT_POINT)


def post(c: Client, path: str, body: Any, **headers: Any):  # type: ignore[no-untyped-def]
    return c.post(f"/fhir/r4/{path}", json.dumps(body), content_type=FHIR_JSON, **headers)


def put(c: Client, path: str, body: Any, **headers: Any):  # type: ignore[no-untyped-def]
    return c.put(f"/fhir/r4/{path}", json.dumps(body), content_type=FHIR_JSON, **headers)


def issue_of(response: Any) -> dict[str, Any]:
    body = valid(response.json())
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    return {
        "rule": issue["details"]["coding"][0]["code"],
        "path": (issue.get("expression") or [""])[0],
        **issue,
    }


def create(c: Client, person_identifier: str, **headers: str) -> Any:
    return post(c, "Encounter", encounter_body(person_identifier, ADMITTED), **headers)


# --- CapabilityStatement and authentication -----------------------------------------------------------------


def test_capability_statement_is_valid_and_lists_only_what_is_served() -> None:
    response = Client().get("/fhir/r4/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    body = valid(response.json())
    served = {r["type"]: {i["code"] for i in r["interaction"]} for r in body["rest"][0]["resource"]}
    assert served["Encounter"] == {"read", "search-type", "create", "update"}
    assert served["DocumentReference"] == {"read", "search-type"}
    assert served["Binary"] == {"read"} and served["Provenance"] == {"read", "search-type"}
    assert served["PractitionerRole"] == {"read", "search-type"}
    assert served["Appointment"] == {"read", "search-type"}
    assert served["Consent"] == {"search-type"}
    assert served["AuditEvent"] == {"search-type"}
    assert served["Communication"] == {"read", "search-type", "create"}
    assert served["CarePlan"] == {"read"}
    assert body["fhirVersion"] == "4.0.1"


def test_without_a_token_the_answer_is_401_operation_outcome() -> None:
    response = Client().get("/fhir/r4/Encounter")
    assert response.status_code == 401
    assert issue_of(response)["rule"] == "AUTH"


# --- Encounter: create --------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_encounter_create_runs_admit_with_its_event_and_answers_a_valid_versioned_encounter(
    ehr: Client,
) -> None:
    person = make_person("1480")
    response = create(ehr, person.identifier)
    assert response.status_code == 201, response.content
    body = valid(response.json())
    case = Case.objects.get(person=person)
    assert body["id"] == str(case.pk) and body["status"] == "in-progress"
    assert body["serviceProvider"]["identifier"] == {"system": systems.HSA_ID, "value": unit(WARD).hsa_id}
    assert response["ETag"] == 'W/"1"' and body["meta"]["versionId"] == "1"
    assert (
        case.external_id == "EHR-1"
        and case.expected_discharge_date == (ADMITTED + dt.timedelta(days=4)).date()
    )
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == ["admitted"]
    assert AccessLogEntry.objects.filter(person=person, what__startswith="case:").exists()


@time_machine.travel(NOW, tick=False)
def test_conditional_create_on_the_ehr_encounter_id_creates_once(ehr: Client) -> None:
    person = make_person("1480")
    first = create(ehr, person.identifier, HTTP_IF_NONE_EXIST="identifier=urn:oid:1.2.752.99.1|EHR-1")
    again = create(ehr, person.identifier, HTTP_IF_NONE_EXIST="identifier=urn:oid:1.2.752.99.1|EHR-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Case.objects.filter(person=person).count() == 1
    assert CaseEvent.objects.filter(case__person=person, kind="admitted").count() == 1


@time_machine.travel(NOW, tick=False)
def test_idempotency_key_replays_the_create(ehr: Client) -> None:
    person = make_person("1480")
    first = create(ehr, person.identifier, HTTP_IDEMPOTENCY_KEY="fhir-1")
    again = create(ehr, person.identifier, HTTP_IDEMPOTENCY_KEY="fhir-1")
    assert first.status_code == again.status_code == 201
    assert again["X-Idempotent-Replay"] == "true" and again.json()["id"] == first.json()["id"]
    assert Case.objects.filter(person=person).count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_second_open_stay_is_refused_with_the_services_rule(ehr: Client) -> None:
    person = make_person("1480")
    assert create(ehr, person.identifier).status_code == 201
    body = encounter_body(person.identifier, ADMITTED, identifier=[{"value": "EHR-2"}])
    response = post(ehr, "Encounter", body)
    assert response.status_code in (409, 422)
    assert issue_of(response)["rule"] == "ETT-VARDTILLFALLE"
    assert Case.objects.filter(person=person).count() == 1


@pytest.mark.parametrize(
    ("change", "status", "rule", "path"),
    [
        ({"class": None}, 422, "FHIR-missing", "Encounter.class"),
        ({"period": {"start": "igår"}}, 422, "FHIR-value_error", "Encounter.period.start"),
        ({"status": "planned"}, 422, "FHIR-STATUS", "Encounter.status"),
        ({"class": {"system": systems.ACT_CODE, "code": "AMB"}}, 422, "FHIR-KOD", "Encounter.class"),
        (
            {"type": [{"coding": [{"system": systems.CARE_TYPE, "code": "dental"}]}]},
            422,
            "FHIR-KOD",
            "Encounter.type",
        ),
        ({"subject": None}, 422, "R-INS-4", "Encounter.subject"),
        ({"resourceType": "Patient"}, 422, "FHIR-RESURSTYP", "resourceType"),
        (
            {
                "serviceProvider": {
                    "identifier": {"system": systems.HSA_ID, "value": "SE2321000131-E000000000099"}
                }
            },
            422,
            "OKAND-ENHET",
            "Encounter.serviceProvider",
        ),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_invalid_encounters_are_refused_naming_path_and_rule_and_write_nothing(
    ehr: Client, change: dict[str, Any], status: int, rule: str, path: str
) -> None:
    person = make_person("1480")
    body = encounter_body(person.identifier, ADMITTED)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = post(ehr, "Encounter", body)
    assert response.status_code == status, response.content
    issue = issue_of(response)
    assert (issue["rule"], issue["path"]) == (rule, path)
    assert not Case.objects.filter(person=person).exists()


def test_malformed_json_and_wrong_media_type_are_operation_outcomes(ehr: Client) -> None:
    bad = ehr.post("/fhir/r4/Encounter", "{nope", content_type=FHIR_JSON)
    assert bad.status_code == 400 and issue_of(bad)["rule"] == "FHIR-JSON"
    form = ehr.post("/fhir/r4/Encounter", {"a": "b"})
    assert form.status_code == 415 and issue_of(form)["rule"] == "FHIR-FORMAT"


@time_machine.travel(NOW, tick=False)
def test_another_wards_ward_cannot_be_named_as_service_provider(ehr: Client) -> None:
    person = make_person("1480")
    other = unit(OTHER_WARD)
    body = encounter_body(
        person.identifier, ADMITTED, serviceProvider={"reference": f"Organization/{other.pk}"}
    )
    response = post(ehr, "Encounter", body)
    assert response.status_code == 422 and issue_of(response)["rule"] == "AVSANDARE"
    assert not Case.objects.filter(person=person).exists()


@time_machine.travel(NOW, tick=False)
def test_a_person_unknown_to_brygga_is_a_422_naming_the_subject(ehr: Client) -> None:
    response = post(ehr, "Encounter", encounter_body("195001019806", ADMITTED))
    issue = issue_of(response)
    assert response.status_code == 422 and issue["path"].startswith("Encounter.subject")


# --- Encounter: read, search, need-to-know ------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_another_units_encounter_is_404_and_the_attempt_is_logged(ehr: Client) -> None:
    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    other = client(Role.SYSTEM, OTHER_WARD)
    response = other.get(f"/fhir/r4/Encounter/{case_id}")
    assert response.status_code == 404 and issue_of(response)["code"] == "not-found"
    denied = AccessLogEntry.objects.filter(person=person, action=AccessLogEntry.Action.DENIED)
    assert denied.count() == 1 and denied.get().unit_label == OTHER_WARD
    search = valid(other.get(f"/fhir/r4/Encounter?patient=Patient/{person.pk}").json())
    assert search["total"] == 0 and "entry" not in search
    assert other.get(f"/fhir/r4/Patient/{person.pk}").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_search_returns_the_units_encounters_each_read_logged(ehr: Client) -> None:
    people = [make_person("1480") for _ in range(3)]
    for i, person in enumerate(people):
        post(ehr, "Encounter", encounter_body(person.identifier, ADMITTED, identifier=[{"value": f"E-{i}"}]))
    before = AccessLogEntry.objects.count()
    body = valid(ehr.get("/fhir/r4/Encounter?status=in-progress").json())
    assert body["total"] == 3 and {e["resource"]["subject"]["reference"] for e in body["entry"]} == {
        f"Patient/{p.pk}" for p in people
    }
    assert AccessLogEntry.objects.count() - before == 3
    one = valid(ehr.get("/fhir/r4/Encounter?identifier=E-1").json())
    assert one["total"] == 1


@time_machine.travel(NOW, tick=False)
def test_patient_read_and_search_by_identifier(ehr: Client) -> None:
    person = make_person("1480")
    create(ehr, person.identifier)
    read = valid(ehr.get(f"/fhir/r4/Patient/{person.pk}").json())
    assert read["identifier"] == [{"system": systems.PERSONNUMMER, "value": person.identifier}]
    found = valid(ehr.get(f"/fhir/r4/Patient?identifier={systems.PERSONNUMMER}|{person.identifier}").json())
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == str(person.pk)


@time_machine.travel(NOW, tick=False)
def test_a_protected_identity_has_no_name_or_address_for_a_role_that_may_not_reveal(ehr: Client) -> None:
    person = make_person("1480", protected=True)
    create(ehr, person.identifier)
    body = valid(ehr.get(f"/fhir/r4/Patient/{person.pk}").json())
    assert "name" not in body and "address" not in body
    assert body["meta"]["security"][0]["code"] == "sekretessmarkering"


# --- Encounter: update with If-Match ------------------------------------------------------------------------


def _reason(code: str, text: str = "") -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": systems.EXPECTED_DATE_REASON, "code": code}]}
    if text:
        concept["text"] = text
    return {"url": systems.EXPECTED_DATE_CHANGE_REASON, "valueCodeableConcept": concept}


@time_machine.travel(NOW, tick=False)
def test_update_changes_the_expected_date_through_the_service_r_ins_5(ehr: Client) -> None:
    person = make_person("1480")
    created = create(ehr, person.identifier)
    body = created.json()
    body["extension"] = [
        {"url": systems.PLANNED_END_DATE, "valueDateTime": "2026-11-20"},
        _reason("medical_condition"),
    ]
    response = put(ehr, f"Encounter/{body['id']}", body, HTTP_IF_MATCH=created["ETag"])
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    event = CaseEvent.objects.get(case_id=body["id"], kind="expected_date_changed")
    assert event.data["new"] == "2026-11-20" and event.data["reason"] == "medical_condition"


@time_machine.travel(NOW, tick=False)
def test_a_stale_update_is_refused_with_412_and_changes_nothing(ehr: Client) -> None:
    person = make_person("1480")
    created = create(ehr, person.identifier)
    body = created.json()
    first = dict(
        body,
        extension=[{"url": systems.PLANNED_END_DATE, "valueDateTime": "2026-11-20"}, _reason("complication")],
    )
    assert put(ehr, f"Encounter/{body['id']}", first, HTTP_IF_MATCH='W/"1"').status_code == 200
    stale = dict(
        body,
        extension=[{"url": systems.PLANNED_END_DATE, "valueDateTime": "2026-11-25"}, _reason("complication")],
    )
    response = put(ehr, f"Encounter/{body['id']}", stale, HTTP_IF_MATCH='W/"1"')
    assert response.status_code == 412 and issue_of(response)["rule"] == "VERSION"
    assert Case.objects.get(pk=body["id"]).expected_discharge_date == dt.date(2026, 11, 20)
    by_meta = put(ehr, f"Encounter/{body['id']}", stale)  # meta.versionId "1" from the first read: stale too
    assert by_meta.status_code == 412
    stale.pop("meta")
    assert put(ehr, f"Encounter/{body['id']}", stale).status_code == 428


@time_machine.travel(NOW, tick=False)
def test_an_expected_date_change_without_reason_names_the_extension_and_r_ins_5(ehr: Client) -> None:
    person = make_person("1480")
    created = create(ehr, person.identifier)
    body = dict(created.json(), extension=[{"url": systems.PLANNED_END_DATE, "valueDateTime": "2026-11-20"}])
    response = put(ehr, f"Encounter/{body['id']}", body, HTTP_IF_MATCH=created["ETag"])
    issue = issue_of(response)
    assert response.status_code == 422
    assert issue["rule"] == "R-INS-5" and "expected-date-change-reason" in issue["path"]
    assert not CaseEvent.objects.filter(case_id=body["id"], kind="expected_date_changed").exists()


@time_machine.travel(NOW, tick=False)
def test_leave_through_status_onleave_and_back(ehr: Client) -> None:
    person = make_person("1480")
    created = create(ehr, person.identifier)
    body = dict(created.json(), status="onleave")
    away = put(ehr, f"Encounter/{body['id']}", body, HTTP_IF_MATCH=created["ETag"])
    assert away.status_code == 200 and away.json()["status"] == "onleave"
    back = put(
        ehr, f"Encounter/{body['id']}", dict(away.json(), status="in-progress"), HTTP_IF_MATCH=away["ETag"]
    )
    assert back.status_code == 200
    assert list(
        CaseEvent.objects.filter(case_id=body["id"]).values_list("kind", flat=True).order_by("pk")
    ) == [
        "admitted",
        "leave_started",
        "leave_ended",
    ]


# --- Task ---------------------------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_admission_notice_task_and_the_receivers_acknowledgement(ehr: Client, municipality: Client) -> None:
    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    sent = post(ehr, "Task", task_body("inskrivningsmeddelande", case_id))
    assert sent.status_code == 201, sent.content
    parent = valid(sent.json())
    assert parent["status"] == "requested" and "owner" not in parent
    contact = unit(CONTACT_POINT)
    inbox = valid(municipality.get(f"/fhir/r4/Task?owner=Organization/{contact.pk}&status=requested").json())
    assert inbox["total"] == 1
    mine = inbox["entry"][0]["resource"]
    assert (
        mine["owner"]["identifier"]["value"] == contact.hsa_id
        and mine["partOf"][0]["reference"] == f"Task/{parent['id']}"
    )
    acked = municipality.patch(
        f"/fhir/r4/Task/{mine['id']}",
        json.dumps([{"op": "replace", "path": "/status", "value": "received"}]),
        content_type="application/json-patch+json",
    )
    assert acked.status_code == 200, acked.content
    assert valid(acked.json())["status"] == "received"
    participant = Participant.objects.get(case_id=case_id, unit=contact)
    assert participant.acknowledged_at is not None and not participant.needs_ack
    assert CaseEvent.objects.filter(case_id=case_id, kind="acknowledged", unit=contact).exists()
    # The municipality sees its own Task, not another receiver's.
    ids = {
        e["resource"]["id"]
        for e in valid(municipality.get(f"/fhir/r4/Task?encounter=Encounter/{case_id}").json())["entry"]
    }
    assert ids == {parent["id"], mine["id"]}


@time_machine.travel(NOW, tick=False)
def test_a_receiver_cannot_acknowledge_another_units_task(ehr: Client, municipality: Client) -> None:
    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    parent = post(ehr, "Task", task_body("inskrivningsmeddelande", case_id)).json()
    owners = (
        Participant.objects.filter(case_id=case_id).exclude(role="ward").exclude(unit__name=CONTACT_POINT)
    )
    other_owner = owners.first()
    assert other_owner is not None
    response = municipality.put(
        f"/fhir/r4/Task/{parent['id']}-{other_owner.unit_id}",
        json.dumps({**parent, "status": "received"}),
        content_type=FHIR_JSON,
    )
    assert response.status_code == 404
    assert Participant.objects.get(pk=other_owner.pk).acknowledged_at is None


@time_machine.travel(NOW, tick=False)
def test_discharge_ready_needs_a_physicians_token_r_def_uk_1(ehr: Client) -> None:
    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    refused = post(ehr, "Task", task_body("utskrivningsklar", case_id))
    assert refused.status_code == 403 and issue_of(refused)["rule"] == "R-DEF-UK-1"
    assert Case.objects.get(pk=case_id).discharge_ready_at is None
    physician = client(Role.PHYSICIAN, WARD)
    done = post(physician, "Task", task_body("utskrivningsklar", case_id))
    assert done.status_code == 201 and valid(done.json())["code"]["coding"][0]["code"] == "utskrivningsklar"
    withdrawn = physician.put(
        f"/fhir/r4/Task/{done.json()['id']}",
        json.dumps({**done.json(), "status": "cancelled", "statusReason": {"text": "Feber"}}),
        content_type=FHIR_JSON,
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "cancelled"
    assert Case.objects.get(pk=case_id).discharge_ready_at is None


# --- Subscriptions and the outbox ---------------------------------------------------------------------------


def subscribe(c: Client, topic: str, endpoint: str) -> dict[str, Any]:
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Kommunens verksamhetssystem",
        "criteria": TOPICS[topic].url,
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": FHIR_JSON,
            "header": ["X-Secret: s3"],
        },
    }
    response = post(c, "Subscription", body)
    assert response.status_code == 201, response.content
    resource = valid(response.json())
    if resource["status"] != "active":
        # These tests look at the outbox with an endpoint that refuses (port 9), so the handshake failed;
        # the handshake itself is tested in tests/test_fhir_subscriptions.py.
        assert resource["status"] == "error" and ":9/" in endpoint
        Subscription.objects.filter(pk=resource["id"]).update(status=Subscription.Status.ACTIVE)
        resource["status"] = "active"
    return resource


@time_machine.travel(NOW, tick=False)
def test_the_outbox_row_is_written_with_the_event_and_not_for_a_refused_change(
    ehr: Client, municipality: Client, settings: Any
) -> None:
    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False
    sub = subscribe(municipality, "admission-notice", "http://127.0.0.1:9/hook")
    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    assert not Notification.objects.exists()  # admission alone is not the notice
    post(ehr, "Task", task_body("inskrivningsmeddelande", case_id))
    event = CaseEvent.objects.get(case_id=case_id, kind="admission_notice_sent")
    notification = Notification.objects.get()
    assert notification.case_event == event and notification.status == "pending"
    # Numbered by the sender, not the writer (no lock shared by the writers of events).
    assert notification.event_number is None
    deliver(int(sub["id"]))  # the endpoint refuses: numbered, still pending
    notification.refresh_from_db()
    assert notification.event_number == 1 and notification.status == "pending"
    assert notification.focus == f"Task/{event.pk}-{unit(CONTACT_POINT).pk}"
    # A second notice is refused by the service: no event, no notification.
    again = post(ehr, "Task", task_body("inskrivningsmeddelande", case_id))
    assert again.status_code >= 400 and Notification.objects.count() == 1
    assert Subscription.objects.get(pk=sub["id"]).events_since_start == 1


@time_machine.travel(NOW, tick=False)
def test_an_other_units_subscription_hears_nothing(ehr: Client, settings: Any) -> None:
    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False
    stranger = client(Role.SYSTEM, "Borås kontaktpunkt")
    subscribe(stranger, "admission-notice", "http://127.0.0.1:9/hook")
    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    post(ehr, "Task", task_body("inskrivningsmeddelande", case_id))
    assert not Notification.objects.exists()


def test_subscription_requires_https_in_production_and_a_known_topic(municipality: Client) -> None:
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "x",
        "criteria": "http://example.org/topic",
        "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1/hook", "payload": FHIR_JSON},
    }
    response = post(municipality, "Subscription", body)
    assert response.status_code == 422
    rules = {i["details"]["coding"][0]["code"] for i in response.json()["issue"]}
    assert rules == {"FHIR-AMNE", "FHIR-ADRESS"}
    assert not Subscription.objects.exists()


def test_delivery_in_order_with_retry_and_backoff(ehr: Client, municipality: Client, settings: Any) -> None:
    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False
    with Receiver() as receiver, time_machine.travel(NOW, tick=True) as clock:
        sub = subscribe(municipality, "expected-date-changed", receiver.url)
        person = make_person("1480")
        created = post(ehr, "Encounter", encounter_body(person.identifier, NOW - dt.timedelta(hours=3)))
        case_id = created.json()["id"]
        post(
            ehr, "Task", task_body("inskrivningsmeddelande", case_id)
        )  # the municipality takes part from here
        etag = ehr.get(f"/fhir/r4/Encounter/{case_id}")["ETag"]
        for day in ("2026-11-20", "2026-11-21"):
            body = dict(ehr.get(f"/fhir/r4/Encounter/{case_id}").json())
            body["extension"] = [
                {"url": systems.PLANNED_END_DATE, "valueDateTime": day},
                _reason("complication"),
            ]
            response = put(ehr, f"Encounter/{case_id}", body, HTTP_IF_MATCH=etag)
            assert response.status_code == 200, response.content
            etag = response["ETag"]
        receiver.answers = [500]  # the first attempt (both waiting notices in one Bundle, ADR 0604) fails
        assert deliver(int(sub["id"])) == 0
        first, second = Notification.objects.order_by("event_number")
        assert first.attempts == 1 and first.last_status == 500 and first.status == "pending"
        assert second.attempts == 1 and second.status == "pending"
        assert receiver.received == []  # #2 waits with #1: order per subscription
        assert due_subscriptions() == []  # backing off
        clock.shift(dt.timedelta(seconds=settings.BRYGGA_FHIR_RETRY_BASE_SECONDS + 1))
        assert due_subscriptions() == [int(sub["id"])]
        assert deliver(int(sub["id"])) == 2
    # The retry carries both events in one notification Bundle, oldest first.
    assert len(receiver.received) == 1
    numbers = [e["eventNumber"] for e in receiver.received[0]["entry"][0]["resource"]["notificationEvent"]]
    assert numbers == ["1", "2"]
    assert receiver.focuses() == [f"Encounter/{case_id}", f"Encounter/{case_id}"]
    assert receiver.headers[0]["X-Secret"] == "s3"
    for bundle in receiver.received:
        valid(bundle)
    status = valid(municipality.get(f"/fhir/r4/Subscription/{sub['id']}/$status").json())
    assert status["entry"][0]["resource"]["eventsSinceSubscriptionStart"] == "2"


@time_machine.travel(NOW, tick=False)
def test_subscriptions_are_the_units_own(municipality: Client, settings: Any) -> None:
    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False
    sub = subscribe(municipality, "discharge", "http://127.0.0.1:9/hook")
    other = client(Role.SYSTEM, "Borås kontaktpunkt")
    assert other.get(f"/fhir/r4/Subscription/{sub['id']}").status_code == 404
    assert other.get(f"/fhir/r4/Subscription/{sub['id']}/$status").status_code == 404
    assert municipality.delete(f"/fhir/r4/Subscription/{sub['id']}").status_code == 204
    assert Subscription.objects.get(pk=sub["id"]).status == "off"


def test_topics_are_valid_subscription_topics(municipality: Client) -> None:
    body = valid(municipality.get("/fhir/r4/SubscriptionTopic").json())
    assert {e["resource"]["id"] for e in body["entry"]} == set(TOPICS)


def test_organization_by_hsa_id(municipality: Client) -> None:
    contact = Unit.objects.get(name=CONTACT_POINT)
    body = valid(
        municipality.get(f"/fhir/r4/Organization?identifier={systems.HSA_ID}|{contact.hsa_id}").json()
    )
    assert body["total"] == 1 and body["entry"][0]["resource"]["name"] == CONTACT_POINT


@time_machine.travel(NOW, tick=False)
def test_the_subscribers_administrator_sees_the_delivery_log_another_principals_does_not(
    ehr: Client, municipality: Client, settings: Any
) -> None:
    from tests.test_operations import admin_client

    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False
    sub = subscribe(municipality, "admission-notice", "http://127.0.0.1:9/hook")
    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    post(ehr, "Task", task_body("inskrivningsmeddelande", case_id))
    notification = Notification.objects.get()
    Notification.objects.filter(pk=notification.pk).update(attempts=3, last_error="HTTP 500")
    own, _user = admin_client(Role.LOCAL_ADMIN, CONTACT_POINT, "admin-gbg")
    page = own.get(f"/admin/fhir/subscription/{sub['id']}/change/")
    assert page.status_code == 200
    assert "HTTP 500" in page.content.decode() and notification.focus in page.content.decode()
    assert own.get("/admin/fhir/notification/").status_code == 200
    other, _user = admin_client(Role.LOCAL_ADMIN, "Borås kontaktpunkt", "admin-boras")
    assert other.get(f"/admin/fhir/subscription/{sub['id']}/change/").status_code in (302, 404)
    assert "HTTP 500" not in other.get("/admin/fhir/notification/").content.decode()


@time_machine.travel(NOW, tick=False)
def test_encounter_create_runs_a_bounded_number_of_statements(ehr: Client) -> None:
    """docs/benchmarks.md: token, person look-up with its log entry, ``services.admit`` and the answer (the
    case with its version in one statement) — 22 statements measured (savepoints included); a new query per
    request would show here first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = make_person("1480")
    create(ehr, first.identifier)  # warm: the token's last_used_at write happens once a minute
    person = make_person("1480")
    body = encounter_body(person.identifier, ADMITTED, identifier=[{"value": "EHR-Q"}])
    with CaptureQueriesContext(connection) as queries:
        assert post(ehr, "Encounter", body).status_code == 201
    assert len(queries.captured_queries) <= 22


# --- Communication ------------------------------------------------------------------------------------------


def message_body(case_id: str, text: str, **extra: Any) -> dict[str, Any]:
    from brygga.fhir.communication import CATEGORY

    return {
        "resourceType": "Communication",
        "status": "completed",
        "encounter": {"reference": f"Encounter/{case_id}"},
        "category": [{"coding": [{"system": CATEGORY, "code": "discharge"}]}],
        "topic": {"text": "Hemgång"},
        "payload": [{"contentString": text}],
        **extra,
    }


@time_machine.travel(NOW, tick=False)
def test_communication_needs_a_legal_basis_r_sek_2_and_is_read_by_the_receiver(
    ehr: Client, municipality: Client, settings: Any
) -> None:
    from brygga.messaging.models import Message
    from tests.factories import actor, share_consent

    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False
    sub = subscribe(municipality, "new-message", "http://127.0.0.1:9/hook")
    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    post(ehr, "Task", task_body("inskrivningsmeddelande", case_id))
    refused = post(ehr, "Communication", message_body(case_id, "Behöver hemtjänst"))
    issue = issue_of(refused)
    assert (
        refused.status_code == 403 and issue["rule"] == "R-SEK-2" and issue["path"] == "Communication.payload"
    )
    assert not Message.objects.exists() and not Notification.objects.exists()
    # The receivers, and the ward for the municipality's reply.
    parties = [p.unit for p in Participant.objects.filter(case_id=case_id)]
    share_consent(actor(Role.WARD_NURSE, WARD), person, parties)
    consents = valid(ehr.get(f"/fhir/r4/Consent?patient=Patient/{person.pk}").json())
    recorded = consents["entry"][0]["resource"]
    assert recorded["status"] == "active" and recorded["provision"]["type"] == "permit"
    assert {a["reference"]["identifier"]["value"] for a in recorded["provision"]["actor"]} == {
        u.hsa_id for u in parties
    }
    assert (
        client(Role.SYSTEM, OTHER_WARD).get(f"/fhir/r4/Consent?patient=Patient/{person.pk}").status_code
        == 404
    )
    sent = post(ehr, "Communication", message_body(case_id, "Behöver hemtjänst"))
    assert sent.status_code == 201, sent.content
    message = valid(sent.json())
    assert (
        message["category"][0]["coding"][0]["code"] == "discharge" and message["topic"]["text"] == "Hemgång"
    )
    found = valid(municipality.get(f"/fhir/r4/Communication?encounter=Encounter/{case_id}").json())
    assert [e["resource"]["payload"][0]["contentString"] for e in found["entry"]] == ["Behöver hemtjänst"]
    reply = post(
        municipality,
        "Communication",
        message_body(case_id, "Vi planerar", inResponseTo=[{"reference": f"Communication/{message['id']}"}]),
    )
    assert (
        reply.status_code == 201
        and valid(reply.json())["inResponseTo"][0]["reference"] == f"Communication/{message['id']}"
    )
    notification = Notification.objects.get(subscription_id=sub["id"])
    assert notification.focus == f"Encounter/{case_id}"
    stranger = client(Role.SYSTEM, OTHER_WARD)
    assert stranger.get(f"/fhir/r4/Communication/{message['id']}").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_persons_log_extract_as_audit_events_for_a_log_reviewer_only(ehr: Client) -> None:
    person = make_person("1480")
    create(ehr, person.identifier)
    ehr.get(f"/fhir/r4/Patient/{person.pk}")
    assert ehr.get(f"/fhir/r4/AuditEvent?patient=Patient/{person.pk}").status_code == 403
    reviewer = client(Role.LOG_REVIEWER, WARD)
    body = valid(
        reviewer.get(
            f"/fhir/r4/AuditEvent?patient:identifier={systems.PERSONNUMMER}|{person.identifier}"
        ).json()
    )
    events = [e["resource"] for e in body["entry"]]
    assert body["total"] == len(events) >= 3  # look-up, admission, the read above
    assert {e["agent"][0]["who"]["identifier"]["value"] for e in events} == {unit(WARD).hsa_id}
    assert {e["entity"][0]["what"]["reference"] for e in events} == {f"Patient/{person.pk}"}
    assert AccessLogEntry.objects.filter(person=person, action="export", what="fhir:AuditEvent").count() == 1


def test_the_endpoint_must_be_on_an_allowed_host_when_a_list_is_set(
    municipality: Client, settings: Any
) -> None:
    """A subscription makes brygga send requests: with BRYGGA_FHIR_ENDPOINT_HOSTS set, only to those hosts."""
    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False
    settings.BRYGGA_FHIR_ENDPOINT_HOSTS = ["kommun.example"]
    channel: dict[str, Any] = {"type": "rest-hook", "endpoint": "http://10.0.0.1/admin", "payload": FHIR_JSON}
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "x",
        "criteria": TOPICS["discharge"].url,
        "channel": channel,
    }
    refused = post(municipality, "Subscription", body)
    assert refused.status_code == 422 and issue_of(refused)["path"] == "Subscription.channel.endpoint"
    channel["endpoint"] = "https://fhir.kommun.example/hook"
    assert post(municipality, "Subscription", body).status_code == 201
    assert Subscription.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_sip_summons_task_from_the_vardcentral_with_its_deadline_r_sip_k_1(ehr: Client) -> None:
    from tests.factories import PRIMARY_CARE

    person = make_person("1480")
    case_id = create(ehr, person.identifier).json()["id"]
    post(ehr, "Task", task_body("inskrivningsmeddelande", case_id))
    Case.objects.filter(pk=case_id).update(sip_needed=True)
    assert (
        post(client(Role.PHYSICIAN, WARD), "Task", task_body("utskrivningsklar", case_id)).status_code == 201
    )
    refused = post(ehr, "Task", task_body("sip-kallelse", case_id))  # the ward does not summon (R-FVK-2)
    assert refused.status_code in (403, 404, 422) and refused.json()["resourceType"] == "OperationOutcome"
    coordinator = client(Role.CARE_COORDINATOR, PRIMARY_CARE)
    sent = post(coordinator, "Task", task_body("sip-kallelse", case_id))
    assert sent.status_code == 201, sent.content
    parent = valid(sent.json())
    due = Case.objects.get(pk=case_id).sip_summons_due_at
    assert due is not None and parent["restriction"]["period"]["end"] == due.isoformat()
    ward_tasks = valid(ehr.get(f"/fhir/r4/Task?code=sip-kallelse&owner=Organization/{unit(WARD).pk}").json())
    assert ward_tasks["total"] == 1 and ward_tasks["entry"][0]["resource"]["partOf"][0]["reference"] == (
        f"Task/{parent['id']}"
    )
