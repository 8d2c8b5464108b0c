"""Subscription handshake and heartbeat (R4B backport, issue 19 item 3), against a receiving server on
127.0.0.1 started by the test."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from brygga.accounts.permissions import Role
from brygga.fhir.models import Notification, Subscription
from brygga.fhir.subscriptions import (
    HEARTBEAT_PERIOD,
    TOPICS,
    deliver,
    overdue_heartbeats,
    send_heartbeats,
)
from tests.factories import CONTACT_POINT, WARD, make_person
from tests.fhir_helpers import FHIR_JSON, Receiver, encounter_body, task_body, token_for, valid

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def plain_http(settings: Any) -> None:
    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False


def client(unit_name: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(Role.SYSTEM, unit_name)}")


def subscribe(c: Client, endpoint: str, topic: str = "admission-notice", **channel: Any) -> Any:
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
            **channel,
        },
    }
    return c.post("/fhir/r4/Subscription", json.dumps(body), content_type=FHIR_JSON)


def heartbeat(seconds: int) -> dict[str, Any]:
    return {"extension": [{"url": HEARTBEAT_PERIOD, "valueUnsignedInt": seconds}]}


def notice(ehr: Client, ehr_id: str = "EHR-1") -> None:
    person = make_person("1480")
    body = encounter_body(person.identifier, NOW - dt.timedelta(hours=3))
    body["identifier"][0]["value"] = ehr_id
    created = ehr.post("/fhir/r4/Encounter", json.dumps(body), content_type=FHIR_JSON)
    ehr.post(
        "/fhir/r4/Task",
        json.dumps(task_body("inskrivningsmeddelande", created.json()["id"])),
        content_type=FHIR_JSON,
    )


@time_machine.travel(NOW, tick=False)
def test_a_subscription_is_active_only_after_its_handshake_was_answered_2xx() -> None:
    municipality = client(CONTACT_POINT)
    with Receiver() as receiver:
        response = subscribe(municipality, receiver.url)
        assert response.status_code == 201
        sub = valid(response.json())
    assert sub["status"] == "active"
    assert len(receiver.control) == 1 and receiver.received == []
    handshake = valid(receiver.control[0])
    status = handshake["entry"][0]["resource"]
    assert status["type"] == "handshake" and status["status"] == "requested"
    assert status["subscription"]["reference"] == f"Subscription/{sub['id']}"
    assert status["eventsSinceSubscriptionStart"] == "0" and "notificationEvent" not in status
    stored = Subscription.objects.get(pk=sub["id"])
    assert stored.status == Subscription.Status.ACTIVE and stored.last_sent_at == NOW


@time_machine.travel(NOW, tick=False)
def test_a_refused_handshake_leaves_the_subscription_in_error_and_it_hears_nothing() -> None:
    municipality, ehr = client(CONTACT_POINT), client(WARD)
    with Receiver() as receiver:
        receiver.control_answers = [500]
        response = subscribe(municipality, receiver.url)
        sub = valid(response.json())
        assert response.status_code == 201 and sub["status"] == "error"
        assert sub["error"] == "handshake: HTTP 500"
        notice(ehr)
        assert not Notification.objects.filter(subscription_id=sub["id"]).exists()
        status = valid(municipality.get(f"/fhir/r4/Subscription/{sub['id']}/$status").json())
        assert status["entry"][0]["resource"]["status"] == "error"
        assert status["entry"][0]["resource"]["error"] == [{"text": "handshake: HTTP 500"}]
    # An endpoint that does not answer at all is an error too, with the reason.
    dead = valid(subscribe(municipality, "http://127.0.0.1:9/hook").json())
    assert dead["status"] == "error" and dead["error"].startswith("handshake: ")


def test_heartbeat_period_is_checked(settings: Any) -> None:
    settings.BRYGGA_FHIR_MIN_HEARTBEAT_SECONDS = 60
    response = subscribe(client(CONTACT_POINT), "http://127.0.0.1:9/hook", **heartbeat(5))
    assert response.status_code == 422
    issue = valid(response.json())["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "FHIR-HJARTSLAG"
    assert not Subscription.objects.exists()


def test_heartbeats_when_nothing_was_sent_for_the_period(settings: Any) -> None:
    settings.BRYGGA_FHIR_MIN_HEARTBEAT_SECONDS = 60
    municipality, ehr = client(CONTACT_POINT), client(WARD)
    with Receiver() as receiver, time_machine.travel(NOW, tick=False) as clock:
        sub = valid(subscribe(municipality, receiver.url, **heartbeat(60)).json())
        assert sub["channel"]["extension"] == [{"url": HEARTBEAT_PERIOD, "valueUnsignedInt": 60}]
        pk = int(sub["id"])
        clock.shift(dt.timedelta(seconds=59))
        assert send_heartbeats(pk) == NOW + dt.timedelta(seconds=60)
        assert len(receiver.control) == 1  # only the handshake: not due yet
        clock.shift(dt.timedelta(seconds=2))
        next_due = send_heartbeats(pk)
        assert len(receiver.control) == 2
        beat = valid(receiver.control[1])["entry"][0]["resource"]
        assert beat["type"] == "heartbeat" and beat["status"] == "active"
        assert next_due == NOW + dt.timedelta(seconds=61 + 60)
        # A notification sent counts as a sign of life: the heartbeat moves a period on from it.
        clock.shift(dt.timedelta(seconds=30))
        notice(ehr)
        assert deliver(pk) == 1 and len(receiver.received) == 1
        clock.shift(dt.timedelta(seconds=31))
        send_heartbeats(pk)
        assert len(receiver.control) == 2
        # A receiver that refuses a heartbeat: recorded, the subscription stays active.
        clock.shift(dt.timedelta(seconds=60))
        receiver.control_answers = [503]
        send_heartbeats(pk)
        stored = Subscription.objects.get(pk=pk)
        assert stored.status == Subscription.Status.ACTIVE and stored.last_error == "heartbeat: HTTP 503"
        # The sweep restarts a heartbeat chain that broke (two periods without anything sent).
        assert overdue_heartbeats() == []
        clock.shift(dt.timedelta(seconds=121))
        assert overdue_heartbeats() == [pk]
        call_command("fhir_deliver", "--now", stdout=io.StringIO())
        assert len(receiver.control) == 4
        assert overdue_heartbeats() == []


def test_without_an_allow_list_no_subscription_is_accepted_ssrf(settings: Any) -> None:
    """Production's default: BRYGGA_FHIR_ENDPOINT_HOSTS empty and no BRYGGA_FHIR_ANY_ENDPOINT_HOST: fail closed."""
    settings.BRYGGA_FHIR_ANY_ENDPOINT_HOST = False
    settings.BRYGGA_FHIR_ENDPOINT_HOSTS = []
    response = subscribe(client(CONTACT_POINT), "http://127.0.0.1:9/hook")
    assert response.status_code == 422
    issue = valid(response.json())["issue"][0]
    assert issue["expression"] == ["Subscription.channel.endpoint"]
    assert not Subscription.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_redirect_is_not_followed_and_a_host_taken_off_the_list_gets_nothing(settings: Any) -> None:
    municipality, ehr = client(CONTACT_POINT), client(WARD)
    settings.BRYGGA_FHIR_ANY_ENDPOINT_HOST = False
    settings.BRYGGA_FHIR_ENDPOINT_HOSTS = ["127.0.0.1"]
    with Receiver() as receiver:
        receiver.control_answers = [302]
        redirected = valid(subscribe(municipality, receiver.url).json())
        assert redirected["status"] == "error" and redirected["error"] == "handshake: HTTP 302"
        sub = valid(subscribe(municipality, receiver.url).json())
        assert sub["status"] == "active"
        settings.BRYGGA_FHIR_ENDPOINT_HOSTS = ["kommun.example"]
        notice(ehr)
        assert deliver(int(sub["id"])) == 0 and receiver.seen == []
        failing = Notification.objects.get(subscription_id=sub["id"])
        assert "BRYGGA_FHIR_ENDPOINT_HOSTS" in failing.last_error and failing.attempts == 1


