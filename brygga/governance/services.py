"""Governance services: every state change of the management plane goes through here.

Rules (codes appear in every refusal and flag):

- R-GOV-1  A case moves only along initiative → needs inventory → assignment → preparation → consultation →
           decision → implementation → done, or is rejected or parked; nothing else.
- R-GOV-2  Only the addressee forum, and only with the mandate for the case's decision area, may decide it;
           a case is assigned only to a forum with that mandate.
- R-GOV-3  A forum whose mandate requires it has as many region as municipal members (flagged).
- R-GOV-4  Agenda and material are published at least three days before the meeting; later publication is
           refused unless a reason is given, and is then flagged with it.
- R-GOV-5  Items raised under "övriga frågor" are carried to the forum's next meeting for preparation.
- R-GOV-6  Rejecting or parking a case needs a reason, shown on the public roadmap.
- R-GOV-7  A consultation (remiss) gives at least the configured minimum time to answer (default 6 weeks).
- R-GOV-8  Each delregion endorses a case at most once; endorsements set the priority.
- R-GOV-9  A case is not decided while its consultation is open.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.models import Membership
from brygga.accounts.permissions import Perm, Role
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.core.limits import limited
from brygga.deviations.personal_data import personal_data_problems
from brygga.governance.models import (
    AgendaItem,
    CaseEvent,
    CaseState,
    Consultation,
    ConsultationResponse,
    Decision,
    Endorsement,
    Forum,
    ForumChange,
    ForumMandate,
    ForumMember,
    GoalFollowUp,
    GoalStatus,
    GovernanceCase,
    ManagedObject,
    ManagedObjectStatus,
    MandateArea,
    Meeting,
    PlanGoal,
    Side,
)
from brygga.organisations.models import Organisation, Subregion

AGENDA_NOTICE = dt.timedelta(days=3)


def consultation_weeks() -> int:
    """Default answer time of a remiss in weeks (seed 000: 6–8 weeks is felt too short; configurable)."""
    return int(getattr(settings, "BRYGGA_CONSULTATION_WEEKS", 8))


def consultation_min_weeks() -> int:
    return int(getattr(settings, "BRYGGA_CONSULTATION_MIN_WEEKS", 6))


def reminder_days() -> int:
    return int(getattr(settings, "BRYGGA_CONSULTATION_REMINDER_DAYS", 7))


OPEN_STATES = {
    CaseState.INITIATIVE,
    CaseState.INVENTORY,
    CaseState.ASSIGNED,
    CaseState.PREPARATION,
    CaseState.CONSULTATION,
}

# Moves a coordinator may make with advance(); consultation and decision have their own services.
MANAGED_MOVES: dict[str, set[str]] = {
    CaseState.INITIATIVE: {CaseState.INVENTORY, CaseState.REJECTED, CaseState.PARKED},
    CaseState.INVENTORY: {CaseState.ASSIGNED, CaseState.REJECTED, CaseState.PARKED},
    CaseState.ASSIGNED: {CaseState.PREPARATION, CaseState.PARKED},
    CaseState.PREPARATION: {CaseState.PARKED},
    CaseState.CONSULTATION: set(),
    CaseState.DECIDED: {CaseState.IMPLEMENTATION},
    CaseState.IMPLEMENTATION: {CaseState.DONE},
    CaseState.PARKED: {CaseState.INVENTORY},
    CaseState.REJECTED: set(),
    CaseState.DONE: set(),
}


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _event(case: GovernanceCase, actor: Actor | None, to_state: str, note: str, at: dt.datetime) -> None:
    CaseEvent.objects.create(
        case=case,
        at=at,
        by=actor.user if actor else None,
        from_state=case.state,
        to_state=to_state,
        note=note,
    )


def _move(case: GovernanceCase, actor: Actor | None, to_state: str, note: str, at: dt.datetime) -> None:
    _event(case, actor, to_state, note, at)
    case.state = to_state
    if to_state in (CaseState.REJECTED, CaseState.PARKED) or note:
        case.state_reason = note
    case.save(update_fields=["state", "state_reason", "updated_at"])


def _refuse_move(case: GovernanceCase, to_state: str) -> DomainError:
    return DomainError.single(
        "state",
        "R-GOV-1",
        _("Ärendet kan inte gå från %(from)s till %(to)s.")
        % {"from": CaseState(case.state).label, "to": CaseState(to_state).label},
    )


# --- Cases ----------------------------------------------------------------------------------------


def _next_number(year: int) -> str:
    prefix = f"F-{year}-"
    last = (
        GovernanceCase.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
    ).first()
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def raise_case(
    actor: Actor,
    kind: str,
    title: str,
    description: str,
    *,
    on_behalf_of: str = GovernanceCase.Origin.USER,
    managed_object: ManagedObject | None = None,
    source_reference: str = "",
    at: dt.datetime | None = None,
) -> GovernanceCase:
    """Any user raises a need, change request or question; a forum member may raise it for their delregion,
    GITS as GITS. A delregion raising a case also stands behind it (one endorsement)."""
    actor.require(Perm.GOVERNANCE_RAISE)
    problems = []
    if kind not in GovernanceCase.Kind.values:
        problems.append(Problem("kind", "R-GOV-CASE", _("Välj behov, ändringsönskemål eller fråga.")))
    if not title.strip():
        problems.append(Problem("title", "R-GOV-CASE", _("Ange en rubrik.")))
    if len(description.strip()) < 10:
        problems.append(Problem("description", "R-GOV-CASE", _("Beskriv behovet med minst några ord.")))
    # R-GOV-10: a case is public on the roadmap; no identity numbers in it (names cannot be checked)
    problems += personal_data_problems(
        {"title": title, "description": description, "source_reference": source_reference}, rule="R-GOV-10"
    )
    if on_behalf_of == GovernanceCase.Origin.SUBREGION and not actor.can(Perm.GOVERNANCE_DECIDE):
        problems.append(
            Problem("origin", "R-GOV-8", _("Bara en forumledamot kan väcka ett ärende för sin delregion."))
        )
    if on_behalf_of == GovernanceCase.Origin.GITS and not actor.can(Perm.GOVERNANCE_MANAGE):
        problems.append(Problem("origin", "R-GOV-CASE", _("Bara GITS kan väcka ett ärende som GITS.")))
    if problems:
        raise DomainError(problems)
    now = _now(at)
    subregion = _actor_subregion(actor) if on_behalf_of == GovernanceCase.Origin.SUBREGION else None
    with transaction.atomic():
        case = GovernanceCase.objects.create(
            number=_next_number(now.year),
            kind=kind,
            title=title.strip(),
            description=description.strip(),
            origin=on_behalf_of,
            origin_subregion=subregion,
            raised_by=actor.user,
            raised_in_unit=actor.unit,
            managed_object=managed_object,
            source_reference=limited("source_reference", source_reference, 120),
        )
        CaseEvent.objects.create(case=case, at=now, by=actor.user, to_state=CaseState.INITIATIVE)
        if subregion is not None:
            _endorse(case, subregion, actor, "", now)
    return case


def advance(
    actor: Actor, case: GovernanceCase, to_state: str, reason: str = "", at: dt.datetime | None = None
) -> GovernanceCase:
    """A coordinator's move along the flow (R-GOV-1); rejecting and parking need a reason (R-GOV-6)."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    with transaction.atomic():
        case = GovernanceCase.objects.select_for_update().get(pk=case.pk)
        if to_state not in MANAGED_MOVES.get(case.state, set()):
            raise _refuse_move(case, to_state)
        if to_state in (CaseState.REJECTED, CaseState.PARKED) and not reason.strip():
            raise DomainError.single(
                "reason", "R-GOV-6", _("Ange skälet; det visas på den öppna färdplanen.")
            )
        if to_state == CaseState.ASSIGNED and case.addressee_id is None:
            raise DomainError.single(
                "addressee",
                "R-GOV-2",
                _("Ange först vilket forum med mandat som ärendet är adresserat till."),
            )
        _move(case, actor, to_state, reason.strip(), _now(at))
    return case


