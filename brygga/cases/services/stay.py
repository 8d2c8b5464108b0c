"""During the stay: expected date, discharge-ready, coordinator, planning basis, checklist, SIP summons,
meetings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import actions, rules
from brygga.cases.models import Case, CaseEvent, Meeting, Participant, PlanningBasis
from brygga.cases.services.common import (
    Kind,
    _iso,
    _not_before,
    _not_future,
    _now,
    _unit_ref,
    _user_label,
    lock_case,
    record_event,
)
from brygga.cases.video import video_provider
from brygga.core.calendar import add_calendar_days
from brygga.core.errors import DomainError, Problem
from brygga.core.limits import limited, too_long
from brygga.organisations.models import Unit

# --- during the stay ----------------------------------------------------------------------------------------


@transaction.atomic
def change_expected_date(
    actor: Actor, case: Case, new_date: dt.date | None, reason: str, comment: str = ""
) -> CaseEvent:
    """R-INS-5: the expected discharge date is a versioned value; each change records the old and new date
    and a coded reason, and notifies the receivers."""
    actions.check(actor, case, "expected-date", state=False)
    case = lock_case(case)
    actions.check_state(case, "expected-date")
    problems = []
    if new_date is None:
        problems.append(Problem("expected_discharge_date", "R-INS-5", _("Ange det nya datumet.")))
    elif new_date < timezone.localdate(case.admitted_at):
        problems.append(
            Problem(
                "expected_discharge_date",
                "DATUM-ORDNING",
                _("Beräknat utskrivningsdatum kan inte vara före inskrivningen."),
            )
        )
    elif new_date == case.expected_discharge_date:
        problems.append(Problem("expected_discharge_date", "R-INS-5", _("Datumet är oförändrat.")))
    if reason not in rules.EXPECTED_DATE_REASONS:
        problems.append(Problem("reason", "R-INS-5", _("Välj en orsak till ändringen.")))
    elif reason == "other" and not comment.strip():
        problems.append(Problem("comment", "R-INS-5", _("Beskriv orsaken.")))
    if problems:
        raise DomainError(problems)
    old = case.expected_discharge_date
    case.expected_discharge_date = new_date
    case.save(update_fields=["expected_discharge_date"])
    return record_event(
        case,
        actor,
        Kind.EXPECTED_DATE_CHANGED,
        data={
            "old": _iso(old),
            "new": _iso(new_date),
            "reason": reason,
            "comment": limited("comment", comment, 500),
        },
    )


def _sip_due(case: Case) -> dt.datetime | None:
    if case.sip_needed and case.discharge_ready_at and case.sip_summons_sent_at is None:
        # Calendar days on local dates (R-SIP-K-1): the same wall-clock time three days later, across DST.
        return add_calendar_days(case.discharge_ready_at, rules.sip_summons_deadline_days())
    return None


@transaction.atomic
def set_discharge_ready(actor: Actor, case: Case, at: dt.datetime | None = None) -> CaseEvent:
    """R-DEF-UK-1, R-UK-1, R-UK-3: only a physician (Perm.CASE_SET_DISCHARGE_READY) marks the patient
    discharge-ready; the exact time and the physician are stored. Starts the SIP summons deadline when both
    principals' efforts are needed (R-SIP-K-1)."""
    if not actor.can(Perm.CASE_SET_DISCHARGE_READY):
        raise DomainError.single(
            "discharge_ready_at",
            "R-DEF-UK-1",
            _("Bara behandlande läkare kan bedöma att patienten är utskrivningsklar."),
            status=403,
        )
    actions.check(actor, case, "discharge-ready", state=False)
    case = lock_case(case)
    actions.check_state(case, "discharge-ready")
    if case.discharge_ready_at is not None:
        raise DomainError.single(
            "discharge_ready_at", "FEL-STATUS", _("Patienten är redan utskrivningsklar."), status=409
        )
    at = at or _now()
    _not_before(
        at, case.admitted_at, "discharge_ready_at", _("Utskrivningsklar kan inte vara före inskrivningen.")
    )
    _not_future(at, "discharge_ready_at")
    case.discharge_ready_at = at
    case.discharge_ready_by = actor.user
    case.sip_summons_due_at = _sip_due(case)
    case.save(update_fields=["discharge_ready_at", "discharge_ready_by", "sip_summons_due_at"])
    return record_event(
        case,
        actor,
        Kind.DISCHARGE_READY_SET,
        occurred_at=at,
        data={
            "at": _iso(at),
            "physician": _user_label(actor),
            "sip_needed": case.sip_needed,
            "sip_summons_due_at": _iso(case.sip_summons_due_at),
        },
    )


