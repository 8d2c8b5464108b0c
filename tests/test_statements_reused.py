"""Querysets compiled once per shape (ADR 0707, issue 17): ``statements.reused`` gives the rows the ORM gives,
binds each value where the ORM put it, and refuses what it cannot reuse safely."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case, Participant
from brygga.core import statements
from brygga.people.models import Person
from tests.factories import WARD, actor, make_person

pytestmark = pytest.mark.django_db

ADMITTED = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def make_case(person: Person | None = None) -> Case:
    with time_machine.travel(ADMITTED, tick=False):
        return services.admit(
            actor(Role.WARD_NURSE, WARD),
            person or make_person(),
            admitted_at=ADMITTED,
            care_type="somatic",
            expected_discharge_date=dt.date(2026, 3, 9),
        )


def _cases_of(person_id: int):  # type: ignore[no-untyped-def]
    return Case.objects.filter(person_id=person_id).select_related("person", "ward").order_by("pk")


def test_the_rows_are_the_orms_for_each_value_with_related_objects_built() -> None:
    first, second = make_case(), make_case()
    for case in (first, second, first):
        with CaptureQueriesContext(connection) as ran:
            rows = statements.reused("cases of", _cases_of, person_id=case.person_id)
        assert [r.pk for r in rows] == [case.pk]
        # select_related is built from the same row: reading the person and ward asks nothing more
        with CaptureQueriesContext(connection) as after:
            assert rows[0].person.identifier == case.person.identifier
            assert rows[0].ward.name == case.ward.name
        assert len(ran.captured_queries) == 1 and len(after.captured_queries) == 0


def test_the_statement_is_compiled_once_per_key() -> None:
    first, second = make_case(), make_case()
    built = []

    def build(person_id: int):  # type: ignore[no-untyped-def]
        built.append(person_id)
        return _cases_of(person_id)

    statements.reused("counted", build, person_id=first.person_id)
    statements.reused("counted", build, person_id=second.person_id)
    # Once for the shape, and once per run by the suite's check against the ORM's own statement
    assert len(built) == 1 + 2


def test_prefetch_and_annotations_work_as_in_the_orm() -> None:
    case = make_case()
    from django.db.models import Count

    rows = statements.reused(
        "annotated",
        lambda case_id: (
            Case.objects.filter(pk=case_id)
            .annotate(units=Count("participants"))
            .prefetch_related("participants")
        ),
        case_id=case.pk,
    )
    assert rows[0].units == Participant.objects.filter(case=case).count()
    assert len(rows[0].participants.all()) == rows[0].units


def test_a_value_of_the_clock_is_computed_at_each_run() -> None:
    case = make_case()
    admitted = dt.datetime(2030, 5, 1, 12, tzinfo=dt.UTC)
    Case.objects.filter(pk=case.pk).update(admitted_at=admitted)
    for moment, expected in (
        (admitted - dt.timedelta(hours=1), []),
        (admitted + dt.timedelta(hours=1), [case.pk]),
    ):
        rows = statements.reused(
            "admitted before",
            lambda case_id, now=moment: Case.objects.filter(
                pk=case_id, admitted_at__lt=statements.moment(now)
            ),
            now=moment,
            case_id=case.pk,
        )
        assert [r.pk for r in rows] == expected


def test_a_value_changed_before_it_is_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="changed before it is bound"):
        statements.reused("search", lambda q: Person.objects.filter(family_name__icontains=q), q="and")


def test_a_value_that_shapes_the_statement_is_refused() -> None:
    with pytest.raises(ValueError, match="not bound as they are"):
        statements.reused(
            "shaped", lambda flag: Person.objects.filter(Q(pk__gt=0) if flag else Q()), flag="on"
        )
    with pytest.raises(TypeError, match="must be an int or a str"):
        statements.reused("bool", lambda flag: Person.objects.filter(protected_identity=flag), flag=True)


def test_the_suites_check_catches_a_shape_that_depends_on_a_value() -> None:
    """The check the test suite runs on every reuse: a build that reads a value for more than its place in
    the statement compiles another statement for the real value than for the stand-in."""
    person = make_person()

    def build(person_id: int):  # type: ignore[no-untyped-def]
        people = Person.objects.filter(pk=person_id)
        return people.order_by("pk") if person_id == person.pk else people.order_by("-pk")

    with pytest.raises(AssertionError, match="differs from the ORM"):
        statements.reused("sneaky", build, person_id=person.pk)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite binds a moment as text")
def test_a_moment_written_into_the_statement_is_refused() -> None:
    """A moment that is not an ``at_run`` value would stay the first run's for every later run."""
    with pytest.raises(ValueError, match="not an at_run value"):
        statements.reused(
            "frozen clock",
            lambda case_id: Case.objects.filter(pk=case_id, admitted_at__lt=ADMITTED),
            case_id=1,
        )