def assign(
    actor: Actor, case: GovernanceCase, forum: Forum, decision_area: str, at: dt.datetime | None = None
) -> GovernanceCase:
    """Give the case its addressee forum and decision area, and move it to assignment (R-GOV-2)."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    if decision_area not in MandateArea.values or not forum.has_mandate(decision_area):
        raise DomainError.single(
            "addressee",
            "R-GOV-2",
            _("%(forum)s har inte mandat att besluta om %(area)s.")
            % {"forum": forum.name, "area": MandateArea(decision_area).label.lower()}
            if decision_area in MandateArea.values
            else _("Okänt beslutsområde."),
        )
    with transaction.atomic():
        case = GovernanceCase.objects.select_for_update().get(pk=case.pk)
        if CaseState.ASSIGNED not in MANAGED_MOVES[case.state]:
            raise _refuse_move(case, CaseState.ASSIGNED)
        case.addressee = forum
        case.decision_area = decision_area
        case.save(update_fields=["addressee", "decision_area", "updated_at"])
        _move(case, actor, CaseState.ASSIGNED, _("Adresserat till %s.") % forum.name, _now(at))
    return case


def _actor_subregion(actor: Actor) -> Subregion:
    unit = actor.unit
    if unit is None:
        raise DomainError.single("unit", "R-GOV-8", _("Välj en aktiv enhet."))
    return unit.municipality.subregion


def _endorse(case: GovernanceCase, subregion: Subregion, actor: Actor, comment: str, at: dt.datetime) -> None:
    if Endorsement.objects.filter(case=case, subregion=subregion).exists():
        raise DomainError.single("subregion", "R-GOV-8", _("%s står redan bakom ärendet.") % subregion.name)
    Endorsement.objects.create(case=case, subregion=subregion, by=actor.user, at=at, comment=comment.strip())
    count = case.endorsements.count()
    case.endorsement_count = count
    case.priority = count
    case.save(update_fields=["endorsement_count", "priority", "updated_at"])


def endorse(
    actor: Actor, case: GovernanceCase, comment: str = "", at: dt.datetime | None = None
) -> Endorsement:
    """A forum member's delregion stands behind an open case. A delregion counts once however many of its
    users ask (R-GOV-8); one user's wish alone adds no priority."""
    actor.require(Perm.GOVERNANCE_DECIDE)
    subregion = _actor_subregion(actor)
    with transaction.atomic():
        case = GovernanceCase.objects.select_for_update().get(pk=case.pk)
        if case.state not in OPEN_STATES:
            raise DomainError.single("state", "R-GOV-1", _("Ärendet är redan avgjort."))
        _endorse(case, subregion, actor, comment, _now(at))
        return Endorsement.objects.get(case=case, subregion=subregion)


