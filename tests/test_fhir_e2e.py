"""Issue 19 end to end over HTTP against a running brygga (tests/e2e/harness.py), driven by a maintained FHIR
client (fhirpy): the ward's EHR creates the stay, sends the admission notice, the physician's system marks the
patient discharge-ready; the municipality's system, subscribed by rest-hook, receives both notifications from
the django-tasks DB worker, acknowledges its Task through FHIR, and the ward sees the acknowledgement on the
case page. Then the worker is killed (SIGKILL) in the middle of a delivery and nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fhirpy import SyncFHIRClient

from brygga.demo import personas
from brygga.fhir import systems
from brygga.fhir.subscriptions import TOPICS
from tests.e2e.harness import ROOT, E2EServer, choose_unit, login
from tests.fhir_helpers import Receiver, valid

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

MEDICINE = "Sahlgrenska, medicinavdelning"
CONTACT = "Göteborg kontaktpunkt"
LEASE_SECONDS = 2

SETUP = """
import json, datetime as dt
from brygga.accounts.models import ApiToken, Membership, User
from brygga.organisations.models import Unit
from brygga.access.persons import register_person
def member(username, unit, role):
    user, _ = User.objects.get_or_create(username=username, defaults={"first_name": "Sys", "last_name": username})
    m, _ = Membership.objects.get_or_create(user=user, unit=Unit.objects.get(name=unit),
                                            defaults={"role": role, "valid_from": dt.date(2000, 1, 1)})
    return ApiToken.issue(m, "e2e")[1]
physician = Membership.objects.get(user__username="lakare", unit__name=%(ward)r)
person = register_person(%(pnr)r, "Eva", "Endtoend", "Provgatan 2", "41301", "Göteborg",
                         municipality_code="1480",
                         listed_unit_hsa_id=Unit.objects.get(hsa_id__endswith="-VC1480").hsa_id)
print(json.dumps({"ehr": member("fhir-ehr", %(ward)r, "system"), "physician": ApiToken.issue(physician, "e2e")[1],
                  "municipality": member("fhir-kommun", %(contact)r, "system"), "contact_id": Unit.objects.get(name=%(contact)r).pk}))
