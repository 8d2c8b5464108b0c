"""The integration API: idempotency keys (a retry is answered, never duplicated), MedCom machine
acknowledgements, structured errors naming the rule, batch submission, need-to-know, and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from brygga.accounts.models import ApiToken
from brygga.accounts.permissions import Role
from brygga.cases.models import Case, CaseEvent
from brygga.core.models import IdempotencyRecord
from tests.factories import CONTACT_POINT, WARD, actor, make_person

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)


def token_for(role: Role, unit_name: str) -> str:
    a = actor(role, unit_name)
    _token, raw = ApiToken.issue(a.membership, f"{role.value}-test")  # type: ignore[arg-type]
    return raw


@pytest.fixture
def ehr() -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(Role.SYSTEM, WARD)}")


def create_body(identifier: str, **extra: object) -> dict[str, object]:
    return {
        "identifier": identifier,
        "admitted_at": (NOW - dt.timedelta(hours=3)).isoformat(),
        "care_type": "somatic",
        "expected_discharge_date": "2026-11-14",
        "need_assessed_at": (NOW - dt.timedelta(hours=3)).isoformat(),
        "send_notice": True,
        "external_id": "EHR-1",
        **extra,
    }


def post(client: Client, path: str, body: object, key: str | None = None):  # type: ignore[no-untyped-def]
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/cases{path}", body, content_type="application/json", **headers)


@time_machine.travel(NOW, tick=False)
def test_create_with_notice_returns_ok_acknowledgement(ehr: Client) -> None:
    person = make_person("1480")
    response = post(ehr, "/", create_body(person.identifier))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["acknowledgement"]["code"] == "ok" and body["acknowledgement"]["problems"] == []
    assert body["case"]["notice_sent_at"] is not None and body["case"]["notice_late"] is False
    assert {p["name"] for p in body["case"]["participants"]} >= {CONTACT_POINT}


@time_machine.travel(NOW, tick=False)
def test_retry_with_same_idempotency_key_is_answered_not_duplicated(ehr: Client) -> None:
    person = make_person("1480")
    first = post(ehr, "/", create_body(person.identifier), key="adm-42")
    second = post(ehr, "/", create_body(person.identifier), key="adm-42")
    assert first.status_code == second.status_code == 201
    assert second.json()["acknowledgement"]["replayed"] is True
    assert second.json()["case"]["id"] == first.json()["case"]["id"]
    assert Case.objects.filter(person=person).count() == 1
    assert CaseEvent.objects.filter(case__person=person, kind="admission_notice_sent").count() == 1


@time_machine.travel(NOW, tick=False)
def test_same_key_with_a_different_body_is_refused(ehr: Client) -> None:
    person = make_person("1480")
    post(ehr, "/", create_body(person.identifier), key="adm-43")
    response = post(ehr, "/", create_body(person.identifier, external_id="EHR-2"), key="adm-43")
    assert response.status_code == 422
    ack = response.json()["acknowledgement"]
    assert ack["code"] == "fatal-error" and ack["problems"][0]["rule"] == "IDEMPOTENS"
    assert Case.objects.filter(person=person).count() == 1


@time_machine.travel(NOW, tick=False)
def test_expected_date_retry_writes_one_event_R_INS_5(ehr: Client) -> None:
    person = make_person("1480")
    case_id = post(ehr, "/", create_body(person.identifier)).json()["case"]["id"]
    body = {"expected_discharge_date": "2026-11-16", "reason": "complication"}
    for _ in range(3):
        response = post(ehr, f"/{case_id}/expected-date", body, key="date-1")
        assert (
            response.status_code == 200 and response.json()["case"]["expected_discharge_date"] == "2026-11-16"
        )
    assert CaseEvent.objects.filter(case_id=case_id, kind="expected_date_changed").count() == 1


@time_machine.travel(NOW, tick=False)
def test_bad_input_is_a_fatal_error_naming_the_rule_and_writes_nothing(ehr: Client) -> None:
    person = make_person("1480")
    response = post(ehr, "/", create_body(person.identifier, expected_discharge_date=None), key="bad-1")
    assert response.status_code == 400
    ack = response.json()["acknowledgement"]
    assert ack["code"] == "fatal-error"
    assert {"field": "expected_discharge_date", "rule": "R-INS-4"} in [
        {k: p[k] for k in ("field", "rule")} for p in ack["problems"]
    ]
    assert not Case.objects.filter(
        person=person
    ).exists()  # the notice failed, so the admission rolled back too
    again = post(ehr, "/", create_body(person.identifier, expected_discharge_date=None), key="bad-1")
    assert again.status_code == 400 and again.json()["acknowledgement"]["replayed"] is True


@time_machine.travel(NOW, tick=False)
def test_system_token_cannot_set_discharge_ready_but_physician_token_can_R_DEF_UK_1(ehr: Client) -> None:
    person = make_person("1480")
    case_id = post(ehr, "/", create_body(person.identifier)).json()["case"]["id"]
    refused = post(ehr, f"/{case_id}/discharge-ready", {})
    assert refused.status_code == 403
    assert refused.json()["acknowledgement"]["problems"][0]["rule"] == "R-DEF-UK-1"
    doctor = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(Role.PHYSICIAN, WARD)}")
    ready = post(doctor, f"/{case_id}/discharge-ready", {"at": (NOW - dt.timedelta(minutes=5)).isoformat()})
    assert ready.status_code == 200
    assert ready.json()["case"]["discharge_ready_at"].startswith("2026-11-10T08:55")


@time_machine.travel(NOW, tick=False)
def test_discharge_before_information_is_refused_then_accepted_R_UTS_1(ehr: Client) -> None:
    person = make_person("1480")
    case_id = post(ehr, "/", create_body(person.identifier)).json()["case"]["id"]
    refused = post(ehr, f"/{case_id}/discharge", {})
    assert refused.status_code == 400
    assert {p["rule"] for p in refused.json()["acknowledgement"]["problems"]} == {"R-UTS-1", "R-UTS-2"}
    assert post(ehr, f"/{case_id}/discharge-info", {"summary_given": True}).status_code == 200
    done = post(ehr, f"/{case_id}/discharge", {"destination": "Hemmet"})
    assert done.status_code == 200 and done.json()["case"]["status"] == "discharged"
    events = ehr.get(f"/api/v1/cases/{case_id}/events").json()
    assert [e["kind"] for e in events][-2:] == ["discharged", "discharge_notice_sent"]


@time_machine.travel(NOW, tick=False)
def test_other_units_case_is_not_found(ehr: Client) -> None:
    person = make_person("1480")
    case_id = post(ehr, "/", create_body(person.identifier)).json()["case"]["id"]
    stranger = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(Role.SYSTEM, 'NÄL, medicinavdelning')}")
    assert stranger.get(f"/api/v1/cases/{case_id}").status_code == 404
    response = post(
        stranger,
        f"/{case_id}/expected-date",
        {"expected_discharge_date": "2026-11-20", "reason": "other", "comment": "x"},
    )
    assert response.status_code == 404 and response.json()["acknowledgement"]["code"] == "fatal-error"
    assert not CaseEvent.objects.filter(case_id=case_id, kind="expected_date_changed").exists()


@time_machine.travel(NOW, tick=False)
def test_batch_runs_each_item_in_its_own_transaction_and_is_idempotent(ehr: Client) -> None:
    a, b = make_person("1480"), make_person("1480")
    items = [
        {"op": "create", "payload": create_body(a.identifier, external_id="B-1")},
        {"op": "create", "payload": create_body(b.identifier, external_id="B-2", care_type="dental")},
        {
            "op": "expected_date",
            "external_id": "B-1",
            "payload": {"expected_discharge_date": "2026-11-15", "reason": "patient_wish"},
        },
    ]
    response = post(ehr, "/batch", {"items": items}, key="batch-1")
    assert response.status_code == 200
    body = response.json()
    assert [i["acknowledgement"]["code"] for i in body["items"]] == ["ok", "fatal-error", "ok"]
    assert body["acknowledgement"]["code"] == "fatal-error"
    assert body["items"][1]["acknowledgement"]["problems"][0]["field"] == "care_type"
    assert Case.objects.filter(person=a).exists() and not Case.objects.filter(person=b).exists()
    again = post(ehr, "/batch", {"items": items}, key="batch-1").json()
    assert [
        i["acknowledgement"]["replayed"] for i in again["items"] if i["acknowledgement"]["code"] == "ok"
    ] == [True, True]
    assert Case.objects.filter(person=a).count() == 1
    assert CaseEvent.objects.filter(case__person=a, kind="expected_date_changed").count() == 1
    assert IdempotencyRecord.objects.filter(key__startswith="batch-1:").count() == 2


def test_openapi_documents_the_case_endpoints(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/{case_id}/expected-date",
        "/api/v1/cases/{case_id}/discharge-ready",
        "/api/v1/cases/batch",
    ):
        assert path in paths, path
    assert "AckOut" in schema["components"]["schemas"]


@time_machine.travel(NOW, tick=False)
def test_database_trouble_is_a_transient_error_and_the_retry_runs_again(ehr: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.db import OperationalError

    from brygga.cases import services

    person = make_person("1480")
    case_id = post(ehr, "/", create_body(person.identifier)).json()["case"]["id"]
    real = services.change_expected_date

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "change_expected_date", flaky)
    body = {"expected_discharge_date": "2026-11-16", "reason": "complication"}
    response = post(ehr, f"/{case_id}/expected-date", body, key="flaky-1")
    assert response.status_code == 503 and response.json()["acknowledgement"]["code"] == "transient-error"
    assert not IdempotencyRecord.objects.filter(key="flaky-1").exists()
    monkeypatch.setattr(services, "change_expected_date", real)
    retry = post(ehr, f"/{case_id}/expected-date", body, key="flaky-1")
    assert retry.status_code == 200 and retry.json()["acknowledgement"]["replayed"] is False
    assert CaseEvent.objects.filter(case_id=case_id, kind="expected_date_changed").count() == 1


@time_machine.travel(NOW, tick=False)
def test_withdraw_discharge_ready_through_the_api_R_UK_2(ehr: Client) -> None:
    person = make_person("1480")
    case_id = post(ehr, "/", create_body(person.identifier)).json()["case"]["id"]
    doctor = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(Role.PHYSICIAN, WARD)}")
    assert post(doctor, f"/{case_id}/discharge-ready", {}).status_code == 200
    refused = post(doctor, f"/{case_id}/discharge-ready/withdraw", {"reason": " "})
    assert refused.status_code == 400 and refused.json()["acknowledgement"]["problems"][0]["rule"] == "R-UK-2"
    done = post(doctor, f"/{case_id}/discharge-ready/withdraw", {"reason": "Försämrad"}, key="wd-1")
    assert done.status_code == 200 and done.json()["case"]["discharge_ready_at"] is None
    kinds = [e["kind"] for e in ehr.get(f"/api/v1/cases/{case_id}/events").json()]
    assert kinds.count("discharge_ready_withdrawn") == 1


@time_machine.travel(NOW, tick=False)
def test_leave_correction_and_cancellation_through_the_api(ehr: Client) -> None:
    person = make_person("1480")
    case_id = post(ehr, "/", create_body(person.identifier)).json()["case"]["id"]
    assert (
        post(ehr, f"/{case_id}/leave", {"expected_return": "2026-11-11"}).json()["case"]["status"]
        == "on_leave"
    )
    assert post(ehr, f"/{case_id}/leave/end", {}).json()["case"]["status"] == "admitted"
    events = ehr.get(f"/api/v1/cases/{case_id}/events").json()
    admitted = next(e["id"] for e in events if e["kind"] == "admitted")
    corrected = post(
        ehr,
        f"/{case_id}/notices/correct",
        {
            "target_event": admitted,
            "new_time": (NOW - dt.timedelta(hours=5)).isoformat(),
            "reason": "Fel tid",
        },
    )
    assert corrected.status_code == 200
    assert corrected.json()["case"]["admitted_at"].startswith("2026-11-10T04:00")
    notice = next(e["id"] for e in events if e["kind"] == "admission_notice_sent")
    cancelled = post(
        ehr, f"/{case_id}/notices/cancel", {"target_event": notice, "reason": "wrong_stay"}, key="an-1"
    )
    assert cancelled.status_code == 200 and cancelled.json()["case"]["notice_sent_at"] is None
    again = post(
        ehr, f"/{case_id}/notices/cancel", {"target_event": notice, "reason": "wrong_stay"}, key="an-2"
    )
    assert again.status_code == 409 and again.json()["acknowledgement"]["problems"][0]["rule"] == "FEL-STATUS"
    unknown_ward = post(ehr, f"/{case_id}/transfer", {"to_ward": "SE2321000131-XXXX"})
    assert unknown_ward.status_code == 400
    assert unknown_ward.json()["acknowledgement"]["problems"][0]["rule"] == "OKAND-ENHET"


@time_machine.travel(NOW, tick=False)
def test_inbox_list_uses_a_constant_number_of_queries(ehr: Client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(12):
        post(ehr, "/", create_body(make_person("1480").identifier, external_id=f"Q-{n}"))
    with django_assert_max_num_queries(12):
        response = ehr.get("/api/v1/cases/")
    assert response.status_code == 200 and len(response.json()) == 12


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("to_ward", ["²", "①", "99999999999999999999999"])
def test_transfer_to_a_ward_named_by_digits_int_cannot_read_is_refused_not_a_server_error(
    ehr: Client, to_ward: str
) -> None:
    """Found by Schemathesis in CI: "²" is ``str.isdigit()`` but not a number ``int()`` reads, so the unit
    look-up raised (500). Ids are now checked with ``isdecimal()`` (exactly what ``int()`` reads) everywhere:
    an unknown ward is OKAND-ENHET and the stay is unchanged."""
    case_id = post(ehr, "/", create_body(make_person("1480").identifier)).json()["case"]["id"]
    ward_before = Case.objects.get(pk=case_id).ward_id
    refused = post(ehr, f"/{case_id}/transfer", {"to_ward": to_ward})
    assert refused.status_code == 400
    assert refused.json()["acknowledgement"]["problems"][0]["rule"] == "OKAND-ENHET"
    assert Case.objects.get(pk=case_id).ward_id == ward_before
    assert not CaseEvent.objects.filter(case_id=case_id, kind="transferred").exists()
