"""Units' contact roles and users as PractitionerRole, planning meetings as Appointment (docs/fhir.md).

PractitionerRole ids say what they are built from:

- ``unit-<unit>``: the unit itself as a function (its phone, functional mailbox and opening hours from
  ``receiving.UnitContact``); what an Appointment names as a participating unit (R4's ``Appointment.
  participant.actor`` cannot be an Organization).
- ``contact-<unit>-<n>``: the n:th named contact role of the unit ("Kontaktsjuksköterska: 031-123 45 67").
  Roles, not private persons.
- ``member-<membership>``: a user's membership at a unit, for users with an HSA-id (SITHS), with the
  commission's HSA-id (medarbetaruppdrag) as identifier and brygga's role as code. Integrating systems'
  memberships are not shown.

This is directory information about units and staff, not about patients: any authenticated system may read
it, as the unit contact details are shown to every unit on a case page.

An Appointment is a case's planning meeting (``cases.Meeting``) for a unit taking part in the case
(``open_case``/``unit_cases``, logged). The video link, the Pexip room's PINs and dial-in are in the extension
``video-room`` only for the units invited to that meeting — as on the case page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.utils import timezone

from brygga.accounts.models import Membership
from brygga.accounts.permissions import Role
from brygga.cases.models import Case, Meeting
from brygga.core.errors import NotFound
from brygga.fhir import systems
from brygga.fhir.mapping import instant, unit_reference
from brygga.organisations.models import Unit

ROLE_CODES = f"{systems.CANONICAL}/CodeSystem/role"
CONTACT_ROLE = f"{systems.CANONICAL}/CodeSystem/contact-role"
MEETING_FORM = f"{systems.CANONICAL}/CodeSystem/meeting-form"
VIDEO_ROOM = f"{systems.CANONICAL}/StructureDefinition/video-room"
# brygga books a planning meeting at a time without a length; the Appointment states one hour because R4's
# app-2 wants an end with a start (docs/fhir.md says so; the receiver should not read more into it).
MEETING_MINUTES = 60
_PHONE = re.compile(r"[+0-9][0-9 \-]{4,}")


# --- PractitionerRole ---------------------------------------------------------------------------------------


def _telecom(contact: Any) -> list[dict[str, Any]]:
    if contact is None:
        return []
    telecom = []
    if contact.phone:
        telecom.append({"system": "phone", "value": contact.phone, "use": "work"})
    if contact.mailbox:
        telecom.append({"system": "email", "value": contact.mailbox, "use": "work"})
    return telecom


def unit_role(unit: Unit, contact: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": f"unit-{unit.pk}",
        "active": unit.is_active,
        "organization": unit_reference(unit),
        "code": [{"coding": [{"system": CONTACT_ROLE, "code": "unit", "display": "Enhetens funktion"}]}],
    }
    telecom = _telecom(contact)
    if telecom:
        resource["telecom"] = telecom
    if contact is not None and contact.opening_hours:
        resource["availabilityExceptions"] = contact.opening_hours
    return resource


def contact_roles(unit: Unit, contact: Any) -> list[dict[str, Any]]:
    if contact is None:
        return []
    found = []
    for n, line in enumerate(contact.role_lines, start=1):
        name, _sep, rest = line.partition(":")
        resource: dict[str, Any] = {
            "resourceType": "PractitionerRole",
            "id": f"contact-{unit.pk}-{n}",
            "active": unit.is_active,
            "organization": unit_reference(unit),
            "code": [{"coding": [{"system": CONTACT_ROLE, "code": "contact"}], "text": name.strip()}],
        }
        phone = _PHONE.search(rest)
        if phone:
            resource["telecom"] = [{"system": "phone", "value": phone.group().strip(), "use": "work"}]
        found.append(resource)
    return found


def member_role(membership: Membership) -> dict[str, Any]:
    user = membership.user
    today = timezone.localdate()
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": f"member-{membership.pk}",
        "active": membership.is_valid_on(today),
        "period": {
            "start": membership.valid_from.isoformat(),
            **({"end": membership.valid_until.isoformat()} if membership.valid_until else {}),
        },
        "practitioner": {
            "identifier": {"system": systems.HSA_ID, "value": user.hsa_id},
            "display": user.get_full_name() or user.username,
        },
        "organization": unit_reference(membership.unit),
        "code": [
            {"coding": [{"system": ROLE_CODES, "code": membership.role}], "text": membership.role_label}
        ],
    }
    if membership.commission_hsa_id:
        resource["identifier"] = [{"system": systems.HSA_ID, "value": membership.commission_hsa_id}]
    return resource


def _members() -> Any:
    return (
        Membership.objects.exclude(user__hsa_id="")
        .exclude(role=Role.SYSTEM)
        .select_related("user", "unit")
        .order_by("unit_id", "pk")
    )


def _contact(unit: Unit) -> Any:
    """The unit's contact details (``receiving.UnitContact``, reached by its reverse relation ``contact``:
    fhir and receiving are independent apps of one layer, ADR 0009), or None."""
    try:
        return unit.contact  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None


def unit_roles(units: list[Unit]) -> list[dict[str, Any]]:
    """Every PractitionerRole of ``units``: the unit's function, its named contact roles, its staff."""
    units = list(Unit.objects.filter(pk__in=[u.pk for u in units]).select_related("contact").order_by("pk"))
    members: dict[int, list[Membership]] = {}
    for m in _members().filter(unit__in=units):
        members.setdefault(m.unit_id, []).append(m)
    found: list[dict[str, Any]] = []
    for unit in units:
        contact = _contact(unit)
        found.append(unit_role(unit, contact))
        found.extend(contact_roles(unit, contact))
        found.extend(member_role(m) for m in members.get(unit.pk, []))
    return found