"""


def setup(server: E2EServer, serial: int) -> dict[str, Any]:
    pnr = personas.test_number("19440707", serial)
    out = server.shell(SETUP % {"ward": MEDICINE, "contact": CONTACT, "pnr": pnr})
    return {**json.loads(out.splitlines()[-1]), "pnr": pnr}


def fhir(server: E2EServer, token: str) -> SyncFHIRClient:
    return SyncFHIRClient(f"{server.url}/fhir/r4", authorization=f"Bearer {token}")


def start_worker(server: E2EServer) -> subprocess.Popen[bytes]:
    env = {
        **server.env,
        "BRYGGA_FHIR_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
        "BRYGGA_FHIR_RETRY_BASE_SECONDS": "1",
    }
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "db_worker",
            "--queue-name",
            "*",
            "--no-reload",
            "--interval",
            "0.2",
            "--no-startup-delay",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(predicate: Any, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def subscribe(client: SyncFHIRClient, topic: str, endpoint: str) -> Any:
    sub = client.resource(
        "Subscription",
        status="requested",
        reason="Kommunens verksamhetssystem (e2e)",
        criteria=TOPICS[topic].url,
        channel={"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json"},
    )
    sub.save()
    return sub


def admit(ehr: SyncFHIRClient, pnr: str, encounter_id: str) -> Any:
    encounter = ehr.resource(
        "Encounter",
        identifier=[{"system": "urn:oid:1.2.752.99.1", "value": encounter_id}],
        status="in-progress",
        **{"class": {"system": systems.ACT_CODE, "code": "IMP"}},
        type=[{"coding": [{"system": systems.CARE_TYPE, "code": "somatic"}]}],
        subject={"identifier": {"system": systems.PERSONNUMMER, "value": pnr}},
        period={"start": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))},
        extension=[
            {
                "url": systems.PLANNED_END_DATE,
                "valueDateTime": time.strftime("%Y-%m-%d", time.gmtime(time.time() + 4 * 86400)),
            },
            {
                "url": systems.NEED_ASSESSED,
                "valueDateTime": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600)),
            },
        ],
    )
    encounter.create(identifier=encounter_id)  # conditional create on the EHR's id
    return encounter


def task(client: SyncFHIRClient, code: str, encounter_id: str) -> Any:
    resource = client.resource(
        "Task",
        status="requested",
        intent="order",
        code={"coding": [{"system": systems.TASK_CODES, "code": code}]},
        encounter={"reference": f"Encounter/{encounter_id}"},
    )
    resource.save()
    return resource


def test_ehr_creates_municipality_is_notified_acknowledges_and_the_ward_sees_it(
    e2e_server: E2EServer, workers: list[subprocess.Popen[bytes]], page: Any
) -> None:
    ids = setup(e2e_server, 981)
    ehr, physician, municipality = (fhir(e2e_server, ids[k]) for k in ("ehr", "physician", "municipality"))
    with Receiver() as receiver:
        subs = [subscribe(municipality, t, receiver.url) for t in ("admission-notice", "discharge-ready")]
        workers.append(start_worker(e2e_server))

        encounter = admit(ehr, ids["pnr"], "E2E-1")
        again = admit(ehr, ids["pnr"], "E2E-1")  # a retried create is the same stay
        assert again.id == encounter.id
        valid(dict(encounter.serialize()))
        task(ehr, "inskrivningsmeddelande", encounter.id)
        task(physician, "utskrivningsklar", encounter.id)

        wait_for(lambda: len(receiver.received) >= 2, what="two rest-hook notifications")
        for bundle in receiver.received:
            valid(bundle)
        focuses = receiver.focuses()
        assert len(focuses) == 2 and all(
            f.startswith("Task/") and f.endswith(f"-{ids['contact_id']}") for f in focuses
        )

        # The municipality reads its discharge-ready Task and acknowledges it through FHIR.
        discharge_ready = municipality.reference(reference=focuses[1]).to_resource()
        valid(dict(discharge_ready.serialize()))
        assert discharge_ready["code"]["coding"][0]["code"] == "utskrivningsklar"
        assert discharge_ready["status"] == "requested"
        discharge_ready["status"] = "received"
        discharge_ready.save(fields=["status"])
        assert municipality.reference(reference=focuses[1]).to_resource()["status"] == "received"
        inbox = (
            municipality.resources("Task")
            .search(owner=f"Organization/{ids['contact_id']}", status="requested")
            .fetch_all()
        )
        assert all(t["encounter"]["reference"] != f"Encounter/{encounter.id}" for t in inbox)
        for sub in subs:
            sub.delete()

    # The ward sees the acknowledgement on the case page.
    login(page, "sjukskoterska")
    if page.url.endswith("/enhet/"):
        page.get_by_label(MEDICINE).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Fortsätt").click()
    else:
        choose_unit(page, MEDICINE)
    page.goto(f"/arenden/{encounter.id}/")
    row = page.locator("#parts-title ~ table tr", has_text=CONTACT)
    acknowledged = row.locator("td").last.inner_text().strip()
    assert acknowledged not in ("", "—"), row.inner_text()


def test_a_worker_killed_mid_delivery_loses_nothing(
    e2e_server: E2EServer, workers: list[subprocess.Popen[bytes]]
) -> None:
    ids = setup(e2e_server, 982)
    ehr, municipality = fhir(e2e_server, ids["ehr"]), fhir(e2e_server, ids["municipality"])
    with Receiver() as receiver:
        sub = subscribe(municipality, "admission-notice", receiver.url)
        receiver.hold = True
        first = start_worker(e2e_server)
        workers.append(first)
        encounter = admit(ehr, ids["pnr"], "E2E-KILL")
        task(ehr, "inskrivningsmeddelande", encounter.id)
        assert receiver.holding.wait(60), "the worker never started the delivery"
        os.kill(first.pid, signal.SIGKILL)  # kill -9 while the notification is in flight
        first.wait(10)
        receiver.release.set()
        state = e2e_server.shell(
            "from brygga.fhir.models import Notification; "
            f"print(list(Notification.objects.filter(subscription_id={sub.id}).values_list('status', flat=True)))"
        )
        assert state.splitlines()[-1] == "['pending']"
        time.sleep(LEASE_SECONDS + 0.5)  # the dead worker's lease expires
        e2e_server.manage("fhir_deliver")  # the cron sweep hands the due subscription to the worker
        workers.append(start_worker(e2e_server))
        wait_for(lambda: len(receiver.received) == 1, what="redelivery after the crash")
        valid(receiver.received[0])
        assert (
            receiver.seen[0]["entry"][0]["resource"]["notificationEvent"]
            == receiver.received[0]["entry"][0]["resource"]["notificationEvent"]
        )  # the same event, number 1, sent again: at least once, de-duplicated by number
        state = e2e_server.shell(
            "from brygga.fhir.models import Notification; "
            f"print(list(Notification.objects.filter(subscription_id={sub.id}).values_list('status', 'attempts')))"
        )
        assert state.splitlines()[-1] == "[('delivered', 1)]"
        sub.delete()


DOCUMENTS = """
import json, datetime as dt
from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.cases import services
from brygga.cases.models import Case
from brygga.documents.signed import create_document, sign_version
from brygga.organisations.models import Unit
case = Case.objects.get(pk=%(case)s)
nurse_membership = Membership.objects.filter(unit__name=%(ward)r, role="ward_nurse").select_related("user").first()
nurse_membership.user.hsa_id = "SE2321000131-P000000000983"
nurse_membership.user.save()
nurse = Actor(user=nurse_membership.user, membership=nurse_membership)
version = create_document(nurse, case.person_id, "case", str(case.pk), "Vårdplan", "Mål: trygg hemgång.")
sign_version(nurse, version.pk)
meeting = services.book_meeting(nurse, case, form="video", starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                                participants=[Unit.objects.get(name=%(ward)r), Unit.objects.get(name=%(contact)r)])
print(json.dumps({"version": version.pk, "meeting": meeting.pk, "link": meeting.video_link,
                  "ward_id": Unit.objects.get(name=%(ward)r).pk, "person": case.person_id}))