@transaction.atomic
def withdraw_discharge_ready(
    actor: Actor, case: Case, reason: str, at: dt.datetime | None = None
) -> CaseEvent:
    """R-UK-2: the physician withdraws discharge-ready; all units are told at once; payment stops."""
    if not actor.can(Perm.CASE_SET_DISCHARGE_READY):
        raise DomainError.single(
            "discharge_ready_at",
            "R-DEF-UK-1",
            _("Bara behandlande läkare kan återta bedömningen utskrivningsklar."),
            status=403,
        )
    actions.check(actor, case, "withdraw-discharge-ready", state=False)
    case = lock_case(case)
    actions.check_state(case, "withdraw-discharge-ready")
    if case.discharge_ready_at is None:
        raise DomainError.single(
            "discharge_ready_at", "FEL-STATUS", _("Patienten är inte utskrivningsklar."), status=409
        )
    if not reason.strip():
        raise DomainError.single("reason", "R-UK-2", _("Ange varför bedömningen återtas."))
    at = at or _now()
    _not_before(at, case.discharge_ready_at, "at", _("Återtagandet kan inte vara före bedömningen."))
    previous = case.discharge_ready_at
    case.discharge_ready_at = None
    case.discharge_ready_by = None
    if case.sip_summons_sent_at is None:
        case.sip_summons_due_at = None  # the 3-day clock starts again at the next discharge-ready
    case.save(update_fields=["discharge_ready_at", "discharge_ready_by", "sip_summons_due_at"])
    return record_event(
        case,
        actor,
        Kind.DISCHARGE_READY_WITHDRAWN,
        occurred_at=at,
        data={"withdrawn_ready_at": _iso(previous), "reason": limited("reason", reason, 500)},
    )


@transaction.atomic
def appoint_coordinator(actor: Actor, case: Case, name: str, phone: str = "") -> CaseEvent:
    """R-FVK-1: the vårdcentral that received the notice appoints the fast vårdkontakt before discharge."""
    participant = actions.check(actor, case, "coordinator", state=False)
    case = lock_case(case)
    actions.check_state(case, "coordinator")
    if not name.strip():
        raise DomainError.single("coordinator_name", "R-FVK-1", _("Ange namnet på den fasta vårdkontakten."))
    previous = case.coordinator_name
    case.coordinator_name = limited("coordinator_name", name, 200)
    case.coordinator_phone = limited("coordinator_phone", phone, 40)
    case.coordinator_unit = participant.unit
    case.save(update_fields=["coordinator_name", "coordinator_phone", "coordinator_unit"])
    return record_event(
        case,
        actor,
        Kind.COORDINATOR_APPOINTED,
        data={
            "name": case.coordinator_name,
            "phone": case.coordinator_phone,
            "unit": _unit_ref(participant.unit),
            "replaces": previous,
        },
    )