def read_role(pk: str) -> dict[str, Any]:
    kind, _sep, rest = pk.partition("-")
    if kind == "member" and rest.isdecimal():
        membership = _members().filter(pk=int(rest)).first()
        if membership is None:
            raise NotFound
        return member_role(membership)
    unit_pk = rest.partition("-")[0]
    if kind in ("unit", "contact") and unit_pk.isdecimal():
        unit = Unit.objects.filter(pk=int(unit_pk)).first()
        if unit is not None:
            for resource in unit_roles([unit]):
                if resource["id"] == pk:
                    return resource
    raise NotFound


def practitioner_roles(identifier: str | None) -> list[dict[str, Any]]:
    """``PractitionerRole?practitioner.identifier=<HSA-id>`` (the person's) or ``identifier=`` (the
    commission's)."""
    if not identifier:
        return []
    value = identifier.rpartition("|")[2]
    return [member_role(m) for m in _members().filter(Q(user__hsa_id=value) | Q(commission_hsa_id=value))]


# --- Appointment --------------------------------------------------------------------------------------------


def appointment(meeting: Meeting, case: Case, invited: bool) -> dict[str, Any]:
    """``invited``: the reading unit is among the meeting's participants (it then sees the video room)."""
    participants: list[dict[str, Any]] = [
        {
            "actor": {"reference": f"Patient/{case.person_id}"},
            "required": "information-only",
            "status": "needs-action",
        }
    ]
    for u in sorted(meeting.participants.all(), key=lambda u: u.name):
        participants.append(
            {
                "actor": {
                    "reference": f"PractitionerRole/unit-{u.pk}",
                    "display": u.name,
                },
                "required": "required",
                "status": "needs-action",
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(meeting.pk),
        "status": "fulfilled" if meeting.starts_at < timezone.now() else "booked",
        "serviceType": [
            {
                "coding": [{"system": MEETING_FORM, "code": meeting.form}],
                "text": str(meeting.get_form_display()),
            }
        ],
        "description": "Samordnad vårdplanering",
        "start": instant(meeting.starts_at),
        "end": instant(meeting.starts_at + dt.timedelta(minutes=MEETING_MINUTES)),
        "minutesDuration": MEETING_MINUTES,
        "created": instant(meeting.booked_at),
        "supportingInformation": [{"reference": f"Encounter/{case.pk}"}],
        "participant": participants,
    }
    comment = "; ".join(x for x in (meeting.location, meeting.note) if x)
    if comment:
        resource["comment"] = comment
    if meeting.form == Meeting.Form.VIDEO and invited:
        room = getattr(meeting, "video_room", None)
        details: list[dict[str, Any]] = []
        if meeting.video_link:
            details.append({"url": "url", "valueUrl": meeting.video_link})
        if room is not None and room.deleted_at is None:
            details.append({"url": "alias", "valueString": room.alias})
            details.append({"url": "guestPin", "valueString": room.guest_pin})
            details.append({"url": "hostPin", "valueString": room.host_pin})
            if room.dial_in:
                details.append({"url": "dialIn", "valueString": room.dial_in})
        if details:
            resource["extension"] = [{"url": VIDEO_ROOM, "extension": details}]
    return resource
