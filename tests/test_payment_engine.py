"""Hand-computed scenarios for the payment engine (pure: no database). Every expected amount below was worked
out by hand from the rules in rules.md §1.8 and §2.2, and is written next to the arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from brygga.payment.engine import (
    DayZero,
    LineKind,
    RuleKind,
    RuleParams,
    RuleScope,
    calculate,
    explain,
    select_rule,
)
from brygga.payment.facts import CareType, DischargeReadyPeriod, StayFacts

STOCKHOLM = dt.timezone(dt.timedelta(hours=1))  # CET; every date below is in winter or given with its offset

NATIONAL = RuleParams(
    "national-default",
    1,
    "Lagens förval",
    RuleKind.INDIVIDUAL,
    RuleScope.NATIONAL,
    None,
    dt.date(2018, 1, 1),
    free_days=3,
)
PSYCH_2018 = RuleParams(
    "national-psychiatry-2018",
    1,
    "Psykiatri 2018",
    RuleKind.INDIVIDUAL,
    RuleScope.NATIONAL,
    CareType.PSYCHIATRIC,
    dt.date(2018, 1, 2),
    dt.date(2018, 12, 31),
    free_days=30,
)
VG_AVERAGE = RuleParams(
    "vg-average",
    1,
    "VG medelvärdesmodell",
    RuleKind.AVERAGE,
    RuleScope.AGREEMENT,
    None,
    dt.date(2018, 9, 25),
    requires_sip_summons=True,
)
VG_PSYCH_2020 = RuleParams(
    "vg-psychiatry-2020",
    1,
    "VG psykiatri 2020",
    RuleKind.INDIVIDUAL,
    RuleScope.AGREEMENT,
    CareType.PSYCHIATRIC,
    dt.date(2020, 1, 1),
    dt.date(2020, 3, 31),
    free_days=7,
)
VG_RULES = [NATIONAL, PSYCH_2018, VG_AVERAGE, VG_PSYCH_2020]


def at(day: str, clock: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=STOCKHOLM)


def stay(
    ref: str,
    notice: str | None,
    discharged: str | None,
    *,
    admitted: str | None = None,
    admission_notice: bool = True,
    periods: tuple[DischargeReadyPeriod, ...] | None = None,
    municipality: str = "1480",
    care: CareType = CareType.SOMATIC,
    sip_needed: bool = False,
    sip_summons: str | None = None,
) -> StayFacts:
    admitted_at = at(admitted) if admitted else at(notice or "2018-01-01") - dt.timedelta(days=5)
    if periods is None:
        periods = (DischargeReadyPeriod(at(notice, "09:00")),) if notice else ()
    return StayFacts(
        case_reference=ref,
        municipality_code=municipality,
        care_type=care,
        admitted_at=admitted_at,
        admission_notice_sent_at=admitted_at + dt.timedelta(hours=2) if admission_notice else None,
        discharge_ready=periods,
        discharge_ready_notice_sent_at=at(notice) if notice else None,
        discharged_at=at(discharged, "15:00") if discharged else None,
        sip_needed=sip_needed,
        sip_summons_sent_at=at(sip_summons) if sip_summons else None,
    )


def by_ref(calculation):  # type: ignore[no-untyped-def]
    return {line.case_reference: line for line in calculation.lines}


def total(calculation) -> Decimal:  # type: ignore[no-untyped-def]
    return sum((line.amount or Decimal(0) for line in calculation.lines), Decimal(0))


# --- the Västra Götaland average model (R-VG-BET-1..5) ----------------------------------------------------

VG_MARCH_2022 = [
    stay("A", "2022-03-01", "2022-03-03"),  # 2 days
    stay("B", "2022-03-05", "2022-03-12"),  # 7 days: not MORE than seven, stays in the average
    stay("C", "2022-03-10", "2022-03-16"),  # 6 days
    stay("D", "2022-03-15", "2022-03-15"),  # 0 days (discharged the day of the notice)
    stay("E", "2022-03-01", "2022-03-12"),  # 11 days > 7: individual, 11 − 3 = 8 days
    stay(  # withdrawn and never set again: excluded (R-UK-2)
        "F",
        None,
        "2022-03-20",
        admitted="2022-02-25",
        periods=(DischargeReadyPeriod(at("2022-03-02"), at("2022-03-04")),),
    ),
    stay(  # withdrawn, set again on the 6th with a new notice: 3 days from the new notice
        "G",
        "2022-03-06",
        "2022-03-09",
        periods=(
            DischargeReadyPeriod(at("2022-03-01"), at("2022-03-03")),
            DischargeReadyPeriod(at("2022-03-06", "09:00")),
        ),
    ),
    stay("H", "2022-03-02", "2022-03-10", admission_notice=False),  # excluded (R-VG-BET-2)
    stay("I", "2022-02-28", "2022-03-02"),  # over the month boundary: 2 days, all in March
    stay("J", "2022-03-29", "2022-04-02"),  # discharged in April: not in March at all
    stay("K", "2022-03-01", "2022-03-20", municipality="1490"),  # Borås: not Göteborg's
]


def test_vg_average_model_march_2022_hand_computed() -> None:
    """R-VG-BET-1/3/5: average members A2+B7+C6+D0+G3+I2 = 20 days over N=6; 20 − 3.0×6 = 2 days above the
    average → 2 × 9 300 = 18 600 kr. E stayed 11 days (> 7): 11 − 3 = 8 days → 74 400 kr. Total 93 000 kr."""
    result = calculate("1480", 2022, 3, VG_MARCH_2022, VG_RULES, Decimal("9300"))
    lines = by_ref(result)
    assert {ref: (line.kind, line.days) for ref, line in lines.items() if ref and ref in "ABCDGI"} == {
        "A": (LineKind.AVERAGE_MEMBER, 2),
        "B": (LineKind.AVERAGE_MEMBER, 7),
        "C": (LineKind.AVERAGE_MEMBER, 6),
        "D": (LineKind.AVERAGE_MEMBER, 0),
        "G": (LineKind.AVERAGE_MEMBER, 3),
        "I": (LineKind.AVERAGE_MEMBER, 2),
    }
    assert lines["E"].kind == LineKind.LONG_STAY and lines["E"].days == 11
    assert lines["E"].payable_days == Decimal(8) and lines["E"].amount == Decimal("74400.00")
    excess = lines[""]
    assert excess.kind == LineKind.AVERAGE_EXCESS and excess.days == 20
    assert excess.payable_days == Decimal("2.0") and excess.amount == Decimal("18600.00")
    assert total(result) == Decimal("93000.00")
    assert "J" not in lines and "K" not in lines
    assert all(line.rule_label == "vg-average v1" for line in result.lines if line.case_reference != "")


def test_withdrawn_discharge_ready_is_excluded_and_a_reset_restarts_the_clock() -> None:
    """R-UK-2: F was withdrawn and never set again → excluded; G counts from the new notice only."""
    lines = by_ref(calculate("1480", 2022, 3, VG_MARCH_2022, VG_RULES, Decimal("9300")))
    assert lines["F"].kind == LineKind.EXCLUDED and lines["F"].exclusion_rule == "R-UK-2"
    assert lines["F"].amount is None
    assert lines["G"].days == 3 and "återtogs" in lines["G"].explanation


def test_case_missing_its_admission_notice_is_excluded_and_reported() -> None:
    """R-VG-BET-2 / R-BET-2: no admission notice → no cost, and a (non-blocking) problem names the field."""
    result = calculate("1480", 2022, 3, VG_MARCH_2022, VG_RULES, Decimal("9300"))
    line = by_ref(result)["H"]
    assert line.kind == LineKind.EXCLUDED and line.exclusion_rule == "R-VG-BET-2"
    assert line.payable_days == 0 and line.amount is None
    [problem] = [p for p in result.problems if p.case_reference == "H"]
    assert problem.field == "admission_notice_sent_at" and problem.rule == "R-VG-BET-2"
    assert not problem.blocking and result.is_complete


def test_month_boundary_discharge_month_decides_in_the_average_model() -> None:
    """A stay discharged on 2 April counts in April's average: 4 days (29 Mar → 2 Apr), N=1 → 4 − 3 = 1 day
    above the average → 9 300 kr. It is not in March's settlement (see the March test)."""
    result = calculate("1480", 2022, 4, VG_MARCH_2022, VG_RULES, Decimal("9300"))
    lines = by_ref(result)
    assert lines["J"].days == 4 and lines[""].payable_days == Decimal("1.0")
    assert total(result) == Decimal("9300.00")