@transaction.atomic
def save_planning_basis(
    actor: Actor,
    case: Case,
    *,
    answers: dict[str, str],
    needs: dict[str, str],
    needs_text: dict[str, str] | None = None,
    nursing_status: dict[str, str] | None = None,
    medications: str = "",
    consent: str = "",
) -> PlanningBasis:
    """The structured planning basis. Every question and every receiver's need is mandatory; "vet_ej" is an
    accepted, counted answer. Needs from both principals make the SIP summons deadline apply (R-SIP-K-1)."""
    actions.check(actor, case, "planning", state=False)
    case = lock_case(case)
    actions.check_state(case, "planning")
    problems = []
    clean_answers: dict[str, str] = {}
    for key, label in rules.PLANNING_QUESTIONS.items():
        value = (answers.get(key) or "").strip()
        if value not in rules.ANSWERS:
            problems.append(
                Problem(
                    f"answers.{key}",
                    "PLAN-OBLIGATORISK",
                    _("Svara på: %(q)s (ja, nej eller vet ej).") % {"q": label},
                )
            )
        clean_answers[key] = value
    clean_needs: dict[str, dict[str, str]] = {}
    for key, label in rules.NEEDS.items():
        value = (needs.get(key) or "").strip()
        if value not in rules.ANSWERS:
            problems.append(
                Problem(
                    f"needs.{key}",
                    "PLAN-OBLIGATORISK",
                    _("Ange behov av %(q)s (ja, nej eller vet ej).") % {"q": label},
                )
            )
        text = ((needs_text or {}).get(key) or "").strip()
        if too := too_long(f"needs_text.{key}", text, rules.TEXT_LIMITS["needs_text"]):
            problems.append(too)
        clean_needs[key] = {"answer": value, "text": text}
    if consent and consent not in rules.ANSWERS:
        problems.append(Problem("consent", "R-SEK-3", _("Samtycke anges som ja, nej eller vet ej.")))
    nursing = {k: (v or "").strip() for k, v in (nursing_status or {}).items() if k in rules.NURSING_AREAS}
    for k, v in nursing.items():
        if too := too_long(f"nursing.{k}", v, rules.TEXT_LIMITS["nursing"]):
            problems.append(too)
    if too := too_long("medications", medications.strip(), rules.TEXT_LIMITS["medications"]):
        problems.append(too)
    if problems:
        raise DomainError(problems)
    unknown = sum(1 for v in clean_answers.values() if v == "vet_ej") + sum(
        1 for v in clean_needs.values() if v["answer"] == "vet_ej"
    )
    basis, _created = PlanningBasis.objects.update_or_create(
        case=case,
        defaults={
            "answers": clean_answers,
            "needs": clean_needs,
            "nursing_status": nursing,
            "medications": medications.strip(),
            "consent": consent,
            "unknown_count": unknown,
            "updated_at": _now(),
            "updated_by": actor.user,
        },
    )
    region = clean_needs["primary_care"]["answer"] == "ja"
    municipal = any(clean_needs[k]["answer"] == "ja" for k in rules.MUNICIPAL_NEEDS)
    case.sip_needed = region and municipal
    case.sip_summons_due_at = _sip_due(case)
    case.save(update_fields=["sip_needed", "sip_summons_due_at"])
    record_event(
        case,
        actor,
        Kind.PLANNING_UPDATED,
        data={
            "unknown_count": unknown,
            "sip_needed": case.sip_needed,
            "needs": {k: v["answer"] for k, v in clean_needs.items()},
        },
    )
    return basis


@transaction.atomic
def set_checklist_item(actor: Actor, case: Case, key: str, done: bool = True) -> CaseEvent:
    """Tick (or untick) a manual item of the discharge checklist."""
    # The ward's checklist: only the ward ticks it (the table, brygga.cases.actions).
    participant = actions.check(actor, case, "checklist", state=False)
    case = lock_case(case)
    actions.check_state(case, "checklist")
    if key not in rules.MANUAL_CHECKLIST_KEYS:
        raise DomainError.single("checklist", "CHECKLISTA", _("Okänd punkt i checklistan."))
    checklist = dict(case.checklist)
    if done:
        checklist[key] = {"at": _iso(_now()), "by": _user_label(actor), "unit": participant.unit.name}
    else:
        checklist.pop(key, None)
    case.checklist = checklist
    case.save(update_fields=["checklist"])
    return record_event(case, actor, Kind.CHECKLIST_UPDATED, data={"item": key, "done": done}, notify=False)