# --- Decisions ------------------------------------------------------------------------------------


def _decision_number(forum: Forum, at: dt.datetime) -> str:
    prefix = f"{forum.code.upper()}-{at.year}-"
    count = Decision.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:03d}"


def _decide(
    actor: Actor,
    case: GovernanceCase,
    forum: Forum,
    outcome: str,
    text: str,
    meeting: Meeting | None,
    at: dt.datetime,
) -> Decision:
    case = GovernanceCase.objects.select_for_update().get(pk=case.pk)
    if not forum.has_mandate(case.decision_area):
        raise DomainError.single(
            "forum",
            "R-GOV-2",
            _("%(forum)s har inte mandat att besluta om %(area)s.")
            % {"forum": forum.name, "area": MandateArea(case.decision_area).label.lower()},
        )
    if case.addressee_id != forum.pk:
        raise DomainError.single(
            "forum",
            "R-GOV-2",
            _("Ärendet är adresserat till %s, som fattar beslutet.")
            % (case.addressee.name if case.addressee else _("inget forum")),
        )
    if case.state not in (CaseState.PREPARATION, CaseState.CONSULTATION):
        raise _refuse_move(case, CaseState.DECIDED)
    if case.consultations.filter(closed_at__isnull=True).exists():
        raise DomainError.single(
            "consultation", "R-GOV-9", _("Remissen är öppen; stäng och sammanställ den före beslut.")
        )
    if outcome not in Decision.Outcome.values:
        raise DomainError.single("outcome", "R-GOV-1", _("Välj bifall, avslag eller vilande."))
    if not text.strip():
        raise DomainError.single("text", "R-GOV-6", _("Skriv beslutet och dess motivering."))
    decision = Decision.objects.create(
        number=_decision_number(forum, at),
        forum=forum,
        meeting=meeting,
        case=case,
        outcome=outcome,
        text=text.strip(),
        decided_at=at,
        recorded_by=actor.user,
    )
    to_state = {
        Decision.Outcome.APPROVED: CaseState.DECIDED,
        Decision.Outcome.REJECTED: CaseState.REJECTED,
        Decision.Outcome.PARKED: CaseState.PARKED,
    }[Decision.Outcome(outcome)]
    _move(case, actor, to_state, text.strip(), at)
    return decision


def record_decision(
    actor: Actor,
    case: GovernanceCase,
    forum: Forum,
    outcome: str,
    text: str,
    at: dt.datetime | None = None,
) -> Decision:
    """A forum member records the forum's decision outside a meeting's minutes (e.g. per capsulam)."""
    actor.require(Perm.GOVERNANCE_DECIDE)
    with transaction.atomic():
        return _decide(actor, case, forum, outcome, text, None, _now(at))


# --- Consultation (remiss) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    name: str
    subregion: Subregion | None = None
    organisation: Organisation | None = None
    email: str = ""


def default_recipients() -> list[Recipient]:
    """The six delregioner and the two principals' representatives (VGR, VästKom)."""
    recipients = [Recipient(s.name, subregion=s) for s in Subregion.objects.all()]
    for org in Organisation.objects.filter(
        kind__in=[Organisation.Kind.REGION, Organisation.Kind.MUNICIPAL_COOPERATION]
    ):
        recipients.append(Recipient(org.short_name or org.name, organisation=org))
    return recipients