def test_seven_day_rule_boundary() -> None:
    """R-VG-BET-5: 'more than seven' days. 7 days stays in the average (7 − 3 = 4 above → 4 × 9 300 =
    37 200); 8 days is individual (8 − 3 = 5 → 46 500)."""
    seven = calculate("1480", 2022, 5, [stay("S", "2022-05-01", "2022-05-08")], VG_RULES, Decimal("9300"))
    eight = calculate("1480", 2022, 5, [stay("T", "2022-05-01", "2022-05-09")], VG_RULES, Decimal("9300"))
    assert by_ref(seven)["S"].kind == LineKind.AVERAGE_MEMBER and total(seven) == Decimal("37200.00")
    assert by_ref(eight)["T"].kind == LineKind.LONG_STAY and total(eight) == Decimal("46500.00")
    assert "" not in by_ref(eight)  # no average members → no excess line


def test_day_zero_convention_is_configurable() -> None:
    """R-VG-BET-8: notice 1 May, discharged 5 May. Day-0: 4 days → 1 above 3.0 → 9 300 kr.
    Day-1: 5 days → 2 above → 18 600 kr."""
    facts = [stay("A", "2022-05-01", "2022-05-05")]
    day_one = RuleParams(**{**VG_AVERAGE.__dict__, "day_zero": DayZero.NOTICE_DAY_IS_ONE})
    assert total(calculate("1480", 2022, 5, facts, [VG_AVERAGE], Decimal("9300"))) == Decimal("9300.00")
    assert total(calculate("1480", 2022, 5, facts, [day_one], Decimal("9300"))) == Decimal("18600.00")
    # the case's payment page counts the same way as the settlement
    assert explain(facts[0], [VG_AVERAGE], dt.date(2022, 6, 1)).days == 4
    assert explain(facts[0], [day_one], dt.date(2022, 6, 1)).days == 5
    # the individual rules count from the notice day as day 0 whatever day_zero says
    individual = RuleParams(**{**NATIONAL.__dict__, "day_zero": DayZero.NOTICE_DAY_IS_ONE})
    assert individual.day_offset == 0 and explain(facts[0], [individual], dt.date(2022, 6, 1)).days == 4


