"""Batch-ingested events notify like single ones (issue 18): ``POST /api/v1/cases/batch`` writes its events
with bulk_create (no post_save); the ingest announces them with ``events_recorded(bulk=True)`` and the
receiving side queues the same notifications as for ``POST /api/v1/cases/`` — set-based, a fixed number of
statements per batch — after the transaction commits (R-INS-2, R-INS-7: the notice reaches the units)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from brygga.accounts.permissions import Role
from brygga.cases.models import Case, CaseEvent
from brygga.receiving import notify
from brygga.receiving.models import Notification
from tests.factories import CONTACT_POINT, PRIMARY_CARE, actor, make_person
from tests.test_cases_api import NOW, create_body, ehr, post  # noqa: F401  (ehr is a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def receivers() -> dict[str, Any]:
    made = {}
    for name, role, unit_name in (
        ("kp", Role.MUNICIPAL_CONTACT, CONTACT_POINT),
        ("vc", Role.CARE_COORDINATOR, PRIMARY_CARE),
    ):
        a = actor(role, unit_name, username=f"batch-{name}")
        a.user.email = f"{name}@brygga.example"
        a.user.save(update_fields=["email"])
        made[name] = a.user
    return made


def _shape(case: Case) -> list[tuple[str, str, str, bool, str]]:
    """A case's notifications, without ids: (user, channel, kind of event, urgent, link path)."""
    kinds = dict(CaseEvent.objects.filter(case=case).values_list("pk", "kind"))
    return sorted(
        (
            n.user.username,
            n.channel,
            kinds[int(n.source.split(":")[1])],
            n.urgent,
            n.link.split("/arenden/")[1].replace(str(case.pk), "ID"),
        )
        for n in Notification.objects.filter(source__in=[f"case_event:{pk}" for pk in kinds]).select_related(
            "user"
        )
    )