def start_consultation(
    actor: Actor,
    case: GovernanceCase,
    proposal: str,
    deadline: dt.date | None = None,
    recipients: Iterable[Recipient] | None = None,
    at: dt.datetime | None = None,
) -> Consultation:
    actor.require(Perm.GOVERNANCE_MANAGE)
    now = _now(at)
    today = timezone.localdate(now)
    minimum = today + dt.timedelta(weeks=consultation_min_weeks())
    deadline = deadline or today + dt.timedelta(weeks=consultation_weeks())
    if deadline < minimum:
        raise DomainError.single(
            "deadline",
            "R-GOV-7",
            _("Svarstiden ska vara minst %(weeks)d veckor, till %(date)s eller senare.")
            % {"weeks": consultation_min_weeks(), "date": minimum.isoformat()},
        )
    if not proposal.strip():
        raise DomainError.single("proposal", "R-GOV-7", _("Bifoga förslaget som ska på remiss."))
    with transaction.atomic():
        case = GovernanceCase.objects.select_for_update().get(pk=case.pk)
        if case.state != CaseState.PREPARATION:
            raise _refuse_move(case, CaseState.CONSULTATION)
        consultation = Consultation.objects.create(
            case=case, proposal=proposal.strip(), sent_at=now, deadline=deadline, sent_by=actor.user
        )
        for r in list(recipients) if recipients is not None else default_recipients():
            ConsultationResponse.objects.create(
                consultation=consultation,
                recipient=r.name,
                subregion=r.subregion,
                organisation=r.organisation,
                contact_email=r.email,
            )
        _move(
            case, actor, CaseState.CONSULTATION, _("Remiss med svar senast %s.") % deadline.isoformat(), now
        )
        transaction.on_commit(lambda: _schedule_reminder(consultation))
    return consultation


def _schedule_reminder(consultation: Consultation) -> None:
    from brygga.governance.tasks import send_consultation_reminders

    remind_on = consultation.deadline - dt.timedelta(days=reminder_days())
    run_after = timezone.make_aware(dt.datetime.combine(remind_on, dt.time(8, 0)))
    try:
        send_consultation_reminders.using(run_after=run_after).enqueue()
    except Exception:  # noqa: BLE001 — a backend without delayed tasks; the daily sweep still reminds
        return


def respond(
    actor: Actor,
    response: ConsultationResponse,
    answer: str,
    comment: str = "",
    at: dt.datetime | None = None,
) -> ConsultationResponse:
    """A delregion's forum member answers for their delregion; GITS may register any answer received."""
    if not actor.can(Perm.GOVERNANCE_MANAGE):
        actor.require(Perm.GOVERNANCE_DECIDE)
        if response.subregion_id is None or response.subregion_id != _actor_subregion(actor).pk:
            raise NotFound
    if answer not in ConsultationResponse.Answer.values:
        raise DomainError.single("answer", "R-GOV-7", _("Välj ett svar."))
    with transaction.atomic():
        response = ConsultationResponse.objects.select_for_update().get(pk=response.pk)
        if not response.consultation.is_open:
            raise DomainError.single("answer", "R-GOV-7", _("Remissen är stängd."))
        response.answer = answer
        response.comment = comment.strip()
        response.answered_at = _now(at)
        response.answered_by = actor.user
        response.save(update_fields=["answer", "comment", "answered_at", "answered_by"])
    return response


@dataclass
class ConsultationSummary:
    counts: dict[str, int]
    answered: int
    missing: list[str]
    late: list[str]

    def as_text(self) -> str:
        parts = [f"{ConsultationResponse.Answer(a).label}: {n}" for a, n in sorted(self.counts.items()) if n]
        text = "; ".join(parts) or _("Inga svar")
        if self.missing:
            text += ". " + _("Svar saknas från: %s") % ", ".join(self.missing)
        if self.late:
            text += ". " + _("Sena svar: %s") % ", ".join(self.late)
        return text + "."


def summarise(consultation: Consultation) -> ConsultationSummary:
    responses = list(consultation.responses.all())
    counts = Counter(r.answer for r in responses if r.answer)
    deadline_end = timezone.make_aware(dt.datetime.combine(consultation.deadline, dt.time.max))
    return ConsultationSummary(
        counts=dict(counts),
        answered=sum(counts.values()),
        missing=[r.recipient for r in responses if not r.answer],
        late=[r.recipient for r in responses if r.answered_at and r.answered_at > deadline_end],
    )


