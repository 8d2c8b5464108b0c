"""The delivery-log page for the subscriber's administrator (issue 19 item 4): the principal's subscriptions
with status, latest notifications, attempts, errors and the next retry; "Försök igen nu" and "Anslut igen"
through ``delivery_log.retry_now``; another principal's administrator and other roles see nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
import time_machine
from django.test import Client

from brygga.accounts.permissions import Role
from brygga.fhir.models import Notification, Subscription
from brygga.fhir.subscriptions import TOPICS
from tests.factories import CONTACT_POINT, WARD, actor, make_person
from tests.fhir_helpers import FHIR_JSON, Receiver, encounter_body, task_body, token_for, valid

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
PAGE = "/integration/prenumerationer/"


@pytest.fixture(autouse=True)
def plain_http(settings: Any) -> None:
    settings.BRYGGA_FHIR_REQUIRE_HTTPS = False


def api(unit_name: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(Role.SYSTEM, unit_name)}")


def signed_in(role: Role, unit_name: str, username: str) -> Client:
    client = Client()
    client.force_login(actor(role, unit_name, username=username).user)
    return client


def subscribe(endpoint: str) -> dict[str, Any]:
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Kommunens verksamhetssystem",
        "criteria": TOPICS["admission-notice"].url,
        "channel": {"type": "rest-hook", "endpoint": endpoint, "payload": FHIR_JSON},
    }
    response = api(CONTACT_POINT).post("/fhir/r4/Subscription", json.dumps(body), content_type=FHIR_JSON)
    assert response.status_code == 201
    return valid(response.json())


def admission_notice(ehr_id: str = "EHR-1") -> None:
    ehr = api(WARD)
    person = make_person("1480")
    identifier = [{"system": "urn:oid:1.2.752.99.1", "value": ehr_id}]
    case_id = ehr.post(
        "/fhir/r4/Encounter",
        json.dumps(encounter_body(person.identifier, NOW - dt.timedelta(hours=3), identifier=identifier)),
        content_type=FHIR_JSON,
    ).json()["id"]
    ehr.post(
        "/fhir/r4/Task", json.dumps(task_body("inskrivningsmeddelande", case_id)), content_type=FHIR_JSON
    )


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@time_machine.travel(NOW, tick=False)
def test_the_administrator_sees_the_failing_delivery_and_retries_it_now() -> None:
    with Receiver() as receiver:
        sub = subscribe(receiver.url)
        receiver.answers = [500]
        admission_notice()
        from brygga.fhir.subscriptions import deliver

        assert deliver(int(sub["id"])) == 0
        notification = Notification.objects.get(subscription_id=sub["id"])
        assert notification.attempts == 1 and notification.next_attempt_at == NOW + dt.timedelta(seconds=5)
        admin = signed_in(Role.LOCAL_ADMIN, CONTACT_POINT, "admin-gbg")
        page = admin.get(PAGE)
        assert page.status_code == 200
        shown = text(page)
        assert f"Prenumeration {sub['id']}: Inskrivningsmeddelande — {CONTACT_POINT}" in shown
        assert "Nr 1: 1 försök, senast HTTP 500. Nästa försök 2026-11-10" in shown
        assert notification.focus in shown and "Misslyckad, försöks igen" in shown
        html = page.content.decode()
        assert f'href="{PAGE}" aria-current="page">Integrationer</a>' in html  # in the menu of its role
        assert '<th scope="col">' in html and "<caption>" in html
        assert f'aria-describedby="sub-{sub["id"]}"' in html
        # "Försök igen nu": due at once and handed to the worker (here the immediate backend), in order.
        response = admin.post(f"{PAGE}{sub['id']}/forsok-igen")
        assert response.status_code == 302
        notification.refresh_from_db()
        assert notification.status == Notification.Status.DELIVERED and notification.attempts == 2
        assert len(receiver.received) == 1
        assert "Levererad" in text(admin.get(PAGE))


@time_machine.travel(NOW, tick=False)
def test_a_subscription_in_error_is_connected_again_with_a_new_handshake() -> None:
    with Receiver() as receiver:
        receiver.control_answers = [503]
        sub = subscribe(receiver.url)
        assert sub["status"] == "error"
        admin = signed_in(Role.LOCAL_ADMIN, CONTACT_POINT, "admin-gbg")
        shown = text(admin.get(PAGE))
        assert "Fel: mottagaren godtog inte anslutningen" in shown and "handshake: HTTP 503" in shown
        assert "Anslut igen" in shown
        admin.post(f"{PAGE}{sub['id']}/forsok-igen")
        assert Subscription.objects.get(pk=sub["id"]).status == Subscription.Status.ACTIVE
        assert [b["entry"][0]["resource"]["type"] for b in receiver.control] == ["handshake", "handshake"]
        assert "Aktiv" in text(admin.get(PAGE))


@time_machine.travel(NOW, tick=False)
def test_another_principals_administrator_and_other_roles_see_nothing_and_retry_nothing() -> None:
    sub = subscribe("http://127.0.0.1:9/hook")
    Subscription.objects.filter(pk=sub["id"]).update(status=Subscription.Status.ERROR, last_error="x")
    other = signed_in(Role.LOCAL_ADMIN, "Borås kontaktpunkt", "admin-boras")
    page = other.get(PAGE)
    assert page.status_code == 200 and f"Prenumeration {sub['id']}" not in text(page)
    assert "Era enheter har inga prenumerationer" in text(page)
    assert other.post(f"{PAGE}{sub['id']}/forsok-igen").status_code == 404
    assert Subscription.objects.get(pk=sub["id"]).status == Subscription.Status.ERROR  # nothing changed
    nurse = signed_in(Role.MUNICIPAL_CONTACT, CONTACT_POINT, "kontakt")
    assert PAGE not in nurse.get("/").content.decode()
    assert nurse.get(PAGE).status_code == 403
    assert nurse.post(f"{PAGE}{sub['id']}/forsok-igen").status_code == 403
    assert Subscription.objects.get(pk=sub["id"]).status == Subscription.Status.ERROR


def test_a_subscription_turned_off_cannot_be_retried() -> None:
    sub = subscribe("http://127.0.0.1:9/hook")
    Subscription.objects.filter(pk=sub["id"]).update(status=Subscription.Status.OFF)
    admin = signed_in(Role.LOCAL_ADMIN, CONTACT_POINT, "admin-gbg")
    assert "Anslut igen" not in text(admin.get(PAGE))
    response = admin.post(f"{PAGE}{sub['id']}/forsok-igen", follow=True)
    assert "Prenumerationen är avslutad och kan inte försökas igen." in text(response)
    assert Subscription.objects.get(pk=sub["id"]).status == Subscription.Status.OFF


def test_fhir_prune_deletes_old_delivered_notifications_and_keeps_pending_ones(settings) -> None:  # type: ignore[no-untyped-def]
    import io

    from django.core.management import call_command

    settings.FHIR_NOTIFICATION_BATCH = 1  # one notice a request, so one is delivered and one is left pending

    with time_machine.travel(NOW, tick=False), Receiver() as receiver:
        sub = subscribe(receiver.url)
        admission_notice("EHR-1")
        admission_notice("EHR-2")
        from brygga.fhir.subscriptions import deliver

        receiver.answers = [200, 500]
        deliver(int(sub["id"]))
    delivered, pending = Notification.objects.order_by("event_number")
    assert delivered.status == Notification.Status.DELIVERED and pending.status == Notification.Status.PENDING
    out = io.StringIO()
    with time_machine.travel(NOW + dt.timedelta(days=89), tick=False):
        call_command("fhir_prune", stdout=out)
    assert Notification.objects.count() == 2
    with time_machine.travel(NOW + dt.timedelta(days=91), tick=False):
        call_command("fhir_prune", stdout=out)
    assert list(Notification.objects.values_list("pk", flat=True)) == [pending.pk]
    assert out.getvalue().splitlines() == ["Gallrade notiser: 0", "Gallrade notiser: 1"]