@time_machine.travel(NOW, tick=False)
def test_a_batch_notifies_the_receiving_units_as_the_single_path_does_R_INS_7(
    ehr: Client,  # noqa: F811
    receivers: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    single = make_person("1480")
    with django_capture_on_commit_callbacks(execute=True):
        assert post(ehr, "/", create_body(single.identifier, external_id="S-1")).status_code == 201
    expected = _shape(Case.objects.get(person=single))
    # The notice reaches the contact point's and the vårdcentral's users (the admission itself is silent).
    assert {(u, kind) for u, _c, kind, _urgent, _l in expected} == {
        ("batch-kp", "admission_notice_sent"),
        ("batch-vc", "admission_notice_sent"),
    }

    persons = [make_person("1480") for _ in range(4)]
    items = [
        {"op": "create", "payload": create_body(p.identifier, external_id=f"B-{n}")}
        for n, p in enumerate(persons)
    ]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(ehr, "/batch", {"items": items}, key="notify-1")
    assert response.status_code == 200 and response.json()["acknowledgement"]["code"] == "ok"
    assert callbacks, "nothing was scheduled after the batch's commit"
    for person in persons:
        assert _shape(Case.objects.get(person=person)) == expected
    assert Notification.objects.count() == 2 * 5

    # A replayed batch (same Idempotency-Key) writes nothing and queues nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert post(ehr, "/batch", {"items": items}, key="notify-1").status_code == 200
    assert Notification.objects.count() == 10


@time_machine.travel(NOW, tick=False)
def test_a_refused_batch_item_notifies_nobody_and_a_rolled_back_batch_queues_nothing(
    ehr: Client,  # noqa: F811
    receivers: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    good = make_person("1480")
    items = [
        {"op": "create", "payload": create_body(good.identifier, external_id="G-1")},
        {"op": "create", "payload": create_body("19121212-1212", external_id="BAD-1")},  # no such person
    ]
    with django_capture_on_commit_callbacks(execute=True):
        body = post(ehr, "/batch", {"items": items}, key="notify-2").json()
    assert [i["status"] for i in body["items"]][0] == 201 and body["items"][1]["status"] >= 400
    case = Case.objects.get(person=good)
    assert {n.source for n in Notification.objects.all()} == {
        f"case_event:{e.pk}" for e in CaseEvent.objects.filter(case=case, kind="admission_notice_sent")
    }
    # Without the commit (callbacks not run) nothing is queued: notifications follow the transaction.
    other = make_person("1480")
    before = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=False):
        post(
            ehr,
            "/batch",
            {"items": [{"op": "create", "payload": create_body(other.identifier, external_id="N-1")}]},
        )
    assert Notification.objects.count() == before


@time_machine.travel(NOW, tick=False)
def test_batch_notification_statements_do_not_grow_with_the_number_of_events(
    ehr: Client,  # noqa: F811
    receivers: dict[str, Any],
) -> None:
    """notify_case_events: one query for the participants, two for the users (with their units) and their
    preferences, one insert — the same for 2 cases as for 8."""
    counts = []
    for size, tag in ((2, "a"), (8, "b")):
        persons = [make_person("1480") for _ in range(size)]
        items = [
            {"op": "create", "payload": create_body(p.identifier, external_id=f"{tag}-{n}")}
            for n, p in enumerate(persons)
        ]
        assert post(ehr, "/batch", {"items": items}, key=f"count-{tag}").status_code == 200
        events = list(CaseEvent.objects.filter(case__person__in=persons))
        assert len(events) == 2 * size
        with CaptureQueriesContext(connection) as ctx:
            queued = notify.notify_case_events(events)
        assert queued == 2 * size  # a notice per case, to the contact point's and the vårdcentral's user
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 4, counts


# --- pruning delivered notifications (ADR 0907) -------------------------------------------------------------


def _notification(
    user: Any, unit: Any, source: str, status: str, sent_at: Any, created_at: Any
) -> Notification:
    return Notification.objects.create(
        user=user,
        unit=unit,
        channel=Notification.Channel.EMAIL,
        address="x@brygga.example",
        urgent=False,
        subject="brygga: ny händelse",
        link="http://127.0.0.1:8000/arenden/1/",
        source=source,
        status=status,
        sent_at=sent_at,
        next_attempt_at=created_at,
        created_at=created_at,
    )


def test_delivered_notifications_older_than_the_configured_age_are_pruned(
    receivers: dict[str, Any], settings: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from brygga.organisations.models import Unit
    from brygga.receiving.models import SentSms

    settings.BRYGGA_NOTIFICATION_RETENTION_DAYS = 30
    now = timezone.now()
    day = dt.timedelta(days=1)
    user, unit = receivers["kp"], Unit.objects.get(name=CONTACT_POINT)
    old_sent = _notification(user, unit, "a", "sent", now - 31 * day, now - 32 * day)
    young_sent = _notification(user, unit, "b", "sent", now - 29 * day, now - 29 * day)
    old_failed = _notification(user, unit, "c", "failed", None, now - 60 * day)  # the admin must see it
    old_pending = _notification(user, unit, "d", "pending", None, now - 60 * day)
    old_sms = SentSms.objects.create(to="0701234567", text="brygga: ny händelse")
    SentSms.objects.filter(pk=old_sms.pk).update(sent_at=now - 31 * day)
    young_sms = SentSms.objects.create(to="0701234567", text="brygga: ny händelse")

    out = StringIO()
    call_command("prune_notifications", stdout=out)
    assert "notifications=1 sms=1 older_than_days=30" in out.getvalue()
    left = set(Notification.objects.values_list("pk", flat=True))
    assert left == {young_sent.pk, old_failed.pk, old_pending.pk} and old_sent.pk not in left
    assert set(SentSms.objects.values_list("pk", flat=True)) == {young_sms.pk}
    # Idempotent: a second run finds nothing.
    assert notify.prune_notifications() == {"notifications": 0, "sms": 0}
    # The age is configurable: at 7 days the younger delivered one goes too.
    settings.BRYGGA_NOTIFICATION_RETENTION_DAYS = 7
    assert notify.prune_notifications() == {"notifications": 1, "sms": 0}
    assert not Notification.objects.filter(pk=young_sent.pk).exists()
    # --enqueue hands it to the worker (the tests' task backend runs it at once).
    later = _notification(user, unit, "e", "sent", now - 8 * day, now - 8 * day)
    call_command("prune_notifications", "--enqueue", stdout=StringIO())
    assert not Notification.objects.filter(pk=later.pk).exists()


def test_a_bad_retention_age_is_refused(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.BRYGGA_NOTIFICATION_RETENTION_DAYS = 0
    with pytest.raises(ImproperlyConfigured):
        notify.prune_notifications()