def test_three_month_window_decides_whether_the_month_pays() -> None:
    """R-VG-BET-4 with window 3: March has 4+4 days (8 − 6 = 2 above). January had 1+1 days, so the window's
    average is 10/4 = 2.5 ≤ 3.0 and March pays nothing; with the monthly window March pays 2 × 9 300."""
    facts = [
        stay("J1", "2022-01-10", "2022-01-11"),
        stay("J2", "2022-01-12", "2022-01-13"),
        stay("M1", "2022-03-01", "2022-03-05"),
        stay("M2", "2022-03-10", "2022-03-14"),
    ]
    quarterly = RuleParams(**{**VG_AVERAGE.__dict__, "window_months": 3})
    assert total(calculate("1480", 2022, 3, facts, [quarterly], Decimal("9300"))) == Decimal("0.00")
    assert total(calculate("1480", 2022, 3, facts, [VG_AVERAGE], Decimal("9300"))) == Decimal("18600.00")


def test_sip_summons_missing_when_needed_excludes_the_case() -> None:
    """R-VG-BET-2: 'kallelse till SIP om behov finns'."""
    facts = [
        stay("N", "2022-05-01", "2022-05-06", sip_needed=True),
        stay("Y", "2022-05-01", "2022-05-06", sip_needed=True, sip_summons="2022-05-02"),
    ]
    lines = by_ref(calculate("1480", 2022, 5, facts, VG_RULES, Decimal("9300")))
    assert lines["N"].kind == LineKind.EXCLUDED and lines["N"].exclusion_rule == "R-VG-BET-2"
    assert lines["Y"].kind == LineKind.AVERAGE_MEMBER and lines["Y"].days == 5


# --- the national default (R-BET-1/2) ----------------------------------------------------------------------

