"""The SIP's summons, meeting and plan: participants, the summons (R-SIP-1), versions, establishing the
plan, follow-ups and closing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import Involvement
from brygga.access.services import (
    end_involvement,
    involve,
    record_change,
)
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases import services as case_services
from brygga.core.errors import DomainError, Problem
from brygga.organisations.models import Unit
from brygga.sip import rules
from brygga.sip.models import (
    Event,
    FollowUp,
    Sip,
    SipEffort,
    SipParticipant,
    SipVersion,
)
from brygga.sip.services.common import (
    FUTURE_TOLERANCE,
    OPEN_STATES,
    Status,
    _iso,
    _now,
    _resolve_unit,
    _side,
    _unit_ref,
    record_event,
)
from brygga.sip.services.start import _basis_for_sip, _lock, _participant_unit, _require_state

# --- SIP: summons, meeting, plan ----------------------------------------------------------------------------


@transaction.atomic
def summon(
    actor: Actor,
    sip: Sip,
    *,
    meeting_at: dt.datetime | None,
    location: str = "",
    at: dt.datetime | None = None,
) -> Event:
    """Step 3, summon to the SIP meeting. Refused without participants from both principals (R-SIP-1), without
    the person or a representative (R-SIP-3), without a consent for every unit of another principal (R-SIP-1,
    R-SEK-2..4) or with a meeting in the past. In a discharge case the case's summons is recorded too, so the
    3-day deadline (R-SIP-K-1) shows as met on both."""
    unit = _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.NEED, Status.PREPARE))
    at = at or _now()
    problems: list[Problem] = []
    if at > _now() + FUTURE_TOLERANCE:
        problems.append(Problem("at", "DATUM-FRAMTID", _("Kallelsen kan inte skickas i framtiden.")))
    if meeting_at is None:
        problems.append(Problem("meeting_at", "DATUM-FORMAT", _("Ange tid för SIP-mötet.")))
    elif meeting_at <= at:
        problems.append(Problem("meeting_at", "DATUM-PASSERAT", _("SIP-mötet måste ligga efter kallelsen.")))
    participants = list(sip.participants.select_related("unit__organisation__principal"))
    units = [p.unit for p in participants if p.unit is not None]
    others = [u for u in units if u.pk != unit.pk]
    if not others:
        problems.append(
            Problem(
                "participants",
                "R-SIP-1",
                _("Kallelsen saknar deltagare. Lägg till enheter från båda huvudmännen."),
            )
        )
    elif {_side(u) for u in units} != {"region", "municipality"}:
        problems.append(
            Problem(
                "participants",
                "R-SIP-1",
                _("En SIP kräver deltagare från både regionen och kommunen."),
            )
        )
    if not any(
        p.kind in (SipParticipant.Kind.PERSON, SipParticipant.Kind.REPRESENTATIVE) for p in participants
    ):
        problems.append(
            Problem(
                "participants",
                "R-SIP-3",
                _("Personen själv eller en legal företrädare ska kallas."),
            )
        )
    bases: dict[str, object] = {}
    for other in others:
        result = _basis_for_sip(actor, sip, other)
        if isinstance(result, Problem):
            problems.append(result)
        else:
            bases[str(other.pk)] = result
    if problems:
        raise DomainError(problems)
    assert meeting_at is not None
    sip.status = Status.SUMMONED
    sip.summoned_at = at
    sip.meeting_at = meeting_at
    sip.meeting_location = location.strip()[:200]
    sip.save(update_fields=["status", "summoned_at", "meeting_at", "meeting_location"])
    for other in others:
        involve(sip.person, other, Involvement.Kind.SIP, sip.source, at=at)
    SipParticipant.objects.filter(sip=sip, unit__isnull=False).exclude(unit=unit).update(acknowledged_at=None)
    case_data: dict[str, Any] = {}
    if sip.case is not None and sip.case.sip_summons_sent_at is None and sip.case.is_open:
        case_event = case_services.send_sip_summons(actor, sip.case, at=at)
        case_data = {"case": sip.case.pk, "case_event": case_event.pk, **case_event.data}
    return record_event(
        actor,
        "summons_sent",
        sip=sip,
        occurred_at=at,
        data={
            "meeting_at": _iso(meeting_at),
            "location": sip.meeting_location,
            "participants": [str(p) for p in participants],
            "bases": bases,
            **case_data,
        },
    )


@transaction.atomic
def record_meeting(actor: Actor, sip: Sip, *, held_at: dt.datetime | None = None, note: str = "") -> Event:
    """Step 4, the SIP meeting was held; the plan is drafted from here."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.SUMMONED,))
    held_at = held_at or _now()
    if held_at > _now() + FUTURE_TOLERANCE:
        raise DomainError.single("held_at", "DATUM-FRAMTID", _("Mötet kan inte ha hållits i framtiden."))
    if sip.summoned_at and held_at < sip.summoned_at:
        raise DomainError.single("held_at", "DATUM-ORDNING", _("Mötet kan inte vara före kallelsen."))
    sip.status = Status.MEETING
    sip.meeting_held_at = held_at
    sip.save(update_fields=["status", "meeting_held_at"])
    _ensure_draft(actor, sip)
    return record_event(
        actor, "meeting_held", sip=sip, occurred_at=held_at, data={"note": note.strip()[:500]}
    )


