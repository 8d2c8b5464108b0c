"""Payment responsibility over the API: settlements (scoped like the pages), running a month from StayFacts,
reproducing a stored run, disputes and their resolution, and the rule and amount configuration."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from ninja import Router, Schema
from ninja.responses import Status

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError
from brygga.core.paging import set_paging_headers
from brygga.organisations.models import Municipality
from brygga.payment import services
from brygga.payment.facts import CareType, DischargeReadyPeriod, StayFacts
from brygga.payment.models import DailyAmount, Dispute, SettlementRun, cents

router = Router(tags=["Betalningsansvar och statistik"])


def _actor(request: AuthedRequest, perm: Perm) -> Actor:
    actor: Actor = request.actor
    actor.require(perm)
    return actor


class PeriodIn(Schema):
    set_at: dt.datetime
    withdrawn_at: dt.datetime | None = None


class StayFactsIn(Schema):
    case_reference: str
    municipality_code: str
    care_type: CareType = CareType.SOMATIC
    admitted_at: dt.datetime
    admission_notice_sent_at: dt.datetime | None = None
    discharge_ready: list[PeriodIn] = []
    discharge_ready_notice_sent_at: dt.datetime | None = None
    discharged_at: dt.datetime | None = None
    sip_needed: bool = False
    sip_summons_sent_at: dt.datetime | None = None
    cancelled: bool = False
    ward: str = ""

    def to_facts(self) -> StayFacts:
        moments = [self.admitted_at, self.admission_notice_sent_at, self.discharge_ready_notice_sent_at]
        moments += [self.discharged_at, self.sip_summons_sent_at]
        moments += [p.set_at for p in self.discharge_ready] + [p.withdrawn_at for p in self.discharge_ready]
        if any(m is not None and m.tzinfo is None for m in moments):
            raise DomainError.single(
                self.case_reference, "SCHEMA-TIDSZON", "Alla tidpunkter måste anges med tidszon."
            )
        return StayFacts(
            case_reference=self.case_reference,
            municipality_code=self.municipality_code,
            care_type=self.care_type,
            admitted_at=self.admitted_at,
            admission_notice_sent_at=self.admission_notice_sent_at,
            discharge_ready=tuple(
                DischargeReadyPeriod(p.set_at, p.withdrawn_at) for p in self.discharge_ready
            ),
            discharge_ready_notice_sent_at=self.discharge_ready_notice_sent_at,
            discharged_at=self.discharged_at,
            sip_needed=self.sip_needed,
            sip_summons_sent_at=self.sip_summons_sent_at,
            cancelled=self.cancelled,
            ward=self.ward,
        )


class RunIn(Schema):
    year: int
    month: int
    municipality_code: str | None = None  # None: every municipality
    facts: list[StayFactsIn] | None = None  # None: read from the cases in brygga (the adapter, ADR 0202)


class RunOut(Schema):
    id: int
    municipality_code: str
    municipality: str
    period: str
    sequence: int
    status: str
    source: str  # cases | supplied | demo: where the run's facts came from
    amount_per_day: Decimal | None
    amount_source: str
    payable_days: Decimal
    amount: Decimal | None
    problems: list[dict[str, Any]]
    open_disputes: int


class LineOut(Schema):
    id: int
    position: int
    case_reference: str
    kind: str
    rule: str
    notice_date: dt.date | None
    discharge_date: dt.date | None
    days: int | None
    payable_days: Decimal
    amount: Decimal | None
    exclusion_rule: str
    exclusion_reason: str
    explanation: str


class DisputeOut(Schema):
    id: int
    line_id: int
    status: str
    comment: str
    raised_at: dt.datetime
    raised_unit: str
    resolution: str
    resolved_at: dt.datetime | None


class RunDetailOut(RunOut):
    lines: list[LineOut]
    disputes: list[DisputeOut]
    rules: list[dict[str, Any]]
    input_digest: str


class ReproductionOut(Schema):
    reproduced: bool
    differences: list[str]


class DisputeIn(Schema):
    line_id: int
    comment: str


class ResolveIn(Schema):
    accepted: bool
    resolution: str


class AmountIn(Schema):
    year: int
    amount: str
    source: str
    source_url: str = ""


class AmountOut(Schema):
    year: int
    amount: Decimal
    source: str
    source_url: str
    recorded_at: dt.datetime
    in_force: bool


def _run_out(run: SettlementRun) -> dict[str, Any]:
    totals = run.totals()
    return {
        "id": run.pk,
        "municipality_code": run.municipality.scb_code,
        "municipality": run.municipality.name,
        "period": run.period,
        "sequence": run.sequence,
        "status": run.status,
        "source": run.source,
        "amount_per_day": run.amount_per_day,
        "amount_source": run.amount_source,
        "payable_days": totals["payable_days"],
        "amount": totals["amount"],
        "problems": run.problems,
        "open_disputes": Dispute.objects.filter(line__run=run, status=Dispute.Status.OPEN).count(),
    }


def _line_out(line: Any) -> dict[str, Any]:
    return {
        "id": line.pk,
        "position": line.position,
        "case_reference": line.case_reference,
        "kind": line.kind,
        "rule": line.rule_label,
        "notice_date": line.notice_date,
        "discharge_date": line.discharge_date,
        "days": line.days,
        "payable_days": line.payable_days,
        "amount": line.amount,
        "exclusion_rule": line.exclusion_rule,
        "exclusion_reason": line.exclusion_reason,
        "explanation": line.explanation,
    }


def _detail_out(run: SettlementRun) -> dict[str, Any]:
    data = _run_out(run)
    data["lines"] = [_line_out(line) for line in run.lines.order_by("position")]
    data["disputes"] = [
        _dispute_out(d) for d in Dispute.objects.filter(line__run=run).select_related("raised_unit")
    ]
    data["rules"] = run.rules
    data["input_digest"] = run.input_digest
    return data


def _dispute_out(d: Dispute) -> dict[str, Any]:
    return {
        "id": d.pk,
        "line_id": d.line_id,
        "status": d.status,
        "comment": d.comment,
        "raised_at": d.raised_at,
        "raised_unit": d.raised_unit.name,
        "resolution": d.resolution,
        "resolved_at": d.resolved_at,
    }


@router.get("/settlements", response=list[RunOut], summary="Avräkningar som den aktiva enheten får se")
def list_settlements(
    request: AuthedRequest,
    year: int | None = None,
    month: int | None = None,
    municipality: str | None = None,
    include_superseded: bool = False,
) -> list[dict[str, Any]]:
    actor = _actor(request, Perm.PAYMENT_VIEW)
    runs = services.visible_runs(actor)
    if year:
        runs = runs.filter(year=year)
    if month:
        runs = runs.filter(month=month)
    if municipality:
        runs = runs.filter(municipality__scb_code=municipality)
    if not include_superseded:
        runs = runs.exclude(status=SettlementRun.Status.SUPERSEDED)
    runs = runs.annotate(
        total_days=Sum("lines__payable_days"),
        total_amount=Sum("lines__amount"),
        disputes_open=Count("lines__disputes", filter=Q(lines__disputes__status=Dispute.Status.OPEN)),
    )
    return [
        {
            "id": run.pk,
            "municipality_code": run.municipality.scb_code,
            "municipality": run.municipality.name,
            "period": run.period,
            "sequence": run.sequence,
            "status": run.status,
            "source": run.source,
            "amount_per_day": run.amount_per_day,
            "amount_source": run.amount_source,
            "payable_days": cents(run.total_days),
            "amount": cents(run.total_amount) if run.amount_per_day is not None else None,
            "problems": run.problems,
            "open_disputes": run.disputes_open,
        }
        for run in runs[:1000]
    ]


@router.get(
    "/settlements/{run_id}",
    response=RunDetailOut,
    summary="En avräkning med rader och tvister",
    description=(
        "Alla rader i ett svar. För en stor kommuns månad (tusentals rader) läs raderna sida för sida med "
        "`GET /settlements/{run_id}/lines`, eller hämta hela underlaget som fil från webbsidan."
    ),
)
def read_settlement(request: AuthedRequest, run_id: int) -> dict[str, Any]:
    actor = _actor(request, Perm.PAYMENT_VIEW)
    return _detail_out(services.open_run(actor, run_id))


LINES_PAGE_MAX = 500


@router.get(
    "/settlements/{run_id}/lines",
    response=list[LineOut],
    summary="Avräkningens rader, en sida i taget (i radordning)",
    description=(
        "Sidindelad: `page` (från 1) och `page_size` (högst 500, standard 100). Svaret har rubrikerna "
        "`X-Total-Count` och `X-Page-Count`, och `Link` med `rel=next`/`rel=prev` när det finns fler sidor. "
        "Issue 17: ingen lista som växer med kommunens storlek hålls i ett enda svar."
    ),
)
def read_settlement_lines(
    request: AuthedRequest, response: HttpResponse, run_id: int, page: int = 1, page_size: int = 100
) -> list[dict[str, Any]]:
    actor = _actor(request, Perm.PAYMENT_VIEW)
    run = services.open_run(actor, run_id)
    found = Paginator(run.lines.order_by("position"), max(1, min(page_size, LINES_PAGE_MAX))).get_page(page)
    set_paging_headers(request, response, found)
    return [_line_out(line) for line in found.object_list]


@router.post(
    "/settlements",
    response={201: list[RunOut]},
    summary="Avräkna en månad från ärendena, eller från givna StayFacts (region)",
)
def run_settlement(request: AuthedRequest, payload: RunIn) -> Status[list[dict[str, Any]]]:
    """Without ``facts`` the month is settled from the cases in brygga; with them, from those facts. The
    same inputs give the same stored run back (a retry creates nothing new)."""
    actor = _actor(request, Perm.PAYMENT_MANAGE)
    facts = [f.to_facts() for f in payload.facts] if payload.facts is not None else None
    if payload.municipality_code:
        municipality = Municipality.objects.filter(scb_code=payload.municipality_code).first()
        if municipality is None:
            raise DomainError.single("municipality_code", "SCB-KOMMUNKOD", "Okänd kommunkod.")
        runs = [services.run_settlement(actor, municipality, payload.year, payload.month, facts)]
    else:
        runs = services.run_month(actor, payload.year, payload.month, facts)
    return Status(201, [_run_out(run) for run in runs])


@router.get(
    "/settlements/{run_id}/reproduction", response=ReproductionOut, summary="Räkna om från sparat underlag"
)
def reproduce(request: AuthedRequest, run_id: int) -> dict[str, Any]:
    actor = _actor(request, Perm.PAYMENT_MANAGE)
    differences = services.reproduce(services.open_run(actor, run_id))
    return {"reproduced": not differences, "differences": differences}


@router.post("/settlements/{run_id}/close", response=RunOut, summary="Stäng avräkningen (region)")
def close(request: AuthedRequest, run_id: int) -> dict[str, Any]:
    return _run_out(services.close_settlement(_actor(request, Perm.PAYMENT_MANAGE), run_id))


@router.post(
    "/settlements/{run_id}/disputes", response={201: DisputeOut}, summary="Bestrid en rad (kommunen)"
)
def raise_dispute(request: AuthedRequest, run_id: int, payload: DisputeIn) -> Status[dict[str, Any]]:
    actor = _actor(request, Perm.PAYMENT_DISPUTE)
    return Status(201, _dispute_out(services.raise_dispute(actor, run_id, payload.line_id, payload.comment)))


@router.post("/disputes/{dispute_id}/resolution", response=DisputeOut, summary="Besvara en tvist (region)")
def resolve_dispute(request: AuthedRequest, dispute_id: int, payload: ResolveIn) -> dict[str, Any]:
    actor = _actor(request, Perm.PAYMENT_MANAGE)
    return _dispute_out(services.resolve_dispute(actor, dispute_id, payload.accepted, payload.resolution))


@router.get("/rules", response=list[dict[str, Any]], summary="Gällande regelversioner")
def list_rules(request: AuthedRequest) -> list[dict[str, Any]]:
    _actor(request, Perm.PAYMENT_VIEW)
    result = []
    for rule in services.current_rules():
        data = rule.params().as_dict()
        data["source"] = rule.source
        result.append(data)
    return result


@router.get("/amounts", response=list[AmountOut], summary="Belopp per vårddygn och år, med källa")
def list_amounts(request: AuthedRequest) -> list[dict[str, Any]]:
    _actor(request, Perm.PAYMENT_VIEW)
    in_force = {
        a.pk
        for a in (
            services.current_amount(y)
            for y in DailyAmount.objects.order_by().values_list("year", flat=True).distinct()
        )
        if a
    }
    return [
        {
            "year": a.year,
            "amount": a.amount,
            "source": a.source,
            "source_url": a.source_url,
            "recorded_at": a.recorded_at,
            "in_force": a.pk in in_force,
        }
        for a in DailyAmount.objects.order_by("-year", "-recorded_at", "-id")
    ]


@router.post("/amounts", response={201: AmountOut}, summary="Registrera belopp för ett år (region)")
def record_amount(request: AuthedRequest, payload: AmountIn) -> Status[dict[str, Any]]:
    actor = _actor(request, Perm.PAYMENT_MANAGE)
    amount = services.record_amount(actor, payload.year, payload.amount, payload.source, payload.source_url)
    return Status(
        201,
        {
            "year": amount.year,
            "amount": amount.amount,
            "source": amount.source,
            "source_url": amount.source_url,
            "recorded_at": amount.recorded_at,
            "in_force": True,
        },
    )