def test_no_pile_of_tasks_for_a_subscriber_that_is_down_or_being_served(monkeypatch: Any) -> None:
    """At 100 events/s every commit asked for a delivery task per subscription: a subscriber that was down
    re-queued a deferred task on every event, and one being served got tasks that found nothing to do (the
    worker then served the live subscription late). Now the failed attempt alone schedules the retry (and a
    commit while it is pending queues nothing), and a subscription whose delivery is running (its lease held)
    gets no new task: the running one looks again."""
    from brygga.fhir import subscriptions as subs
    from brygga.fhir import tasks

    queued: list[tuple[int, Any]] = []

    class Recorder:
        def __init__(self, run_after: Any = None) -> None:
            self.run_after = run_after

        def using(self, run_after: Any = None) -> Recorder:
            return Recorder(run_after)

        def enqueue(self, pk: int) -> None:
            queued.append((pk, self.run_after))

        def get_backend(self) -> Any:
            return type("Backend", (), {"supports_defer": True})()

    monkeypatch.setattr(tasks, "deliver_notifications_task", Recorder())
    with time_machine.travel(NOW, tick=False), Receiver() as receiver:
        ehr = client(WARD)
        pk = int(subscribe(client(CONTACT_POINT), receiver.url).json()["id"])
        receiver.answers = [500]
        notice(ehr)
        assert [q for q in queued if q[0] == pk and q[1] is None]  # the commit asked for a delivery
        queued.clear()
        assert subs.deliver(pk) == 0  # refused: the retry is scheduled once, deferred
        assert [q[0] for q in queued] == [pk] and queued[0][1] is not None
        retry_at = Subscription.objects.get(pk=pk).retry_at
        assert retry_at == queued[0][1]
        queued.clear()
        notice(ehr, "EHR-2")  # a new event while backing off: its commit queues no task at all ...
        assert queued == []
        assert subs.deliver(pk) == 0  # ... and a task that runs anyway finds the head not due
        assert [q for q in queued if q[1] is not None] == []  # and queues no second retry
        assert Notification.objects.filter(subscription_id=pk, status="pending").count() == 2
        queued.clear()
        Subscription.objects.filter(pk=pk).update(leased_until=NOW + dt.timedelta(seconds=30), retry_at=None)
        subs.enqueue_delivery([pk])  # being delivered right now: no new task
        assert queued == []
        Subscription.objects.filter(pk=pk).update(leased_until=None)
        subs.enqueue_delivery([pk])
        assert queued == [(pk, None)]
    # The retry, when due, sends both in order and the subscription is no longer backing off.
    with time_machine.travel(retry_at + dt.timedelta(seconds=1), tick=False), Receiver() as receiver:
        Subscription.objects.filter(pk=pk).update(endpoint=receiver.url)
        assert subs.deliver(pk) == 2
        assert Subscription.objects.get(pk=pk).retry_at is None