def close_consultation(
    actor: Actor, consultation: Consultation, at: dt.datetime | None = None
) -> Consultation:
    actor.require(Perm.GOVERNANCE_MANAGE)
    with transaction.atomic():
        consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if not consultation.is_open:
            raise DomainError.single("consultation", "R-GOV-7", _("Remissen är redan stängd."))
        consultation.summary = summarise(consultation).as_text()
        consultation.closed_at = _now(at)
        consultation.save(update_fields=["summary", "closed_at"])
    return consultation


def _recipient_emails(response: ConsultationResponse, today: dt.date) -> list[str]:
    """The stated contact address, or else the forum members (role FORUM_MEMBER, membership valid today) who
    work in the delregion's or the organisation's units."""
    if response.contact_email:
        return [response.contact_email]
    members = Membership.objects.filter(role=Role.FORUM_MEMBER.value, valid_from__lte=today).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )
    if response.subregion_id:
        members = members.filter(unit__municipality__subregion_id=response.subregion_id)
    elif response.organisation_id:
        members = members.filter(
            Q(unit__organisation_id=response.organisation_id)
            | Q(unit__organisation__principal_id=response.organisation_id)
        )
    else:
        return []
    return sorted({m.user.email for m in members.select_related("user") if m.user.email})


def remind_due(today: dt.date | None = None) -> int:
    """Send one reminder to each recipient who has not answered an open consultation whose deadline is
    within the reminder window. Idempotent: a reminded recipient is not reminded again. A recipient with no
    address (no contact e-mail and no forum member with one) is left unreminded and not counted."""
    today = today or timezone.localdate()
    window_end = today + dt.timedelta(days=reminder_days())
    sent = 0
    due = ConsultationResponse.objects.filter(
        consultation__closed_at__isnull=True,
        consultation__deadline__gte=today,
        consultation__deadline__lte=window_end,
        answered_at__isnull=True,
        reminded_at__isnull=True,
    ).select_related("consultation__case")
    for response in due:
        consultation = response.consultation
        emails = _recipient_emails(response, today)
        if not emails:
            continue
        send_mail(
            _("Påminnelse: remiss %(number)s besvaras senast %(date)s")
            % {"number": consultation.case.number, "date": consultation.deadline.isoformat()},
            _(
                "Remissen ”%(title)s” ska besvaras senast %(date)s för %(recipient)s. Svara i brygga under "
                "Förvaltning."
            )
            % {
                "title": consultation.case.title,
                "date": consultation.deadline.isoformat(),
                "recipient": response.recipient,
            },
            None,
            emails,
        )
        response.reminded_at = timezone.now()
        response.save(update_fields=["reminded_at"])
        sent += 1
    return sent


# --- Meetings -------------------------------------------------------------------------------------


def plan_meeting(actor: Actor, forum: Forum, starts_at: dt.datetime, location: str = "") -> Meeting:
    """Plan a meeting; items carried over from the forum's earlier "övriga frågor" join its agenda
    (R-GOV-5)."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    with transaction.atomic():
        meeting = Meeting.objects.create(forum=forum, starts_at=starts_at, location=location.strip())
        pending = AgendaItem.objects.filter(forum=forum, meeting__isnull=True)
        for i, item in enumerate(pending, start=1):
            item.meeting = meeting
            item.position = i
            item.save(update_fields=["meeting", "position"])
    return meeting


def add_agenda_item(
    actor: Actor,
    meeting: Meeting,
    kind: str,
    title: str = "",
    case: GovernanceCase | None = None,
    material: str = "",
) -> AgendaItem:
    actor.require(Perm.GOVERNANCE_MANAGE)
    if kind not in AgendaItem.Kind.values:
        raise DomainError.single("kind", "R-GOV-4", _("Okänd typ av punkt."))
    if meeting.agenda_published_at and kind != AgendaItem.Kind.OTHER_BUSINESS:
        raise DomainError.single(
            "kind",
            "R-GOV-4",
            _(
                "Dagordningen är publicerad; nya punkter tas upp under övriga frågor "
                "och bereds till nästa möte."
            ),
        )
    if case is not None and kind == AgendaItem.Kind.DECISION and case.addressee_id != meeting.forum_id:
        raise DomainError.single(
            "case", "R-GOV-2", _("Ärendet är inte adresserat till %s.") % meeting.forum.name
        )
    if not (title.strip() or case):
        raise DomainError.single("title", "R-GOV-4", _("Ange en rubrik."))
    position = meeting.items.count() + 1
    return AgendaItem.objects.create(
        forum=meeting.forum,
        meeting=meeting,
        case=case,
        kind=kind,
        title=title.strip() or (case.title if case else ""),
        material=material.strip(),
        position=position,
    )


def agenda_from_cases(actor: Actor, meeting: Meeting) -> list[AgendaItem]:
    """Build the agenda from the cases addressed to the forum: a decision item for each case ready for
    decision (in preparation, or in consultation with the consultation closed), a preparation item for each
    assigned case. Cases already on this meeting's agenda are skipped. Only before publication (R-GOV-4)."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    if meeting.agenda_published_at:
        raise DomainError.single("meeting", "R-GOV-4", _("Dagordningen är redan publicerad."))
    on_agenda = set(meeting.items.exclude(case=None).values_list("case_id", flat=True))
    added = []
    with transaction.atomic():
        cases = GovernanceCase.objects.filter(
            addressee=meeting.forum,
            state__in=[CaseState.ASSIGNED, CaseState.PREPARATION, CaseState.CONSULTATION],
        ).order_by("-priority", "created_at")
        for case in cases:
            if case.pk in on_agenda:
                continue
            if (
                case.state == CaseState.CONSULTATION
                and case.consultations.filter(closed_at__isnull=True).exists()
            ):
                continue
            kind = (
                AgendaItem.Kind.PREPARATION if case.state == CaseState.ASSIGNED else AgendaItem.Kind.DECISION
            )
            added.append(add_agenda_item(actor, meeting, kind, case=case))
    return added