def _ensure_draft(actor: Actor, sip: Sip) -> SipVersion:
    draft = sip.draft()
    if draft is not None:
        return draft
    current = sip.current_version()
    number = (sip.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    draft = SipVersion.objects.create(
        sip=sip,
        number=number,
        what_matters=current.what_matters if current else "",
        needs=current.needs if current else "",
        other_efforts=current.other_efforts if current else "",
        overall_responsible_unit=current.overall_responsible_unit if current else None,
        based_on=current,
        created_by=actor.user,
        created_at=_now(),
    )
    if current is not None:
        SipEffort.objects.bulk_create(
            [
                SipEffort(
                    version=draft,
                    need=e.need,
                    effort=e.effort,
                    responsible_unit=e.responsible_unit,
                    performer_other=e.performer_other,
                    position=e.position,
                )
                for e in current.efforts.all()
            ]
        )
    return draft


def _participating_unit_ids(sip: Sip) -> set[int]:
    return set(sip.participants.filter(unit__isnull=False).values_list("unit_id", flat=True))


@transaction.atomic
def save_draft(
    actor: Actor,
    sip: Sip,
    *,
    what_matters: str,
    needs: str,
    other_efforts: str,
    overall_responsible_unit: Unit | int | str | None,
    efforts: Iterable[dict[str, Any]],
    change_reason: str = "",
) -> SipVersion:
    """Edit the plan's draft (a new version when the plan is already established). Incomplete content is
    allowed in a draft; establishing checks R-SIP-4. Responsible units must take part in the SIP."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    draft = _ensure_draft(actor, sip)
    overall = _resolve_unit(overall_responsible_unit, "overall_responsible_unit")
    allowed = _participating_unit_ids(sip)
    problems: list[Problem] = []
    if overall is not None and overall.pk not in allowed:
        problems.append(
            Problem(
                "overall_responsible_unit",
                "R-SIP-4",
                _("Enheten med övergripande ansvar ska delta i SIP:en."),
            )
        )
    rows: list[SipEffort] = []
    for index, raw in enumerate(efforts):
        effort_text = str(raw.get("effort", "")).strip()
        need_text = str(raw.get("need", "")).strip()
        other = str(raw.get("performer_other", "")).strip()
        if not (effort_text or need_text or other or raw.get("responsible_unit")):
            continue  # an empty row of the form
        try:
            responsible = _resolve_unit(raw.get("responsible_unit"), f"efforts.{index}.responsible_unit")
        except DomainError as exc:
            problems += exc.problems
            continue
        if responsible is not None and responsible.pk not in allowed:
            problems.append(
                Problem(
                    f"efforts.{index}.responsible_unit",
                    "R-SIP-4",
                    _("Den ansvariga enheten ska delta i SIP:en."),
                )
            )
        rows.append(
            SipEffort(
                version=draft,
                need=need_text[:500],
                effort=effort_text[:500],
                responsible_unit=responsible,
                performer_other=other[:200],
                position=index,
            )
        )
    if problems:
        raise DomainError(problems)
    draft.what_matters = what_matters.strip()
    draft.needs = needs.strip()
    draft.other_efforts = other_efforts.strip()
    draft.overall_responsible_unit = overall
    draft.change_reason = change_reason.strip()[:500]
    draft.save(
        update_fields=["what_matters", "needs", "other_efforts", "overall_responsible_unit", "change_reason"]
    )
    draft.efforts.all().delete()
    SipEffort.objects.bulk_create(rows)
    if sip.status == Status.NEED:
        sip.status = Status.PREPARE
        sip.save(update_fields=["status"])
    record_event(actor, "draft_saved", sip=sip, data={"version": draft.number, "efforts": len(rows)})
    return draft


def plan_problems(sip: Sip, version: SipVersion) -> list[Problem]:
    """R-SIP-4 (and R-VG-SIP-4 for "what matters to you"): what is missing before the plan can be set."""
    problems: list[Problem] = []
    efforts = list(version.efforts.select_related("responsible_unit__organisation__principal"))
    if not version.what_matters:
        problems.append(Problem("what_matters", "R-VG-SIP-4", _("Skriv vad som är viktigt för personen.")))
    if not version.needs:
        problems.append(Problem("needs", "R-SIP-4", _("Ange vilka behov personen har.")))
    if not efforts:
        problems.append(Problem("efforts", "R-SIP-4", _("Ange vilka insatser som behövs.")))
    for index, effort in enumerate(efforts):
        if not effort.effort:
            problems.append(Problem(f"efforts.{index}.effort", "R-SIP-4", _("Beskriv insatsen.")))
        if effort.responsible_unit is None and not effort.performer_other:
            problems.append(
                Problem(
                    f"efforts.{index}.responsible_unit",
                    "R-SIP-4",
                    _("Ange vilken huvudman som ansvarar för insatsen, eller vem annan som utför den."),
                )
            )
    sides = {_side(e.responsible_unit) for e in efforts if e.responsible_unit is not None}
    if efforts and sides != {"region", "municipality"}:
        problems.append(
            Problem(
                "efforts",
                "R-SIP-4",
                _("Planen ska ange vilka insatser regionen och kommunen var för sig ansvarar för."),
            )
        )
    if not version.other_efforts:
        problems.append(
            Problem(
                "other_efforts",
                "R-SIP-4",
                _(
                    "Ange vilka insatser andra än kommun och region gör "
                    "(skriv ”Inga” om det inte finns några)."
                ),
            )
        )
    if version.overall_responsible_unit is None:
        problems.append(
            Problem(
                "overall_responsible_unit",
                "R-SIP-4",
                _("Ange vilken huvudman som har det övergripande ansvaret."),
            )
        )
    if version.based_on_id is not None and not version.change_reason:
        problems.append(Problem("change_reason", "SIP-VERSION", _("Ange varför planen ändras.")))
    return problems


@transaction.atomic
def establish(
    actor: Actor,
    sip: Sip,
    *,
    follow_up_on: dt.date | None = None,
    follow_up_description: str = "",
    follow_up_unit: Unit | int | str | None = None,
) -> SipVersion:
    """The meeting's plan is established: R-SIP-4 is validated on the draft, which becomes the plan's current
    version; an earlier established version is superseded but stays readable. A children's SIP must say when
    it will be followed up (R-VG-SIP-3). Step 5, follow up, starts."""
    unit = _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.MEETING, Status.FOLLOW_UP))
    draft = sip.draft()
    if draft is None:
        raise DomainError.single("version", "R-SIP-4", _("Det finns inget utkast att fastställa."))
    problems = plan_problems(sip, draft)
    today = timezone.localdate()
    if (
        follow_up_on is None
        and sip.concerns_child
        and not sip.follow_ups.filter(done_at__isnull=True).exists()
    ):
        problems.append(
            Problem("follow_up_on", "R-VG-SIP-3", _("En SIP för barn och unga ska ange när den följs upp."))
        )
    if follow_up_on is not None and follow_up_on < today:
        problems.append(
            Problem("follow_up_on", "DATUM-PASSERAT", _("Uppföljningsdatumet har redan passerat."))
        )
    if problems:
        raise DomainError(problems)
    now = _now()
    previous = sip.current_version()
    if previous is not None:
        SipVersion.objects.filter(pk=previous.pk).update(status=SipVersion.Status.SUPERSEDED)
    draft.status = SipVersion.Status.ESTABLISHED
    draft.established_at = now
    draft.established_by = actor.user
    draft.save(update_fields=["status", "established_at", "established_by"])
    sip.status = Status.FOLLOW_UP
    sip.save(update_fields=["status"])
    SipParticipant.objects.filter(sip=sip, unit__isnull=False).exclude(unit=unit).update(acknowledged_at=None)
    record_event(
        actor,
        "plan_established",
        sip=sip,
        data={"version": draft.number, "supersedes": previous.number if previous else None},
    )
    if follow_up_on is not None:
        _add_follow_up(
            actor,
            sip,
            due_on=follow_up_on,
            description=follow_up_description or _("Uppföljning av planen"),
            responsible_unit=follow_up_unit or draft.overall_responsible_unit,
        )
    return draft


def _add_follow_up(
    actor: Actor,
    sip: Sip,
    *,
    due_on: dt.date | None,
    description: str,
    responsible_unit: Unit | int | str | None,
) -> FollowUp:
    problems: list[Problem] = []
    if due_on is None:
        problems.append(Problem("due_on", "DATUM-FORMAT", _("Ange datum för uppföljningen.")))
    elif due_on < timezone.localdate():
        problems.append(Problem("due_on", "DATUM-PASSERAT", _("Uppföljningsdatumet har redan passerat.")))
    if not description.strip():
        problems.append(Problem("description", "UPPFOLJNING", _("Ange vad som ska följas upp.")))
    try:
        responsible = _resolve_unit(responsible_unit, "responsible_unit")
    except DomainError as exc:
        problems += exc.problems
        responsible = None
    not_participating = responsible is None or responsible.pk not in _participating_unit_ids(sip)
    if not_participating and not any(p.field == "responsible_unit" for p in problems):
        problems.append(
            Problem("responsible_unit", "UPPFOLJNING", _("Välj en deltagande enhet som ansvarar."))
        )
    if problems:
        raise DomainError(problems)
    assert due_on is not None and responsible is not None
    follow_up = FollowUp.objects.create(
        sip=sip,
        due_on=due_on,
        description=description.strip()[:500],
        responsible_unit=responsible,
        created_by=actor.user,
        created_at=_now(),
    )
    record_event(
        actor,
        "follow_up_planned",
        sip=sip,
        data={"follow_up": follow_up.pk, "due_on": _iso(due_on), "responsible": _unit_ref(responsible)},
    )
    return follow_up


@transaction.atomic
def add_follow_up(
    actor: Actor,
    sip: Sip,
    *,
    due_on: dt.date | None,
    description: str,
    responsible_unit: Unit | int | str | None,
) -> FollowUp:
    """A follow-up date becomes a task with a deadline for the responsible unit; a date in the past is
    refused."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    return _add_follow_up(
        actor, sip, due_on=due_on, description=description, responsible_unit=responsible_unit
    )