def test_the_sender_numbers_the_events_in_the_order_it_sees_them_without_gaps() -> None:
    """Issue 19: the writer of an event takes no lock on the subscription (it only inserts its outbox row), so
    writers of events do not wait for each other; the sender gives ``eventNumber`` under the lease, oldest row
    first, after the last number given. ``eventsSinceSubscriptionStart`` counts the rows still waiting for
    their number too."""
    with time_machine.travel(NOW, tick=False), Receiver() as receiver:
        ehr = client(WARD)
        municipality = client(CONTACT_POINT)
        pk = int(subscribe(municipality, receiver.url).json()["id"])
        notice(ehr, "EHR-1")
        notice(ehr, "EHR-2")
        rows = list(Notification.objects.filter(subscription_id=pk).order_by("pk"))
        assert [n.event_number for n in rows] == [None, None]
        assert Subscription.objects.get(pk=pk).events_since_start == 0

        def status() -> str:
            body = municipality.get(f"/fhir/r4/Subscription/{pk}/$status").json()
            return str(body["entry"][0]["resource"]["eventsSinceSubscriptionStart"])

        assert status() == "2"
        receiver.answers = [500]
        assert deliver(pk) == 0  # refused: numbered 1 and 2 in row order, waiting for the retry
        assert list(
            Notification.objects.filter(subscription_id=pk)
            .order_by("pk")
            .values_list("event_number", flat=True)
        ) == [1, 2]
        notice(ehr, "EHR-3")  # while backing off: written, not numbered yet
        assert status() == "3"
        retry_at = Subscription.objects.get(pk=pk).retry_at
        assert retry_at is not None
        with time_machine.travel(retry_at + dt.timedelta(seconds=1), tick=False):
            assert deliver(pk) == 3
    numbers = [
        e["eventNumber"] for b in receiver.received for e in b["entry"][0]["resource"]["notificationEvent"]
    ]
    assert numbers == ["1", "2", "3"]
    assert receiver.received[-1]["entry"][0]["resource"]["eventsSinceSubscriptionStart"] == "3"
    assert Subscription.objects.get(pk=pk).events_since_start == 3
    assert not Notification.objects.filter(event_number__isnull=True).exists()