def publish_agenda(
    actor: Actor, meeting: Meeting, late_reason: str = "", at: dt.datetime | None = None
) -> Meeting:
    """R-GOV-4: publish at least three days before the meeting; later only with a stated reason, flagged."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    now = _now(at)
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if meeting.agenda_published_at:
            raise DomainError.single("meeting", "R-GOV-4", _("Dagordningen är redan publicerad."))
        if not meeting.items.exists():
            raise DomainError.single("meeting", "R-GOV-4", _("Dagordningen är tom."))
        late = now > meeting.starts_at - AGENDA_NOTICE
        if late and not late_reason.strip():
            raise DomainError.single(
                "late_reason",
                "R-GOV-4",
                _(
                    "Dagordning och underlag ska finnas minst tre dagar före mötet (senast %(date)s). "
                    "Ange skälet om den ändå ska publiceras nu."
                )
                % {"date": timezone.localtime(meeting.starts_at - AGENDA_NOTICE).strftime("%Y-%m-%d %H:%M")},
            )
        meeting.agenda_published_at = now
        meeting.published_late = late
        meeting.late_reason = late_reason.strip() if late else ""
        meeting.save(update_fields=["agenda_published_at", "published_late", "late_reason"])
    return meeting


@dataclass(frozen=True)
class MinuteDecision:
    item: AgendaItem
    outcome: str
    text: str


def record_minutes(
    actor: Actor,
    meeting: Meeting,
    minutes: str,
    decisions: Iterable[MinuteDecision] = (),
    at: dt.datetime | None = None,
) -> list[Decision]:
    """The secretary records the minutes: every decision updates its case (R-GOV-2 still applies: a forum
    without the mandate cannot have decided), and every "övriga frågor" item is carried to the next meeting
    for preparation (R-GOV-5). All or nothing."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    now = _now(at)
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        if now < meeting.starts_at:
            raise DomainError.single("minutes", "R-GOV-5", _("Mötet har inte hållits än."))
        if meeting.minutes_recorded_at:
            raise DomainError.single("minutes", "R-GOV-5", _("Mötesanteckningarna är redan registrerade."))
        recorded = []
        for d in decisions:
            if d.item.meeting_id != meeting.pk or d.item.case is None:
                raise DomainError.single(
                    "item", "R-GOV-2", _("Beslutet hör inte till en ärendepunkt på mötet.")
                )
            recorded.append(_decide(actor, d.item.case, meeting.forum, d.outcome, d.text, meeting, now))
            AgendaItem.objects.filter(pk=d.item.pk).update(outcome=d.text)
        next_meeting = (
            Meeting.objects.filter(forum=meeting.forum, starts_at__gt=meeting.starts_at)
            .order_by("starts_at")
            .first()
        )
        for item in meeting.items.filter(kind=AgendaItem.Kind.OTHER_BUSINESS):
            AgendaItem.objects.create(
                forum=meeting.forum,
                meeting=next_meeting,
                case=item.case,
                kind=AgendaItem.Kind.PREPARATION,
                title=item.title,
                material=item.material,
                carried_from=item,
                position=(next_meeting.items.count() + 1) if next_meeting else 0,
            )
        meeting.minutes = minutes.strip()
        meeting.minutes_recorded_at = now
        meeting.save(update_fields=["minutes", "minutes_recorded_at"])
    return recorded


# --- Forums, objects and plans --------------------------------------------------------------------