@transaction.atomic
def complete_follow_up(actor: Actor, follow_up: FollowUp, *, outcome: str) -> FollowUp:
    sip = follow_up.sip
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.done_at is not None:
        raise DomainError.single("follow_up", "FEL-STATUS", _("Uppföljningen är redan gjord."), status=409)
    if not outcome.strip():
        raise DomainError.single("outcome", "UPPFOLJNING", _("Skriv resultatet av uppföljningen."))
    follow_up.done_at = _now()
    follow_up.done_by = actor.user
    follow_up.outcome = outcome.strip()
    follow_up.save(update_fields=["done_at", "done_by", "outcome"])
    record_event(
        actor, "follow_up_done", sip=sip, data={"follow_up": follow_up.pk, "due_on": _iso(follow_up.due_on)}
    )
    return follow_up


@transaction.atomic
def start_revision(actor: Actor, sip: Sip) -> SipVersion:
    """Change an established plan: a new draft version based on the current one."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, (Status.FOLLOW_UP,))
    if sip.draft() is not None:
        raise DomainError.single("version", "FEL-STATUS", _("Det finns redan ett utkast."), status=409)
    draft = _ensure_draft(actor, sip)
    record_event(actor, "revision_started", sip=sip, data={"version": draft.number})
    return draft


@transaction.atomic
def close_sip(actor: Actor, sip: Sip, *, reason: str, text: str = "") -> Event:
    """Step 6, close. The units' access ends after the usual grace period."""
    _participant_unit(actor, sip)
    sip = _lock(sip)
    _require_state(sip, OPEN_STATES)
    if reason not in rules.CLOSE_REASONS:
        raise DomainError.single("reason", "AVSLUT", _("Välj skäl till att SIP:en avslutas."))
    if reason == "other" and not text.strip():
        raise DomainError.single("text", "AVSLUT", _("Beskriv skälet."))
    now = _now()
    sip.status = Status.CLOSED
    sip.closed_at = now
    sip.close_reason = reason
    sip.save(update_fields=["status", "closed_at", "close_reason"])
    event = record_event(actor, "sip_closed", sip=sip, data={"reason": reason, "text": text.strip()[:500]})
    end_involvement(sip.person, None, sip.source, at=now)
    return event


@transaction.atomic
def acknowledge_sip(actor: Actor, sip: Sip) -> None:
    _participant_unit(actor, sip, Perm.PERSON_READ)
    SipParticipant.objects.filter(sip=sip, unit=actor.unit).update(acknowledged_at=_now())
    record_change(actor, sip.person, f"{sip.source}/kvitterad")