def checklist_status(
    case: Case,
    participants: list[Participant] | None = None,
    planning: PlanningBasis | None | bool = False,
) -> list[dict[str, Any]]:
    """Every checklist item with whether it is done, applicable and blocking, for the discharge step. A page
    that has already read the case's ``participants`` and its ``planning`` basis (None: it has none) passes
    them, so they are not read again."""
    if participants is None:
        has_primary_care = case.participants.filter(
            role=Participant.Role.PRIMARY_CARE, status=Participant.Status.ACTIVE
        ).exists()
    else:
        has_primary_care = any(
            p.role == Participant.Role.PRIMARY_CARE and p.status == Participant.Status.ACTIVE
            for p in participants
        )
    has_planning = (
        PlanningBasis.objects.filter(case=case).exists() if planning is False else planning is not None
    )
    derived = {
        "discharge_info": (case.discharge_info_sent_at is not None, True),
        "patient_summary": (case.patient_summary_given_at is not None, True),
        "planning_basis": (has_planning, True),
        "coordinator": (bool(case.coordinator_name), has_primary_care),
        "sip_summons": (case.sip_summons_sent_at is not None, case.sip_needed),
    }
    items = []
    for item in rules.CHECKLIST:
        if item.manual:
            done, applies = item.key in case.checklist, True
        else:
            done, applies = derived[item.key]
        items.append(
            {
                "key": item.key,
                "label": item.label,
                "rule": item.rule,
                "blocking": item.blocking,
                "manual": item.manual,
                "done": done,
                "applies": applies,
                "done_info": case.checklist.get(item.key),
            }
        )
    return items


@transaction.atomic
def send_sip_summons(actor: Actor, case: Case, at: dt.datetime | None = None) -> CaseEvent:
    """R-FVK-2, R-SIP-K-1: the fast vårdkontakt (vårdcentral) sends the summons to SIP; recorded whether it
    was within 3 days of the discharge-ready notice."""
    actions.check(actor, case, "sip-summons", state=False)
    case = lock_case(case)
    actions.check_state(case, "sip-summons")
    if case.sip_summons_sent_at is not None:
        raise DomainError.single("sip", "FEL-STATUS", _("Kallelsen är redan skickad."), status=409)
    at = at or _now()
    _not_future(at, "at")
    due = case.sip_summons_due_at or _sip_due(case)
    case.sip_summons_sent_at = at
    case.sip_summons_due_at = due
    case.save(update_fields=["sip_summons_sent_at", "sip_summons_due_at"])
    return record_event(
        case,
        actor,
        Kind.SIP_SUMMONS_SENT,
        occurred_at=at,
        data={"due_at": _iso(due), "on_time": due is None or at <= due, "sip_needed": case.sip_needed},
    )


@transaction.atomic
def book_meeting(
    actor: Actor,
    case: Case,
    *,
    form: str,
    starts_at: dt.datetime | None,
    participants: Iterable[Unit | int] = (),
    location: str = "",
    note: str = "",
) -> Meeting:
    """A planning meeting on site, by phone or by video (R-VG-PROC-2); a video link comes from the configured
    provider."""
    participant = actions.check(actor, case, "meeting", state=False)
    case = lock_case(case)
    actions.check_state(case, "meeting")
    problems = []
    if form not in Meeting.Form.values:
        problems.append(
            Problem("form", "R-VG-PROC-2", _("Välj mötesform: fysiskt möte, telefon eller video."))
        )
    if starts_at is None:
        problems.append(Problem("starts_at", "MOTE-TID", _("Ange tid för mötet.")))
    elif starts_at < case.admitted_at:
        problems.append(Problem("starts_at", "DATUM-ORDNING", _("Mötet kan inte vara före inskrivningen.")))
    if form == Meeting.Form.ON_SITE and not location.strip():
        problems.append(Problem("location", "MOTE-PLATS", _("Ange plats för ett fysiskt möte.")))
    case_units = set(
        case.participants.filter(status=Participant.Status.ACTIVE).values_list("unit_id", flat=True)
    )
    unit_ids = {u.pk if isinstance(u, Unit) else int(u) for u in participants} | {participant.unit_id}
    if not unit_ids <= case_units:
        problems.append(Problem("participants", "OKAND-ENHET", _("Deltagarna måste vara enheter i ärendet.")))
    if problems:
        raise DomainError(problems)
    assert starts_at is not None
    meeting = Meeting.objects.create(
        case=case,
        form=form,
        starts_at=starts_at,
        location=limited("location", location, 200),
        note=limited("note", note, 500),
        booked_by=actor.user,
        booked_at=_now(),
    )
    meeting.participants.set(unit_ids)
    if form == Meeting.Form.VIDEO:
        meeting.video_link = video_provider().create_meeting(meeting)
        meeting.save(update_fields=["video_link"])
    record_event(
        case,
        actor,
        Kind.MEETING_BOOKED,
        data={"meeting": meeting.pk, "form": form, "starts_at": _iso(starts_at), "units": sorted(unit_ids)},
    )
    return meeting