@dataclass
class Balance:
    region: int
    municipal: int
    required: bool

    @property
    def balanced(self) -> bool:
        return self.region == self.municipal

    @property
    def problem(self) -> Problem | None:
        if not self.required or self.balanced:
            return None
        return Problem(
            "members",
            "R-GOV-3",
            _(
                "Mandatet kräver jämn fördelning, men forumet har %(r)d ledamöter från regionen "
                "och %(m)d från "
                "kommunerna."
            )
            % {"r": self.region, "m": self.municipal},
        )


def forum_balance(forum: Forum) -> Balance:
    voting = [m for m in forum.members.all() if m.votes]
    return Balance(
        region=sum(1 for m in voting if m.side == Side.REGION),
        municipal=sum(1 for m in voting if m.side == Side.MUNICIPAL),
        required=forum.requires_balance,
    )


def set_managed_object_status(
    actor: Actor, obj: ManagedObject, status: str, since: dt.date, note: str = ""
) -> ManagedObject:
    actor.require(Perm.GOVERNANCE_MANAGE)
    if status not in ManagedObject.Status.values:
        raise DomainError.single("status", "R-GOV-OBJ", _("Okänd status."))
    if since < obj.status_since:
        raise DomainError.single("since", "R-GOV-OBJ", _("En statusändring kan inte gälla före den förra."))
    with transaction.atomic():
        obj.status = status
        obj.status_since = since
        obj.save(update_fields=["status", "status_since"])
        ManagedObjectStatus.objects.create(
            managed_object=obj, status=status, since=since, note=note.strip(), changed_by=actor.user
        )
    return obj


def follow_up_goal(
    actor: Actor, goal: PlanGoal, status: str, note: str = "", at: dt.datetime | None = None
) -> PlanGoal:
    actor.require(Perm.GOVERNANCE_MANAGE)
    if status not in GoalStatus.values:
        raise DomainError.single("status", "R-GOV-GOAL", _("Okänd status."))
    with transaction.atomic():
        goal.status = status
        goal.status_note = limited("note", note, 400)
        goal.save(update_fields=["status", "status_note"])
        GoalFollowUp.objects.create(
            goal=goal, at=_now(at), status=status, note=goal.status_note, by=actor.user
        )
    return goal


# --- Roadmap --------------------------------------------------------------------------------------


@dataclass
class Roadmap:
    decided: list[GovernanceCase]
    underway: list[GovernanceCase]
    done: list[GovernanceCase]
    rejected: list[GovernanceCase]
    parked: list[GovernanceCase]
    in_progress: list[GovernanceCase]


def public_roadmap() -> Roadmap:
    """What is decided, under way, done, rejected (with reason) and parked (with reason), and what is being
    prepared. Shows case texts and decisions only: no names of who raised a case."""
    cases = list(
        GovernanceCase.objects.select_related("addressee", "managed_object")
        .prefetch_related("decisions")
        .order_by("-priority", "-updated_at")
    )

    def having(*states: str) -> list[GovernanceCase]:
        return [c for c in cases if c.state in states]

    return Roadmap(
        decided=having(CaseState.DECIDED),
        underway=having(CaseState.IMPLEMENTATION),
        done=having(CaseState.DONE),
        rejected=having(CaseState.REJECTED),
        parked=having(CaseState.PARKED),
        in_progress=having(
            CaseState.INVENTORY, CaseState.ASSIGNED, CaseState.PREPARATION, CaseState.CONSULTATION
        ),
    )


def visible_cases(actor: Actor) -> Q:
    """Everyone with GOVERNANCE_VIEW sees every case: governance cases hold no personal data."""
    actor.require(Perm.GOVERNANCE_VIEW)
    return Q()


# --- Editing forums and their seats (GOVERNANCE_MANAGE; every change kept in ForumChange) -------------------

FORUM_CODE_RE = r"^[-a-z0-9_]{2,40}$"


@dataclass
class ForumInput:
    code: str
    name: str
    kind: str
    mandate: str
    areas: list[str]
    meeting_frequency: str = ""
    convener: str = ""
    requires_balance: bool = False
    source: str = ""


def _forum_change(actor: Actor, forum: Forum, action: str, note: str) -> None:
    ForumChange.objects.create(forum=forum, at=timezone.now(), by=actor.user, action=action, note=note)