NATIONAL_2019 = [
    stay("P1", "2019-03-04", "2019-03-10"),  # responsible from 7 Mar: 7, 8, 9 → 3 days
    stay("P2", "2019-03-04", "2019-03-06"),  # discharged before responsibility starts: 0 days
    stay("P3", "2019-02-25", "2019-03-04"),  # from 28 Feb: 1 day in February, 1–3 Mar = 3 days in March
    stay("P4", "2019-03-04", "2019-03-20", admission_notice=False),  # R-BET-2: no admission notice
    stay(  # R-BET-2: assessed discharge-ready, but no notice was sent
        "P5",
        None,
        "2019-03-20",
        admitted="2019-03-01",
        periods=(DischargeReadyPeriod(at("2019-03-05")),),
    ),
]


def test_national_default_three_calendar_days_hand_computed() -> None:
    """R-BET-1: responsibility from three calendar days after the notice; 7 800 kr per day in 2019 (R-BET-4).
    March: P1 3 days + P3 3 days = 6 days → 46 800 kr."""
    result = calculate("1480", 2019, 3, NATIONAL_2019, [NATIONAL], Decimal("7800"))
    lines = by_ref(result)
    assert (lines["P1"].payable_days, lines["P1"].amount) == (Decimal(3), Decimal("23400.00"))
    assert (lines["P2"].payable_days, lines["P2"].amount) == (Decimal(0), Decimal("0.00"))
    assert (lines["P3"].payable_days, lines["P3"].amount) == (Decimal(3), Decimal("23400.00"))
    assert lines["P4"].exclusion_rule == "R-BET-2" and lines["P5"].exclusion_rule == "R-BET-2"
    assert {p.field for p in result.problems} == {
        "admission_notice_sent_at",
        "discharge_ready_notice_sent_at",
    }
    assert total(result) == Decimal("46800.00")


def test_national_default_splits_a_stay_over_the_month_boundary() -> None:
    """P3: notice 25 Feb, responsible from 28 Feb → February pays 1 day (7 800 kr)."""
    result = calculate("1480", 2019, 2, NATIONAL_2019, [NATIONAL], Decimal("7800"))
    assert list(by_ref(result)) == ["P3"]
    assert total(result) == Decimal("7800.00")


def test_stay_still_in_hospital_is_counted_to_the_end_of_the_month() -> None:
    """Notice 20 Mar, not discharged: responsible from 23 Mar, 23–31 Mar = 9 days → 70 200 kr."""
    result = calculate("1480", 2019, 3, [stay("Q", "2019-03-20", None)], [NATIONAL], Decimal("7800"))
    assert by_ref(result)["Q"].payable_days == Decimal(9) and total(result) == Decimal("70200.00")


# --- historical psychiatric rules, precedence and missing amounts ---------------------------------------


def test_psychiatry_2018_thirty_days_and_a_missing_amount_is_reported_not_guessed() -> None:
    """R-BET-5: psychiatric care 2018 from 30 days after the notice: notice 2 May → from 1 June; discharged
    10 June → 9 days in June. Somatic care the same month uses the national 3 days. No amount is known for
    2018 (R-BET-4), so the days are shown and the amounts are None, with a blocking problem."""
    facts = [
        stay("PSY", "2018-05-02", "2018-06-10", care=CareType.PSYCHIATRIC),
        stay("SOM", "2018-06-01", "2018-06-10"),
    ]
    result = calculate("1480", 2018, 6, facts, VG_RULES, None)
    lines = by_ref(result)
    assert lines["PSY"].rule_label == "national-psychiatry-2018 v1" and lines["PSY"].payable_days == 9
    assert lines["SOM"].rule_label == "national-default v1" and lines["SOM"].payable_days == 6
    assert lines["PSY"].amount is None and lines["SOM"].amount is None
    assert [(p.rule, p.blocking) for p in result.problems] == [("R-BET-4", True)]
    assert not result.is_complete


def test_agreed_rules_take_precedence_and_psychiatry_2020_is_dated_history() -> None:
    """R-GOV-1, R-VG-BET-6: in Q1 2020 psychiatric stays were individual from 7 days; from 1 April 2020 they
    follow the average model. Notice 10 Feb, discharged 20 Feb → from 17 Feb, 3 days → 24 600 kr (8 200)."""
    early = stay("E", "2020-02-10", "2020-02-20", care=CareType.PSYCHIATRIC)
    late = stay("L", "2020-04-02", "2020-04-06", care=CareType.PSYCHIATRIC)
    assert select_rule(early, VG_RULES)[0] == VG_PSYCH_2020
    assert select_rule(late, VG_RULES)[0] == VG_AVERAGE
    result = calculate("1480", 2020, 2, [early], VG_RULES, Decimal("8200"))
    assert total(result) == Decimal("24600.00")


