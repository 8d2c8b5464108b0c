"""PractitionerRole (units' functions, contact roles, staff by HSA-id) and Appointment (planning meetings with
the video room shown to invited units only), issue 19 item 2."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client

from brygga.access.models import AccessLogEntry
from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case, Participant
from brygga.fhir import systems
from brygga.fhir.directory import VIDEO_ROOM
from brygga.receiving.models import UnitContact, VideoRoom
from tests.factories import CONTACT_POINT, OTHER_WARD, WARD, actor, make_person, unit
from tests.fhir_helpers import FHIR_JSON, encounter_body, task_body, token_for, valid

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
NURSE_HSA = "SE2321000131-P000000000002"
COMMISSION_HSA = "SE2321000131-S000000000002"


def client(role: Role, unit_name: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_for(role, unit_name)}")


def test_a_units_practitioner_roles_by_organization_and_by_hsa_id() -> None:
    ward = unit(WARD)
    UnitContact.objects.create(
        unit=ward,
        phone="031-342 00 00",
        mailbox="avd@example.se",
        opening_hours="Dygnet runt",
        contact_roles="Kontaktsjuksköterska: 031-123 45 67\nAvdelningschef",
    )
    nurse = actor(Role.WARD_NURSE, WARD, username="stina")
    nurse.user.first_name, nurse.user.last_name, nurse.user.hsa_id = "Stina", "Sköterska", NURSE_HSA
    nurse.user.save()
    nurse.membership.commission_hsa_id = COMMISSION_HSA  # type: ignore[union-attr]
    nurse.membership.save()  # type: ignore[union-attr]
    actor(Role.SYSTEM, WARD, username="robot")  # an integrating system is no PractitionerRole
    municipality = client(Role.SYSTEM, CONTACT_POINT)
    found = valid(municipality.get(f"/fhir/r4/PractitionerRole?organization=Organization/{ward.pk}").json())
    roles = {e["resource"]["id"]: e["resource"] for e in found["entry"]}
    membership_id = nurse.membership.pk  # type: ignore[union-attr]
    assert set(roles) == {
        f"unit-{ward.pk}",
        f"contact-{ward.pk}-1",
        f"contact-{ward.pk}-2",
        f"member-{membership_id}",
    }
    function = roles[f"unit-{ward.pk}"]
    assert {t["value"] for t in function["telecom"]} == {"031-342 00 00", "avd@example.se"}
    assert function["availabilityExceptions"] == "Dygnet runt"
    assert function["organization"]["identifier"] == {"system": systems.HSA_ID, "value": ward.hsa_id}
    contact = roles[f"contact-{ward.pk}-1"]
    assert (
        contact["code"][0]["text"] == "Kontaktsjuksköterska"
        and contact["telecom"][0]["value"] == "031-123 45 67"
    )
    member = roles[f"member-{membership_id}"]
    assert member["practitioner"]["identifier"]["value"] == NURSE_HSA and member["active"] is True
    assert member["identifier"] == [{"system": systems.HSA_ID, "value": COMMISSION_HSA}]
    assert member["code"][0]["coding"][0]["code"] == Role.WARD_NURSE
    by_hsa = valid(
        municipality.get(
            f"/fhir/r4/PractitionerRole?practitioner.identifier={systems.HSA_ID}|{NURSE_HSA}"
        ).json()
    )
    assert [e["resource"]["id"] for e in by_hsa["entry"]] == [f"member-{membership_id}"]
    by_unit_hsa = valid(municipality.get(f"/fhir/r4/PractitionerRole?organization={ward.hsa_id}").json())
    assert by_unit_hsa["total"] == 4
    assert valid(municipality.get(f"/fhir/r4/PractitionerRole/contact-{ward.pk}-1").json()) == contact
    assert municipality.get(f"/fhir/r4/PractitionerRole/contact-{ward.pk}-3").status_code == 404
    assert municipality.get("/fhir/r4/PractitionerRole").status_code == 400


@time_machine.travel(NOW, tick=False)
def test_a_planning_meeting_as_appointment_with_the_video_room_for_invited_units_only() -> None:
    ehr = client(Role.SYSTEM, WARD)
    person = make_person("1480")
    case_id = ehr.post(
        "/fhir/r4/Encounter",
        json.dumps(encounter_body(person.identifier, NOW - dt.timedelta(hours=3))),
        content_type=FHIR_JSON,
    ).json()["id"]
    ehr.post(
        "/fhir/r4/Task", json.dumps(task_body("inskrivningsmeddelande", case_id)), content_type=FHIR_JSON
    )
    case = Case.objects.get(pk=case_id)
    others = [
        p.unit for p in Participant.objects.filter(case=case).exclude(unit__name__in=[WARD, CONTACT_POINT])
    ]
    assert others, "the admission notice reaches a unit that is not invited (the vårdcentral)"
    meeting = services.book_meeting(
        actor(Role.WARD_NURSE, WARD),
        case,
        form="video",
        starts_at=NOW + dt.timedelta(days=1),
        participants=[unit(WARD), unit(CONTACT_POINT)],
        note="Inför hemgång",
    )
    VideoRoom.objects.create(
        meeting=meeting,
        provider="pexip",
        ref="/api/admin/configuration/v1/conference/7/",
        alias="brygga-7@video.example.se",
        host_pin="123456",
        guest_pin="654321",
        dial_in="010-123 45 67",
        created_at=NOW,
    )
    municipality = client(Role.SYSTEM, CONTACT_POINT)
    found = valid(municipality.get(f"/fhir/r4/Appointment?patient=Patient/{person.pk}").json())
    assert found["total"] == 1
    invited = found["entry"][0]["resource"]
    assert invited["id"] == str(meeting.pk) and invited["status"] == "booked"
    assert invited["start"] == "2026-11-11T09:00:00Z" and invited["comment"] == "Inför hemgång"
    assert invited["supportingInformation"] == [{"reference": f"Encounter/{case_id}"}]
    actors = {p["actor"]["reference"] for p in invited["participant"]}
    assert actors == {
        f"Patient/{person.pk}",
        f"PractitionerRole/unit-{unit(WARD).pk}",
        f"PractitionerRole/unit-{unit(CONTACT_POINT).pk}",
    }
    room = {
        e["url"]: next(v for k, v in e.items() if k.startswith("value"))
        for e in invited["extension"][0]["extension"]
    }
    assert invited["extension"][0]["url"] == VIDEO_ROOM
    assert room["url"] == meeting.video_link and room["guestPin"] == "654321" and room["hostPin"] == "123456"
    assert room["dialIn"] == "010-123 45 67"
    assert AccessLogEntry.objects.filter(person=person, what="fhir:Appointment?search").exists()
    by_actor = valid(
        municipality.get(f"/fhir/r4/Appointment?actor=PractitionerRole/unit-{unit(CONTACT_POINT).pk}").json()
    )
    assert [e["resource"]["id"] for e in by_actor["entry"]] == [str(meeting.pk)]
    # A unit in the case that was not invited sees the meeting but not the room (as on the case page).
    uninvited = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(Role.SYSTEM, others[0].name)}")
    seen = valid(uninvited.get(f"/fhir/r4/Appointment/{meeting.pk}").json())
    assert "extension" not in seen and seen["start"] == invited["start"]
    assert "654321" not in json.dumps(seen) and meeting.video_link not in json.dumps(seen)
    # A unit outside the case: 404, logged as denied.
    stranger = client(Role.SYSTEM, OTHER_WARD)
    assert stranger.get(f"/fhir/r4/Appointment/{meeting.pk}").status_code == 404
    assert AccessLogEntry.objects.filter(
        person=person, unit=unit(OTHER_WARD), action=AccessLogEntry.Action.DENIED
    ).exists()
    assert "entry" not in valid(stranger.get(f"/fhir/r4/Appointment?patient=Patient/{person.pk}").json())
