"""The engine's input: what a stay's immutable case events say, reduced to the fields payment depends on.

The payment engine never reads the cases app. An adapter (docs/payment.md, "From case events to StayFacts")
turns each case's events into one StayFacts; settlement takes any iterable of them, and a stored run keeps the
exact StayFacts it was computed from (``as_dict``/``from_dict``), so it can be reproduced later."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class CareType(StrEnum):
    SOMATIC = "somatic"
    PSYCHIATRIC = "psychiatric"


@dataclass(frozen=True)
class DischargeReadyPeriod:
    """One physician assessment 'utskrivningsklar' (R-DEF-UK-1) and its withdrawal, if any (R-UK-2)."""

    set_at: dt.datetime
    withdrawn_at: dt.datetime | None = None


@dataclass(frozen=True)
class StayFacts:
    """One inpatient stay as the payment rules see it. All datetimes are aware.

    ``discharge_ready_notice_sent_at`` is the notice for the *latest* discharge-ready period: a withdrawal
    stops the clock (R-UK-2) and a new assessment needs a new notice, from which the clock starts again."""

    case_reference: str
    municipality_code: str  # folkbokföringskommun registered at admission (R-VG-BET-2, R-INS-7)
    care_type: CareType
    admitted_at: dt.datetime
    admission_notice_sent_at: dt.datetime | None
    discharge_ready: tuple[DischargeReadyPeriod, ...] = ()
    discharge_ready_notice_sent_at: dt.datetime | None = None
    discharged_at: dt.datetime | None = None  # also the time of death when the patient died in hospital
    sip_needed: bool = False
    sip_summons_sent_at: dt.datetime | None = None
    cancelled: bool = False  # the case was cancelled (felsänt, makulerat): it never creates cost
    ward: str = ""  # the ward's name, for people reading the invoice basis

    @property
    def active_discharge_ready(self) -> DischargeReadyPeriod | None:
        """The latest discharge-ready period if it was still in force at discharge (or is still open)."""
        if not self.discharge_ready:
            return None
        latest = max(self.discharge_ready, key=lambda p: p.set_at)
        return latest if latest.withdrawn_at is None else None

    @property
    def was_withdrawn(self) -> bool:
        return any(p.withdrawn_at is not None for p in self.discharge_ready)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_reference": self.case_reference,
            "municipality_code": self.municipality_code,
            "care_type": self.care_type.value,
            "admitted_at": _iso(self.admitted_at),
            "admission_notice_sent_at": _iso(self.admission_notice_sent_at),
            "discharge_ready": [
                {"set_at": _iso(p.set_at), "withdrawn_at": _iso(p.withdrawn_at)} for p in self.discharge_ready
            ],
            "discharge_ready_notice_sent_at": _iso(self.discharge_ready_notice_sent_at),
            "discharged_at": _iso(self.discharged_at),
            "sip_needed": self.sip_needed,
            "sip_summons_sent_at": _iso(self.sip_summons_sent_at),
            "cancelled": self.cancelled,
            "ward": self.ward,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StayFacts:
        return cls(
            case_reference=str(data["case_reference"]),
            municipality_code=str(data["municipality_code"]),
            care_type=CareType(data.get("care_type", CareType.SOMATIC)),
            admitted_at=_required(data["admitted_at"]),
            admission_notice_sent_at=_parse(data.get("admission_notice_sent_at")),
            discharge_ready=tuple(
                DischargeReadyPeriod(_required(p["set_at"]), _parse(p.get("withdrawn_at")))
                for p in data.get("discharge_ready", [])
            ),
            discharge_ready_notice_sent_at=_parse(data.get("discharge_ready_notice_sent_at")),
            discharged_at=_parse(data.get("discharged_at")),
            sip_needed=bool(data.get("sip_needed", False)),
            sip_summons_sent_at=_parse(data.get("sip_summons_sent_at")),
            cancelled=bool(data.get("cancelled", False)),
            ward=str(data.get("ward", "")),
        )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    return _required(value)


def _required(value: str | dt.datetime) -> dt.datetime:
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("Tidpunkter måste ha tidszon.")
    return parsed
