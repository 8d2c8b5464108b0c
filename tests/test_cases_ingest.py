"""API ingest of admissions (issue 3 item 12): the per-admission cost of ``POST /api/v1/cases/`` stays bounded,
and ``POST /api/v1/cases/batch`` admits its ``create`` items set-based — validated one by one, written in one
transaction — with the same rows, answers, access-log entries and idempotency as the single path."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import verify_access_log
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.core.models import IdempotencyRecord
from tests.factories import CONTACT_POINT, PRIMARY_CARE, make_person
from tests.test_cases_api import NOW, create_body, ehr, post  # noqa: F401  (ehr is a fixture)

pytestmark = pytest.mark.django_db


@time_machine.travel(NOW, tick=False)
def test_single_admission_with_notice_uses_a_bounded_number_of_statements(ehr: Client) -> None:  # noqa: F811
    """One admission + notice (R-INS-2, R-INS-7): 2 events, 3 participants, 3 involvements, 3 log entries."""
    warm = make_person("1480")
    assert post(ehr, "/", create_body(warm.identifier, external_id="warm"), key="warm").status_code == 201
    person = make_person("1480")
    with CaptureQueriesContext(connection) as ctx:
        response = post(ehr, "/", create_body(person.identifier), key="k-1")
    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in ctx.captured_queries]
    # 68 before issue 3 item 12 (incl. the token check and savepoints), 39 after: no N+1 in case_out, no
    # get_or_create + savepoint per receiver, the inbox columns written once per request.
    # 41: the FHIR subscriptions for the notice's topic are read once in the notice's transaction (outbox,
    # ADR 0601) on top of the 40 before it.
    assert len(statements) <= 41, "\n".join(statements)
    case = Case.objects.get(person=person)
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert Participant.objects.filter(case=case).count() == 3
    assert Involvement.objects.filter(source=case.source).count() == 3


def _rows(case: Case) -> dict[str, object]:
    """What an admission wrote, without ids and times that differ between two cases."""
    return {
        "status": case.status,
        "notice_late": case.notice_late,
        "sent": case.notice_sent_at is not None,
        "events": sorted((e.kind, sorted(k for k in e.data)) for e in CaseEvent.objects.filter(case=case)),
        "participants": sorted(
            (p.unit.name, p.role, p.addressing, p.needs_ack, p.case_status, p.next_due_at is not None)
            for p in Participant.objects.filter(case=case).select_related("unit")
        ),
        "involvements": sorted(i.unit_id for i in Involvement.objects.filter(source=case.source)),
        "log": sorted(
            (e.action, e.what.replace(f"case:{case.pk}", "case"), e.had_involvement)
            for e in AccessLogEntry.objects.filter(person=case.person)
        ),
    }


@time_machine.travel(NOW, tick=False)
def test_batch_of_creates_writes_what_the_single_path_writes_R_INS_2_R_INS_7(ehr: Client) -> None:  # noqa: F811
    """N create items -> N cases, each with exactly 2 events, 3 participants, 3 involvements and 3 access-log
    entries (look-up, admission, notice), the same rows as one POST /cases/ each; the access log verifies."""
    single = make_person("1480")
    assert post(ehr, "/", create_body(single.identifier, external_id="S-1")).status_code == 201
    persons = [make_person("1480") for _ in range(5)]
    items = [
        {"op": "create", "payload": create_body(p.identifier, external_id=f"N-{n}")}
        for n, p in enumerate(persons)
    ]
    log_before = AccessLogEntry.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        response = post(ehr, "/batch", {"items": items}, key="nb-1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["acknowledgement"]["code"] == "ok"
    assert [(i["index"], i["status"]) for i in body["items"]] == [(n, 201) for n in range(5)]
    cases = {c.person_id: c for c in Case.objects.filter(person__in=persons)}
    assert len(cases) == 5
    assert CaseEvent.objects.filter(case__in=cases.values()).count() == 10
    assert Participant.objects.filter(case__in=cases.values()).count() == 15
    assert Involvement.objects.filter(source__in=[c.source for c in cases.values()]).count() == 15
    assert AccessLogEntry.objects.count() - log_before == 15
    assert IdempotencyRecord.objects.filter(key__startswith="nb-1:").count() == 5
    expected = _rows(Case.objects.get(person=single))
    for person in persons:
        assert _rows(cases[person.pk]) == expected
    for item, person in zip(body["items"], persons, strict=True):
        assert item["case"]["id"] == cases[person.pk].pk
        assert {p["name"] for p in item["case"]["participants"]} >= {CONTACT_POINT, PRIMARY_CARE}
    assert verify_access_log() == []
    # Set-based: the statements do not grow with the number of items (5 items here).
    assert len(ctx.captured_queries) <= 30, len(ctx.captured_queries)


@time_machine.travel(NOW, tick=False)
def test_retry_of_the_same_batch_replays_and_duplicates_nothing(ehr: Client) -> None:  # noqa: F811
    persons = [make_person("1480") for _ in range(3)]
    items: list[dict[str, Any]] = [
        {
            "op": "create",
            "idempotency_key": f"r-{n}",
            "payload": create_body(p.identifier, external_id=f"R-{n}"),
        }
        for n, p in enumerate(persons)
    ]
    first = post(ehr, "/batch", {"items": items}).json()
    counts = (Case.objects.count(), CaseEvent.objects.count(), AccessLogEntry.objects.count())
    again = post(ehr, "/batch", {"items": items}).json()
    assert [i["acknowledgement"]["replayed"] for i in again["items"]] == [True, True, True]
    assert [i["case"]["id"] for i in again["items"]] == [i["case"]["id"] for i in first["items"]]
    assert (Case.objects.count(), CaseEvent.objects.count(), AccessLogEntry.objects.count()) == counts
    changed = [dict(items[0], payload={**items[0]["payload"], "care_type": "psychiatric"})]
    conflict = post(ehr, "/batch", {"items": changed}).json()["items"][0]
    assert conflict["status"] == 422 and conflict["acknowledgement"]["problems"][0]["rule"] == "IDEMPOTENS"
    assert Case.objects.count() == counts[0]


@time_machine.travel(NOW, tick=False)
def test_bad_items_are_reported_by_index_with_the_rule_and_do_not_stop_the_others(ehr: Client) -> None:  # noqa: F811
    a, b, c = make_person("1480"), make_person("1480"), make_person("1480", street_address="")
    items = [
        {"op": "create", "payload": create_body(a.identifier, external_id="X-1")},
        {"op": "create", "payload": create_body(b.identifier, external_id="X-1")},  # same external id
        {"op": "create", "payload": create_body(a.identifier, external_id="X-3")},  # a already admitted
        {"op": "create", "payload": create_body(c.identifier, external_id="X-4")},  # no address: R-INS-4
        {"op": "create", "payload": create_body("19121212-1212", external_id="X-5")},  # nobody
        {"op": "create", "payload": create_body(b.identifier, external_id="X-6")},
    ]
    log_before = AccessLogEntry.objects.count()
    body = post(ehr, "/batch", {"items": items}, key="bad-1").json()
    got = [
        (i["index"], i["status"], [p["rule"] for p in i["acknowledgement"]["problems"]])
        for i in body["items"]
    ]
    assert got == [
        (0, 201, []),
        (1, 400, ["DUBBLETT"]),
        (2, 400, ["ETT-VARDTILLFALLE"]),
        (3, 400, ["R-INS-4"]),
        (4, 404, ["OKAND-ARENDE"]),
        (5, 201, []),
    ]
    assert body["acknowledgement"]["code"] == "fatal-error"
    assert [p["field"] for p in body["acknowledgement"]["problems"]] == [
        "items.1",
        "items.2",
        "items.3",
        "items.4",
    ]
    assert Case.objects.filter(person=a).count() == 1 and Case.objects.filter(person=b).count() == 1
    assert not Case.objects.filter(person=c).exists()
    assert not Involvement.objects.filter(person=c).exists()
    assert AccessLogEntry.objects.count() - log_before == 6  # only the two admitted items are logged
    again = post(ehr, "/batch", {"items": items}, key="bad-1").json()
    assert [i["status"] for i in again["items"]] == [201, 400, 400, 400, 404, 201]
    assert Case.objects.filter(person__in=[a, b, c]).count() == 2
    assert verify_access_log() == []


@time_machine.travel(NOW, tick=False)
def test_batch_statements_do_not_grow_with_the_number_of_items(ehr: Client) -> None:  # noqa: F811
    counts = []
    for size, tag in ((2, "a"), (8, "b")):
        persons = [make_person("1480") for _ in range(size)]
        items = [
            {"op": "create", "payload": create_body(p.identifier, external_id=f"{tag}-{n}")}
            for n, p in enumerate(persons)
        ]
        with CaptureQueriesContext(connection) as ctx:
            assert (
                post(ehr, "/batch", {"items": items}, key=f"size-{tag}").json()["acknowledgement"]["code"]
                == "ok"
            )
        counts.append(len(ctx.captured_queries))
    assert counts[1] <= counts[0] <= 25, counts  # 21 and 20 when written