def save_forum(actor: Actor, data: ForumInput, forum: Forum | None = None) -> Forum:
    """Create a forum or change one: name, kind, mandate text, decision areas, frequency, convener, and
    whether the mandate requires balance between region and municipalities (R-GOV-3). A working forum only
    prepares (R-GOV-2: no decision area); a decision forum needs at least one. Refused whole."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    problems: list[Problem] = []
    code = data.code.strip()
    if forum is None:
        if not re.match(FORUM_CODE_RE, code):
            problems.append(
                Problem("code", "R-GOV-FORUM", _("Koden är 2–40 små bokstäver, siffror eller bindestreck."))
            )
        elif code == "nytt" or Forum.objects.filter(code=code).exists():
            problems.append(Problem("code", "R-GOV-FORUM", _("Det finns redan ett forum med koden.")))
    if not data.name.strip():
        problems.append(Problem("name", "R-GOV-FORUM", _("Ange forumets namn.")))
    if data.kind not in Forum.Kind.values:
        problems.append(Problem("kind", "R-GOV-FORUM", _("Välj beslutsforum eller arbetsforum.")))
    if len(data.mandate.strip()) < 10:
        problems.append(Problem("mandate", "R-GOV-FORUM", _("Beskriv mandat och uppgift.")))
    areas = set(data.areas)
    if not areas <= set(MandateArea.values):
        problems.append(Problem("areas", "R-GOV-FORUM", _("Okänt beslutsområde.")))
    deciding = areas - {MandateArea.PREPARATION}
    if data.kind == Forum.Kind.WORKING and deciding:
        problems.append(
            Problem("areas", "R-GOV-2", _("Ett arbetsforum bereder men beslutar inte: välj bara beredning."))
        )
    if data.kind == Forum.Kind.DECISION and not deciding:
        problems.append(Problem("areas", "R-GOV-2", _("Ett beslutsforum behöver minst ett beslutsområde.")))
    if problems:
        raise DomainError(problems)
    if data.kind == Forum.Kind.WORKING:
        areas = {MandateArea.PREPARATION}
    fields = {
        "name": data.name.strip(),
        "kind": data.kind,
        "mandate": data.mandate.strip(),
        "meeting_frequency": limited("meeting_frequency", data.meeting_frequency, 120),
        "convener": limited("convener", data.convener, 200),
        "requires_balance": data.requires_balance,
        "source": limited("source", data.source, 300),
    }
    with transaction.atomic():
        if forum is None:
            forum = Forum.objects.create(code=code, **fields)
            action = "created"
        else:
            for name, value in fields.items():
                setattr(forum, name, value)
            forum.save()
            action = "updated"
        old_areas = set(forum.mandates.values_list("area", flat=True))
        forum.mandates.exclude(area__in=areas).delete()
        for area in sorted(areas - old_areas):
            ForumMandate.objects.create(forum=forum, area=area)
        _forum_change(actor, forum, action, ", ".join(sorted(areas)))
    return forum


def add_forum_member(
    actor: Actor,
    forum: Forum,
    title: str,
    side: str,
    role: str = ForumMember.Role.MEMBER,
    organisation: Organisation | None = None,
    subregion: Subregion | None = None,
) -> tuple[ForumMember, Problem | None]:
    """Add a seat (by title and party, not a person's name). Returns the seat and, where the mandate requires
    balance, the R-GOV-3 flag if the forum is now unbalanced — a warning, not a refusal, since seats are
    added one at a time and the seed's own SITIV list is unbalanced."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    problems: list[Problem] = []
    if not title.strip():
        problems.append(Problem("title", "R-GOV-FORUM", _("Ange uppdrag eller titel.")))
    if side not in Side.values:
        problems.append(Problem("side", "R-GOV-FORUM", _("Välj part.")))
    if role not in ForumMember.Role.values:
        problems.append(Problem("role", "R-GOV-FORUM", _("Välj roll.")))
    if organisation is not None and side in (Side.REGION, Side.MUNICIPAL):
        region_side = organisation.is_region_side
        if region_side != (side == Side.REGION):
            problems.append(
                Problem("organisation", "R-GOV-3", _("Organisationen hör inte till den valda parten."))
            )
    if problems:
        raise DomainError(problems)
    with transaction.atomic():
        member = ForumMember.objects.create(
            forum=forum,
            title=limited("title", title, 200),
            side=side,
            role=role,
            organisation=organisation,
            subregion=subregion,
        )
        _forum_change(
            actor, forum, "member_added", f"{member.title} ({Side(side).label}, {member.get_role_display()})"
        )
    return member, forum_balance(forum).problem


def remove_forum_member(actor: Actor, member: ForumMember) -> Problem | None:
    """Remove a seat; returns the R-GOV-3 flag if the forum is now unbalanced where that is required."""
    actor.require(Perm.GOVERNANCE_MANAGE)
    forum = member.forum
    with transaction.atomic():
        _forum_change(actor, forum, "member_removed", f"{member.title} ({member.get_side_display()})")
        member.delete()
    return forum_balance(forum).problem
