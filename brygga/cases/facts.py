"""A case as the payment rules see it: the fields of ``payment``'s StayFacts input, read from the case row
and its events with corrections and cancellations applied (ADR 0101). Plain data, so the cases app does not
import the payment app; ``StayFactsIn(**stay_facts_fields(case)).to_facts()`` builds the engine's input."""

from __future__ import annotations

from typing import Any

from brygga.cases.models import Case, CaseEvent, Participant

Kind = CaseEvent.Kind


def _voided_ids(events: list[CaseEvent]) -> set[int]:
    voided: set[int] = set()
    for event in events:
        if event.kind == Kind.NOTICE_CANCELLED:
            voided.add(int(event.data.get("target_event", 0)))
            voided.update(int(v) for v in event.data.get("voids", []) if v)
    return voided


def stay_facts_fields(case: Case) -> dict[str, Any] | None:
    """None for a case without a municipality in Västra Götaland (outside the payment model)."""
    if case.municipality is None:
        return None
    events = list(CaseEvent.objects.filter(case=case).order_by("occurred_at", "id"))
    voided = _voided_ids(events)
    live = [e for e in events if e.pk not in voided]
    municipal_units = set(
        Participant.objects.filter(
            case=case,
            status=Participant.Status.ACTIVE,
            unit__municipality=case.municipality,
            role=Participant.Role.MUNICIPALITY,
        ).values_list("unit_id", flat=True)
    )
    notice_at = next(
        (
            e.occurred_at
            for e in live
            if e.kind == Kind.ADMISSION_NOTICE_SENT
            and any(r.get("id") in municipal_units for r in e.data.get("recipients", []))
        ),
        None,
    )
    periods: list[dict[str, Any]] = []
    latest_set: CaseEvent | None = None
    for event in live:
        if event.kind == Kind.DISCHARGE_READY_SET:
            periods.append({"set_at": event.occurred_at, "withdrawn_at": None})
            latest_set = event
        elif event.kind == Kind.DISCHARGE_READY_WITHDRAWN and periods and periods[-1]["withdrawn_at"] is None:
            periods[-1]["withdrawn_at"] = event.occurred_at
    died = next((e.occurred_at for e in live if e.kind == Kind.DIED), None)
    return {
        "case_reference": str(case.pk),
        "municipality_code": case.municipality.scb_code,
        "care_type": case.care_type,
        "admitted_at": case.admitted_at,  # the row carries corrections (notice_corrected)
        "admission_notice_sent_at": notice_at,
        "discharge_ready": periods,
        "discharge_ready_notice_sent_at": latest_set.occurred_at if latest_set else None,
        "discharged_at": case.discharged_at or died,  # the row drops a voided discharge
        "sip_needed": bool(latest_set.data.get("sip_needed", case.sip_needed))
        if latest_set
        else case.sip_needed,
        "sip_summons_sent_at": case.sip_summons_sent_at,
        "cancelled": case.status == Case.Status.CANCELLED or any(e.kind == Kind.CANCELLED for e in events),
        "ward": case.ward.name,
    }
