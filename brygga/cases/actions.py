"""Who may do what in a case, and in which state: ONE table (issue 18 item 5, ADR 0903).

Each action of the case page has a row: the participant roles that may do it, the permissions of which
the user's role must hold one, and the case states in which it can be done. The services call ``check``
before they change anything (so a refusal names the same rule whatever the channel), and the case page
asks ``allowed`` so it shows only the actions the user can actually take. ``irreversible`` actions
(death, cancellation, annulment) are shown behind a separate, confirmed step."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.cases.models import Case, Participant
from brygga.core import statements
from brygga.core.errors import DomainError

WARD = frozenset({Participant.Role.WARD})
RECEIVERS = frozenset({Participant.Role.MUNICIPALITY, Participant.Role.PRIMARY_CARE})
PRIMARY_CARE = frozenset({Participant.Role.PRIMARY_CARE})
ANYONE = WARD | RECEIVERS

OPEN = frozenset({Case.Status.ADMITTED, Case.Status.ON_LEAVE})
ADMITTED = frozenset({Case.Status.ADMITTED})
ENDED = frozenset({Case.Status.DISCHARGED, Case.Status.DIED, Case.Status.CANCELLED})
ANY_STATE = frozenset(Case.Status.values)


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    perms: tuple[Perm, ...]
    states: frozenset[str]
    irreversible: bool = False
    # For the vårdcentral's steps: the rule and message a municipal unit is refused with.
    refusal: tuple[str, str, str] | None = None


TABLE: dict[str, Rule] = {
    "notice": Rule(WARD, (Perm.CASE_CREATE,), OPEN),
    "add-recipient": Rule(WARD, (Perm.CASE_CREATE,), OPEN),
    "expected-date": Rule(WARD, (Perm.CASE_UPDATE,), OPEN),
    "discharge-ready": Rule(WARD, (Perm.CASE_SET_DISCHARGE_READY,), OPEN),
    "withdraw-discharge-ready": Rule(WARD, (Perm.CASE_SET_DISCHARGE_READY,), OPEN),
    "planning": Rule(WARD, (Perm.CASE_UPDATE,), OPEN),
    "checklist": Rule(WARD, (Perm.CASE_UPDATE,), OPEN),
    "discharge-info": Rule(WARD, (Perm.CASE_UPDATE,), OPEN),
    "discharge": Rule(WARD, (Perm.CASE_UPDATE,), OPEN),
    "close": Rule(WARD, (Perm.CASE_UPDATE,), ENDED),
    "transfer": Rule(WARD, (Perm.CASE_UPDATE,), ADMITTED),
    "leave-start": Rule(WARD, (Perm.CASE_UPDATE,), ADMITTED),
    "leave-end": Rule(WARD, (Perm.CASE_UPDATE,), frozenset({Case.Status.ON_LEAVE})),
    "correct-notice": Rule(WARD, (Perm.CASE_UPDATE,), ANY_STATE),
    "replace-reserve": Rule(WARD, (Perm.CASE_UPDATE,), ANY_STATE),
    "death": Rule(WARD, (Perm.CASE_UPDATE,), OPEN, irreversible=True),
    "cancel-case": Rule(WARD, (Perm.CASE_UPDATE,), OPEN, irreversible=True),
    "cancel-notice": Rule(WARD, (Perm.CASE_UPDATE,), OPEN | {Case.Status.DISCHARGED}, irreversible=True),
    "reject": Rule(RECEIVERS, (Perm.CASE_RECEIVE,), ANY_STATE),
    "receiver-plan": Rule(RECEIVERS, (Perm.CASE_RECEIVE,), OPEN),
    "coordinator": Rule(
        PRIMARY_CARE,
        (Perm.CASE_APPOINT_COORDINATOR,),
        OPEN,
        refusal=("coordinator", "R-FVK-1", "Fast vårdkontakt utses av vårdcentralen."),
    ),
    "sip-summons": Rule(
        PRIMARY_CARE,
        (Perm.SIP_MANAGE,),
        OPEN,
        refusal=("sip", "R-FVK-2", "Kallelse till SIP skickas av fast vårdkontakt."),
    ),
    "meeting": Rule(ANYONE, (Perm.CASE_UPDATE, Perm.SIP_MANAGE), OPEN),
    "acknowledge": Rule(ANYONE, (Perm.CASE_READ,), ANY_STATE),
}


def active_participant(actor: Actor, case: Case) -> Participant | None:
    """The active unit's active participation in the case, if any. With its unit and the unit's organisation
    and principal: the callers that find one mostly read the unit next (a message's sender), and the check of
    a message's legal basis reads its principal (two queries a message, issue 17). Compiled once per process
    (ADR 0707): every action asks it."""
    if actor.unit is None:
        return None
    return statements.reused_first(  # type: ignore[no-any-return]
        "active_participant",
        lambda case_id, unit_id: (
            Participant.objects.filter(case_id=case_id, unit_id=unit_id, status=Participant.Status.ACTIVE)
            .select_related("unit__organisation__principal")
            .order_by("pk")[:1]
        ),
        case_id=case.pk,
        unit_id=actor.unit.pk,
    )


def check(
    actor: Actor, case: Case, name: str, participant: Participant | None = None, state: bool = True
) -> Participant:
    """Refuse unless the table allows ``name`` for this user and unit in the case's current state: the
    permission (BEHORIGHET), the unit's role in the case (AVSANDARE for the ward's steps, MOTTAGARE for the
    receivers', the rule of the vårdcentral's steps), then the state (FEL-STATUS, 409) unless ``state`` is
    False (the service locks the case and calls ``check_state`` on the fresh row). Returns the participant."""
    rule = TABLE[name]
    if not any(actor.can(p) for p in rule.perms):
        raise DomainError.single(
            "", "BEHORIGHET", _("Din roll i den aktiva enheten får inte göra detta."), status=403
        )
    participant = participant or active_participant(actor, case)
    if participant is None or participant.role not in rule.roles:
        if rule.roles == WARD:
            raise DomainError.single(
                "unit",
                "AVSANDARE",
                _("Bara den vårdavdelning där patienten vårdas kan göra detta."),
                status=403,
            )
        if rule.refusal is not None and participant is not None and participant.role in RECEIVERS:
            field, code, message = rule.refusal
            raise DomainError.single(field, code, _(message), status=403)
        raise DomainError.single(
            "unit", "MOTTAGARE", _("Bara en mottagande enhet i ärendet kan göra detta."), status=403
        )
    if state:
        check_state(case, name)
    return participant


def allowed(actor: Actor, case: Case, participant: Participant | None) -> set[str]:
    """Every action of the table this user may take in the case now (for the page)."""
    found = set()
    for name, rule in TABLE.items():
        if (
            participant is not None
            and participant.role in rule.roles
            and case.status in rule.states
            and any(actor.can(p) for p in rule.perms)
        ):
            found.add(name)
    return found


def check_state(case: Case, name: str) -> None:
    """Only the state part of ``check``, for a service that re-reads the case under a lock first."""
    if case.status not in TABLE[name].states:
        raise DomainError.single(
            "status",
            "FEL-STATUS",
            _("Ärendet har status %(status)s; steget går inte att göra nu.")
            % {"status": case.get_status_display()},
            status=409,
        )


@dataclass(frozen=True)
class NextStep:
    action: str  # the table's action name; the page opens its form and links to it
    text: str
    rule: str = ""


def next_step(
    case: Case, participant: Participant | None, allowed_now: set[str], has_planning: bool, has_plan: bool
) -> NextStep | None:
    """What the user's unit should do next in the case, from its role and the case's state, among the actions
    it may take now. None when nothing is waiting for the unit."""
    if participant is None:
        return None
    candidates: list[tuple[bool, NextStep]] = []
    if participant.needs_ack:
        candidates.append((True, NextStep("acknowledge", _("Kvittera det nya i ärendet"), "")))
    if participant.role == Participant.Role.WARD:
        candidates += [
            (not case.notice_sent_at, NextStep("notice", _("Skicka inskrivningsmeddelandet"), "R-INS-2")),
            (not has_planning, NextStep("planning", _("Fyll i planeringsunderlaget"), "R-PLAN-1")),
            (
                not case.discharge_ready_at,
                NextStep("discharge-ready", _("Bedöm om patienten är utskrivningsklar"), "R-DEF-UK-1"),
            ),
            (
                not case.discharge_info_sent_at,
                NextStep("discharge-info", _("Skicka information vid utskrivning"), "R-UTS-1"),
            ),
            (True, NextStep("discharge", _("Skriv ut patienten"), "")),
            (True, NextStep("close", _("Avsluta ärendet"), "")),
        ]
    else:
        candidates += [
            (
                not case.coordinator_name,
                NextStep("coordinator", _("Utse fast vårdkontakt före utskrivningen"), "R-FVK-1"),
            ),
            (
                case.sip_needed and not case.sip_summons_sent_at,
                NextStep("sip-summons", _("Kalla till SIP inom tre dagar"), "R-SIP-K-1"),
            ),
            (not has_plan, NextStep("receiver-plan", _("Registrera er planering och när ni är redo"), "")),
        ]
    for wanted, step in candidates:
        if wanted and step.action in allowed_now:
            return step
    return None
