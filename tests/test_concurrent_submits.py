"""Issue 20 item 3, truly at the same time: two requests on two database connections, released together by a
barrier, through the whole stack (middleware, one-time form token or Idempotency-Key, the view's transaction,
the database constraint). Two wards admitting one person give one stay and a clear refusal (ETT-VARDTILLFALLE,
R-INS-1 one open stay per person, ADR 0108); a double sent message is one message; a double acknowledgement
is one event — for the web form (``form_token``, ADR 0803) and the API (``Idempotency-Key``, ADR 0106).

The requests must commit for the other connection to see them, so these tests run outside the usual
per-test transaction (``transaction=True``). SQLite lets one writer at a time, so the race cannot happen
there: the tests are skipped on SQLite and run on PostgreSQL (``.ci/run``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client, TransactionTestCase
from django.urls import reverse
from django.utils import timezone

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case, CaseEvent
from brygga.messaging import services as messaging
from brygga.messaging.models import Message
from tests.factories import OTHER_WARD, WARD, actor, make_person, share_consent
from tests.test_hardening import _form_token
from tests.test_messaging import auth

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs concurrent transactions (PostgreSQL); SQLite serialises writers, so there is no race",
    ),
    pytest.mark.django_db(transaction=True),
]

APPEND_ONLY = (
    "access_accesslogentry",
    "access_accesslogseal",
    "access_accesslogstamp",
    "access_accesslogprune",  # the retention boundaries (ADR 0409), append-only too
)
# The step of a transactional test's teardown that empties the database (django.test.TransactionTestCase).
FLUSH = "_fixture_teardown"


@pytest.fixture(autouse=True)
def committed_baseline(transactional_db: None) -> Iterator[None]:
    """Put the database back as the rest of the suite expects it (reference data and all) after a test that
    committed. Django's flush TRUNCATEs every table, which the access log's triggers refuse (ADR 0800), and
    would leave the reference data gone; so this test's flush switches the triggers off for the TRUNCATE,
    restores the rows that were there before, and switches them on again."""
    baseline = connection.creation.serialize_db_to_string()
    original = getattr(TransactionTestCase, FLUSH)
    yield

    def flush_and_restore(self: TransactionTestCase) -> None:
        setattr(TransactionTestCase, FLUSH, original)
        with connection.cursor() as cursor:
            for table in APPEND_ONLY:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")  # noqa: S608 - fixed names
        try:
            call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(baseline)
        finally:
            with connection.cursor() as cursor:
                for table in APPEND_ONLY:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")  # noqa: S608 - fixed names

    setattr(TransactionTestCase, FLUSH, flush_and_restore)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread (so on its own database connection), all released at the same
    instant; returns their results in order, or raises the first error."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request did not finish"
    if errors:
        raise errors[0]
    return results


@contextlib.contextmanager
def held_together(module: Any, name: str, parties: int = 2, wait: float = 3.0) -> Iterator[None]:
    """Every request that reaches ``module.name`` waits there for the others (at most ``wait`` seconds), so
    their transactions are open and past their own checks at the same time: the worst interleaving. A request
    that never gets there (held back by its token or key) lets the others go on after ``wait``."""
    original = getattr(module, name)
    inside = threading.Barrier(parties)

    def held(*args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            inside.wait(timeout=wait)
        return original(*args, **kwargs)

    setattr(module, name, held)
    try:
        yield
    finally:
        setattr(module, name, original)


def web(a: Actor) -> Client:
    client = Client()
    client.force_login(a.user)
    return client


def same_session(client: Client) -> Client:
    """A second tab of the same browser: same session cookie, same page."""
    twin = Client()
    twin.cookies = client.cookies
    return twin


def admission_token(client: Client) -> str:
    """The one-time token of the admission form (it posts to its own address, so has no action)."""
    page = client.get(reverse("cases:new")).content.decode()
    match = re.search(r'name="form_token" value="([0-9a-f]{32})"', page.split('name="identifier"', 1)[0])
    assert match is not None, "the admission form has no one-time token"
    return match.group(1)


def admission(identifier: str) -> dict[str, str]:
    now = timezone.localtime()
    return {
        "identifier": identifier,
        "admitted_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "care_type": "somatic",
        "expected_discharge_date": (now + dt.timedelta(days=5)).date().isoformat(),
        "need_assessed": "on",
    }


def noticed_case(nurse: Actor) -> Case:
    now = timezone.now()
    case = services.admit(
        nurse,
        make_person("1480"),
        admitted_at=now - dt.timedelta(hours=3),
        care_type="somatic",
        expected_discharge_date=(now + dt.timedelta(days=4)).date(),
        need_assessed_at=now - dt.timedelta(hours=3),
    )
    services.send_admission_notice(nurse, case)
    case.refresh_from_db()
    return case


def receiving_actor(case: Case) -> Actor:
    receiver = case.participants.filter(status="active").exclude(role="ward").select_related("unit").first()
    assert receiver is not None
    return actor(Role.MUNICIPAL_CONTACT, receiver.unit.name, username=f"kp-{case.pk}")


# --- one stay per person --------------------------------------------------------------------------------------


def test_two_wards_admitting_the_same_person_through_the_web_form_at_once_give_one_stay() -> None:
    """R-INS-1: both forms pass the open-stay check inside their own transaction; the partial unique index
    lets one commit, and the other ward gets the refusal page, not a server error and not a second stay."""
    person = make_person("1480")
    ours, theirs = (
        web(actor(Role.WARD_NURSE, WARD, "race-web-a")),
        web(actor(Role.WARD_NURSE, OTHER_WARD, "race-web-b")),
    )
    url = reverse("cases:new")
    tokens = [admission_token(c) for c in (ours, theirs)]
    # Both requests do reach admit: a long wait costs nothing, and on a loaded machine (CI) 3 s was not
    # always enough for the second to arrive before the first went on and committed (then it gets the
    # form's "already admitted" refusal, 400, instead of the race's 409).
    with held_together(services, "admit", wait=20):
        answers = at_once(
            lambda: ours.post(url, {**admission(person.identifier), "form_token": tokens[0]}),
            lambda: theirs.post(url, {**admission(person.identifier), "form_token": tokens[1]}),
        )
    assert sorted(a.status_code for a in answers) == [302, 409]
    assert Case.objects.filter(person=person, status__in=services.OPEN).count() == 1
    loser = next(a for a in answers if a.status_code == 409).content.decode()
    assert "pågående vårdtillfälle" in loser


def test_two_tabs_admitting_the_same_person_at_once_give_one_stay_and_the_loser_links_it() -> None:
    """The same ward in two tabs (two tokens): one stay; the refusal links the stay the ward takes part in."""
    person = make_person("1480")
    first = web(actor(Role.WARD_NURSE, WARD, "race-tabs"))
    second = same_session(first)
    url = reverse("cases:new")
    tokens = [admission_token(c) for c in (first, second)]
    with held_together(services, "admit"):
        answers = at_once(
            lambda: first.post(url, {**admission(person.identifier), "form_token": tokens[0]}),
            lambda: second.post(url, {**admission(person.identifier), "form_token": tokens[1]}),
        )
    assert sorted(a.status_code for a in answers) == [302, 409]
    case = Case.objects.get(person=person)
    loser = next(a for a in answers if a.status_code == 409).content.decode()
    assert f"ärende {case.pk}" in loser
    assert f'href="{reverse("cases:detail", args=[case.pk])}"' in loser


def test_two_systems_admitting_the_same_person_through_the_api_at_once_give_one_stay() -> None:
    person = make_person("1480")
    clients = [
        Client(**auth(actor(Role.SYSTEM, WARD, "ehr-a"))),
        Client(**auth(actor(Role.SYSTEM, OTHER_WARD, "ehr-b"))),
    ]
    body = {
        "identifier": person.identifier,
        "admitted_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "care_type": "somatic",
    }
    with held_together(services, "admit"):
        answers = at_once(
            *[
                lambda c=c, k=k: c.post(
                    "/api/v1/cases/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=k
                )  # type: ignore[misc]
                for c, k in zip(clients, ("adm-a", "adm-b"), strict=True)
            ]
        )
    assert sorted(a.status_code for a in answers) == [201, 409]
    loser = next(a for a in answers if a.status_code == 409).json()["acknowledgement"]
    assert loser["problems"][0]["rule"] == "ETT-VARDTILLFALLE"
    assert Case.objects.filter(person=person, status__in=services.OPEN).count() == 1


# --- a double sent message is one message ---------------------------------------------------------------------


def _message_setup() -> tuple[Actor, Case]:
    nurse = actor(Role.WARD_NURSE, WARD, "race-msg")
    case = noticed_case(nurse)
    receivers = case.participants.filter(status="active").exclude(role="ward").select_related("unit")
    share_consent(nurse, case.person, [p.unit for p in receivers], categories=["health"])
    return nurse, case


def test_a_message_form_sent_twice_at_once_is_one_message() -> None:
    nurse, case = _message_setup()
    first = web(nurse)
    second = same_session(first)
    action = reverse("cases:action", args=[case.pk, "message"])
    token = _form_token(first.get(reverse("cases:detail", args=[case.pk])).content.decode(), action)
    data = {
        "category": "healthcare",
        "subject": "Läkemedel",
        "body": "Ny dos från i morgon.",
        "form_token": token,
    }
    with held_together(messaging, "send_message"):
        answers = at_once(lambda: first.post(action, data), lambda: second.post(action, data))
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert Message.objects.filter(thread__case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, kind="message_sent").count() == 1


def test_a_message_sent_twice_at_once_through_the_api_with_one_key_is_one_message() -> None:
    nurse, case = _message_setup()
    headers = auth(nurse)
    url = f"/api/v1/cases/{case.pk}/messages"
    body = {"body": "Ny dos från i morgon.", "category": "nursing", "subject": "Läkemedel"}

    def send() -> Any:
        return Client().post(
            url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="msg-1", **headers
        )

    with held_together(messaging, "send_message"):
        answers = at_once(send, send)
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["message"]["id"] == answers[1].json()["message"]["id"]
    assert Message.objects.filter(thread__case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, kind="message_sent").count() == 1


# --- a double acknowledgement is one event --------------------------------------------------------------------


def test_an_acknowledgement_form_sent_twice_at_once_is_one_event() -> None:
    case = noticed_case(actor(Role.WARD_NURSE, WARD, "race-ack"))
    contact = receiving_actor(case)
    first = web(contact)
    second = same_session(first)
    action = reverse("cases:action", args=[case.pk, "acknowledge"])
    token = _form_token(first.get(reverse("cases:detail", args=[case.pk])).content.decode(), action)
    with held_together(services, "acknowledge"):
        answers = at_once(
            lambda: first.post(action, {"form_token": token}),
            lambda: second.post(action, {"form_token": token}),
        )
    assert [a.status_code for a in answers] == [302, 302]
    assert CaseEvent.objects.filter(case=case, kind="acknowledged").count() == 1


def test_an_acknowledgement_sent_twice_at_once_through_the_api_with_one_key_is_one_event() -> None:
    case = noticed_case(actor(Role.WARD_NURSE, WARD, "race-ack-api"))
    headers = auth(receiving_actor(case))

    def acknowledge() -> Any:
        return Client().post(
            f"/api/v1/cases/{case.pk}/acknowledge",
            {},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="ack-1",
            **headers,
        )

    with held_together(services, "acknowledge"):
        answers = at_once(acknowledge, acknowledge)
    assert [a.status_code for a in answers] == [200, 200]
    assert sorted(a.json()["acknowledgement"]["replayed"] for a in answers) == [False, True]
    assert CaseEvent.objects.filter(case=case, kind="acknowledged").count() == 1


def test_the_reused_case_lock_holds_a_second_writer_until_the_first_commits() -> None:
    """Issue 17 (``lock_case`` is a statement compiled once, ADR 0707): the kept text still locks the row. A
    second transaction's ``lock_case`` of the same case waits until the first commits; and outside a
    transaction, where the lock would hold nothing, ``lock_case`` is refused (the reused statement skips
    the ORM's own refusal)."""
    from django.db import transaction

    from brygga.cases.services.common import lock_case

    nurse = actor(Role.WARD_NURSE, WARD, "race-lock")
    case = noticed_case(nurse)
    with pytest.raises(transaction.TransactionManagementError):
        lock_case(case)
    order: list[str] = []
    first_locked, release = threading.Event(), threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                lock_case(case)
                order.append("first locked")
                first_locked.set()
                release.wait(20)
                order.append("first commits")
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_locked.wait(20)
            with transaction.atomic():
                lock_case(case)
                order.append("second locked")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_locked.wait(20)
    time.sleep(1.0)  # the second has had a second to take the lock: it must still be waiting
    assert order == ["first locked"]
    release.set()
    for thread in threads:
        thread.join(30)
    assert order == ["first locked", "first commits", "second locked"]