def test_two_equally_specific_rules_are_a_blocking_problem() -> None:
    clash = RuleParams(**{**VG_AVERAGE.__dict__, "code": "vg-other"})
    result = calculate("1480", 2022, 3, [stay("A", "2022-03-01", "2022-03-03")], [VG_AVERAGE, clash], None)
    assert by_ref(result)["A"].exclusion_rule == "R-GOV-1"
    assert any(p.rule == "R-GOV-1" and p.blocking for p in result.problems)


def test_contradictory_timestamps_are_blocking_problems() -> None:
    facts = [stay("X", "2022-03-10", "2022-03-05")]  # discharged before the notice
    result = calculate("1480", 2022, 3, facts, VG_RULES, Decimal("9300"))
    assert by_ref(result)["X"].exclusion_rule == "BETALNING-TIDPUNKTER"
    assert not result.is_complete


def test_local_date_decides_the_day() -> None:
    """A notice at 23:30 UTC on 31 March is 1 April in Sweden (CEST, +2): discharged 5 April → 4 days."""
    facts = [
        StayFacts(
            "Z",
            "1480",
            CareType.SOMATIC,
            admitted_at=dt.datetime(2022, 3, 25, 8, tzinfo=dt.UTC),
            admission_notice_sent_at=dt.datetime(2022, 3, 25, 9, tzinfo=dt.UTC),
            discharge_ready=(DischargeReadyPeriod(dt.datetime(2022, 3, 31, 22, tzinfo=dt.UTC)),),
            discharge_ready_notice_sent_at=dt.datetime(2022, 3, 31, 23, 30, tzinfo=dt.UTC),
            discharged_at=dt.datetime(2022, 4, 5, 10, tzinfo=dt.UTC),
        )
    ]
    assert by_ref(calculate("1480", 2022, 4, facts, VG_RULES, Decimal("9300")))["Z"].days == 4


def test_facts_round_trip_and_the_calculation_is_deterministic() -> None:
    restored = [StayFacts.from_dict(f.as_dict()) for f in VG_MARCH_2022]
    assert restored == VG_MARCH_2022
    rules = [RuleParams.from_dict(r.as_dict()) for r in VG_RULES]
    assert rules == VG_RULES
    first = calculate("1480", 2022, 3, VG_MARCH_2022, VG_RULES, Decimal("9300"))
    again = calculate("1480", 2022, 3, list(reversed(restored)), rules, Decimal("9300"))
    assert first == again


def test_explain_one_stay_as_the_settlement_sees_it() -> None:
    """engine.explain (the case's payment page) makes the same rule choice and precondition checks as
    calculate: R-BET-1 before the agreement (responsible from notice + 3 days), R-VG-BET-1/5 after it,
    R-VG-BET-2 exclusion without an admission notice, and a stay still in hospital counted to today."""
    national = explain(stay("N", "2018-03-05", "2018-03-12"), VG_RULES, dt.date(2026, 11, 23))
    assert (
        national.rule == NATIONAL and national.responsible_from == dt.date(2018, 3, 8) and national.days == 7
    )
    average = explain(stay("A", "2022-03-14", "2022-03-18"), VG_RULES, dt.date(2026, 11, 23))
    assert average.rule == VG_AVERAGE and average.days == 4 and not average.long_stay
    long = explain(stay("L", "2022-03-14", "2022-03-24"), VG_RULES, dt.date(2026, 11, 23))
    assert long.days == 10 and long.long_stay and long.responsible_from is None
    still_in = explain(stay("S", "2022-03-14", None), VG_RULES, dt.date(2022, 3, 16))
    assert still_in.in_hospital and still_in.days == 2
    missing = explain(
        stay("M", "2022-03-14", "2022-03-18", admission_notice=False), VG_RULES, dt.date(2026, 11, 23)
    )
    assert missing.exclusion is not None and missing.exclusion[0] == "R-VG-BET-2" and missing.days is None
    none = explain(stay("X", "2017-06-01", "2017-06-09"), VG_RULES, dt.date(2026, 11, 23))
    assert none.rule is None and "Ingen betalningsregel" in none.rule_problem