"""


def test_documents_signatures_roles_and_meetings_through_fhirpy(e2e_server: E2EServer) -> None:
    """Issue 19 items 1–2 over HTTP: the municipality's system reads the signed plan (DocumentReference), its
    PDF (Binary) and its signature (Provenance), the ward's roles and the planning meeting with its video room
    (it is invited)."""
    import base64

    ids = setup(e2e_server, 983)
    ehr, municipality = fhir(e2e_server, ids["ehr"]), fhir(e2e_server, ids["municipality"])
    encounter = admit(ehr, ids["pnr"], "E2E-DOC")
    task(ehr, "inskrivningsmeddelande", encounter.id)
    made = json.loads(
        e2e_server.shell(
            DOCUMENTS % {"case": encounter.id, "ward": MEDICINE, "contact": CONTACT}
        ).splitlines()[-1]
    )
    documents = municipality.resources("DocumentReference").search(patient=f"Patient/{made['person']}")
    found = [valid(dict(d.serialize())) for d in documents.fetch_all()]
    assert [d["id"] for d in found] == [f"signed-{made['version']}"]
    assert found[0]["docStatus"] == "final"
    assert found[0]["context"]["related"] == [{"reference": f"Encounter/{encounter.id}"}]
    binary = municipality.reference("Binary", f"signed-{made['version']}").to_resource()
    assert base64.b64decode(binary["data"]).startswith(b"%PDF-")
    provenance = (
        municipality.resources("Provenance")
        .search(target=f"DocumentReference/signed-{made['version']}")
        .first()
    )
    assert provenance is not None
    assert valid(dict(provenance.serialize()))["agent"][0]["who"]["identifier"]["value"] == (
        "SE2321000131-P000000000983"
    )
    roles = (
        municipality.resources("PractitionerRole")
        .search(organization=f"Organization/{made['ward_id']}")
        .fetch_all()
    )
    assert f"unit-{made['ward_id']}" in {r["id"] for r in roles}
    appointment = municipality.resources("Appointment").search(patient=f"Patient/{made['person']}").first()
    assert appointment is not None and appointment["id"] == str(made["meeting"])
    room = valid(dict(appointment.serialize()))["extension"][0]["extension"]
    assert {"url": "url", "valueUrl": made["link"]} in room


HEARTBEAT = """
from django.utils import timezone
from brygga.fhir.models import Subscription
from brygga.fhir.subscriptions import schedule_heartbeat
# A 2-second period (the API's minimum is a minute) so the chain of deferred tasks shows in a test.
Subscription.objects.filter(pk=%(pk)s).update(heartbeat_period=2, last_sent_at=timezone.now())
schedule_heartbeat(%(pk)s, timezone.now())
"""


def test_heartbeats_come_from_the_worker_through_deferred_tasks(
    e2e_server: E2EServer, workers: list[subprocess.Popen[bytes]]
) -> None:
    """The handshake at creation, then the heartbeat chain run by the real DB worker: each heartbeat task
    sends when the period has passed and schedules the next one (django-tasks ``run_after``)."""
    ids = setup(e2e_server, 984)
    municipality = fhir(e2e_server, ids["municipality"])
    with Receiver() as receiver:
        sub = subscribe(municipality, "discharge", receiver.url)
        assert sub["status"] == "active"
        assert [b["entry"][0]["resource"]["type"] for b in receiver.control] == ["handshake"]
        e2e_server.shell(HEARTBEAT % {"pk": sub.id})
        workers.append(start_worker(e2e_server))
        wait_for(lambda: len(receiver.control) >= 3, timeout=60, what="two heartbeats")
        beats = [valid(b)["entry"][0]["resource"] for b in receiver.control[1:]]
        assert {b["type"] for b in beats} == {"heartbeat"}
        assert all(b["subscription"]["reference"] == f"Subscription/{sub.id}" for b in beats)