def test_the_session_read_on_every_request_expires_with_the_clock_of_each_run() -> None:
    """R-AUTH-1's idle log-out through the session store whose read is compiled once (ADR 0707): a session
    is found before its expiry and not after, in one process, with the statement compiled at the first."""
    from django.conf import settings

    from brygga.accounts.sessions import SessionStore

    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        store = SessionStore()
        store["marker"] = "kept"
        store.create()
        store.save()
        key = store.session_key
        assert SessionStore(key).load() == {"marker": "kept"}
    age = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    with time_machine.travel(start + age - dt.timedelta(seconds=1), tick=False):
        assert SessionStore(key).load() == {"marker": "kept"}
    with time_machine.travel(start + age + dt.timedelta(seconds=1), tick=False):
        expired = SessionStore(key)
        assert expired.load() == {}
        assert expired.session_key is None


def test_a_statement_that_matches_nothing_by_construction_gives_no_rows_and_runs_nothing() -> None:
    case = make_case()
    for _ in range(2):
        with CaptureQueriesContext(connection) as ran:
            rows = statements.reused(
                "none", lambda case_id: Case.objects.filter(pk=case_id).none(), case_id=case.pk
            )
        assert rows == [] and ran.captured_queries == []


def test_a_list_of_ids_runs_one_statement_per_step_of_ten_and_gives_the_orms_rows() -> None:
    """``reused_in`` (issue 17: the inbox's participations, the notified units): any number of ids up to a
    step of ten runs the same text; repeated ids count once; no ids run nothing; above the limit the ORM
    compiles as usual. Every run gives the rows the ORM gives for the same ids."""
    cases = [make_case() for _ in range(12)]
    ids = [c.pk for c in cases]
    built: list[int] = []

    def build(found_ids: list[int]):  # type: ignore[no-untyped-def]
        built.append(len(found_ids))
        return Case.objects.filter(pk__in=found_ids).order_by("pk")

    texts: list[str] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        texts.append(sql)
        return execute(sql, params, many, context)

    for chosen in (ids[:3], ids[:7] + ids[:2], ids[:10], ids[:11], ids):
        with connection.execute_wrapper(record):
            rows = statements.reused_in("cases by id", build, chosen)
        assert [r.pk for r in rows] == sorted(set(chosen))
    assert len(texts) == 5
    assert texts[0] == texts[1] == texts[2] and texts[3] == texts[4] and texts[0] != texts[3]
    assert texts[0].count("%s") == 10 and texts[3].count("%s") == 20
    assert built[0] == 10 and 20 in built  # the suite's check compiles each run again: the other calls
    with CaptureQueriesContext(connection) as ran:
        assert statements.reused_in("cases by id", build, []) == []
    assert len(ran.captured_queries) == 0
    many = [*ids, *range(10_000_000, 10_000_000 + statements._IDS_LIMIT)]
    assert [r.pk for r in statements.reused_in("cases by id", build, many)] == ids
    assert built[-1] == len(many)  # compiled as usual, not padded
