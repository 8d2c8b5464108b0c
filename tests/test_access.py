"""Need-to-know and the access log (R-ACC-1, R-LOG-1..3): not-found for not-yours, every read logged in the
same transaction, the log append-only and tamper-evident, and the person's log extract."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from brygga.access.models import AccessLogEntry, AccessLogSeal, Involvement
from brygga.access.persons import reveal_protected_identity
from brygga.access.services import (
    end_involvement,
    entry_mac,
    involve,
    log_access,
    log_extract,
    log_list_access,
    lookup_person,
    open_person,
    seal_access_log,
    verify_access_log,
    visible_persons,
)
from brygga.accounts.permissions import Role
from brygga.core.errors import NotFound
from brygga.people.presenters import display_address, display_name, person_summary
from tests.factories import CONTACT_POINT, OTHER_WARD, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db


def test_involved_unit_reads_and_the_read_is_logged() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    assert open_person(nurse, person.pk) == person
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.unit, entry.person, entry.action, entry.what) == (
        nurse.user,
        unit(WARD),
        person,
        "read",
        "person",
    )
    assert entry.person_identifier == person.identifier
    assert entry.unit_hsa_id == unit(WARD).hsa_id and entry.had_involvement is True


def test_not_involved_looks_exactly_like_not_existing() -> None:
    other = actor(Role.WARD_NURSE, OTHER_WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    with pytest.raises(NotFound):
        open_person(other, person.pk)
    with pytest.raises(NotFound):
        open_person(other, 999_999_999)
    assert AccessLogEntry.objects.count() == 0
    assert list(visible_persons(other)) == []


@pytest.mark.parametrize(
    "role", [Role.STATISTICS, Role.LOG_REVIEWER, Role.LOCAL_ADMIN, Role.GITS_COORDINATOR]
)
def test_roles_without_clinical_read_see_nothing_even_when_involved(role: Role) -> None:
    someone = actor(role, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    with pytest.raises(NotFound):
        open_person(someone, person.pk)
    assert AccessLogEntry.objects.count() == 0


def test_involvement_ends_after_the_grace_period(settings) -> None:  # type: ignore[no-untyped-def]
    settings.BRYGGA_INVOLVEMENT_GRACE_DAYS = 30
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    with time_machine.travel(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC), tick=False):
        involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
        end_involvement(person, unit(WARD), "case:1")
    with time_machine.travel(dt.datetime(2026, 1, 30, 12, tzinfo=dt.UTC), tick=False):
        assert open_person(nurse, person.pk) == person
    with time_machine.travel(dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC), tick=False), pytest.raises(NotFound):
        open_person(nurse, person.pk)


def test_lookup_without_involvement_is_logged_and_flagged() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    assert lookup_person(nurse, person.formatted_identifier) == person
    entry = AccessLogEntry.objects.get()
    assert entry.action == "lookup" and entry.had_involvement is False


def test_lookup_needs_the_permission() -> None:
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    person = make_person()
    with pytest.raises(NotFound):
        lookup_person(contact, person.identifier)
    assert AccessLogEntry.objects.count() == 0


def test_log_entry_rolls_back_with_its_transaction() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    with pytest.raises(RuntimeError), transaction.atomic():
        open_person(nurse, person.pk)
        raise RuntimeError("the view failed after reading")
    assert AccessLogEntry.objects.count() == 0


def test_the_log_is_append_only_in_the_database() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    open_person(nurse, person.pk)
    entry = AccessLogEntry.objects.get()
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    for statement in ("UPDATE access_accesslogentry SET what = 'x'", "DELETE FROM access_accesslogentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AccessLogEntry.objects.get().what == "person"


def _bypass_triggers(sql: str) -> None:
    """What an attacker with database-owner rights could do: drop the guard and change a row."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser session can skip user triggers without ALTER TABLE (which would wait for the test's
            # pending foreign-key checks).
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql)
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            cursor.execute("DROP TRIGGER access_log_no_update")
            cursor.execute("DROP TRIGGER access_log_no_delete")
            cursor.execute(sql)


def _three_sealed_entries() -> list[AccessLogEntry]:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    start = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    for minute in range(3):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            open_person(nurse, person.pk)
    seal_access_log(now=start + dt.timedelta(hours=1))
    return list(AccessLogEntry.objects.order_by("id"))


def test_intact_log_verifies_and_sealing_is_idempotent() -> None:
    _three_sealed_entries()
    assert verify_access_log() == []
    assert AccessLogSeal.objects.get().entry_count == 3
    assert seal_access_log(now=dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC)) is None
    assert AccessLogSeal.objects.count() == 1


def test_a_list_read_of_many_persons_is_written_whole_in_order_and_verifies() -> None:
    """R-LOG-1 (issue 17: the entries of a list go in without the model layer, as multi-row INSERTs of 50 on
    SQLite and one INSERT of arrays on PostgreSQL): 120 persons, one entry each in the order shown, every
    column as built, and the sealed chain verifies."""
    nurse = actor(Role.WARD_NURSE, WARD)
    persons = [make_person() for _ in range(120)]
    start = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        log_list_access(nurse, persons, "inkorg:1")
    entries = list(AccessLogEntry.objects.order_by("id"))
    assert [e.person_id for e in entries] == [p.pk for p in persons]
    assert [e.person_identifier for e in entries] == [p.identifier for p in persons]
    first = entries[0]
    assert (first.at, first.user_id, first.unit_id, first.action, first.what, first.had_involvement) == (
        start,
        nurse.user.pk,
        unit(WARD).pk,
        AccessLogEntry.Action.READ,
        "inkorg:1",
        True,
    )
    assert (first.unit_label, first.role, first.channel, first.reason) == (WARD, Role.WARD_NURSE, "web", "")
    seal_access_log(now=start + dt.timedelta(hours=1))
    assert verify_access_log() == []
    assert AccessLogSeal.objects.get().entry_count == 120


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's INSERT of one JSON document")
def test_a_list_read_is_one_statement_of_the_same_text_whatever_its_length() -> None:
    """R-LOG-1, issue 17: on PostgreSQL a list's entries go in as one INSERT whose text does not depend on
    the number of persons (so psycopg converts it once and the server prepares it), and each entry is whole."""
    nurse = actor(Role.WARD_NURSE, WARD)
    ran: list[str] = []
    texts = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        ran.append(sql)
        return execute(sql, params, many, context)

    for count in (3, 70):
        persons = [make_person() for _ in range(count)]
        ran.clear()
        with connection.execute_wrapper(record):
            log_list_access(nurse, persons, f"inkorg:{count}")
        assert len(ran) == 1
        texts.append(ran[0])
        written = AccessLogEntry.objects.filter(what=f"inkorg:{count}").order_by("id")
        assert [e.person_id for e in written] == [p.pk for p in persons]
        assert [e.mac for e in written] == [entry_mac(e) for e in written]
    assert texts[0] == texts[1] and texts[0].count("%s") == 1
    assert verify_access_log() == []


def test_an_entry_is_never_cut_to_fit_and_an_overlong_one_writes_nothing() -> None:
    """R-LOG-1: what an entry says it recorded is written whole or not at all. A ``what`` of 200 characters
    is written as it is; one of 201 is refused (a defect of the calling code, every label is code-built),
    alone or in a list, and no entry is written."""
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    log_access(nurse, person, AccessLogEntry.Action.READ, "x" * 200, had_involvement=True)
    assert AccessLogEntry.objects.get().what == "x" * 200
    with pytest.raises(ValueError, match="201 characters"):
        log_access(nurse, person, AccessLogEntry.Action.READ, "y" * 201, had_involvement=True)
    with pytest.raises(ValueError, match="201 characters"):
        log_list_access(nurse, [person, make_person()], "z" * 201)
    assert AccessLogEntry.objects.count() == 1


def test_changed_entry_is_detected() -> None:
    entries = _three_sealed_entries()
    _bypass_triggers(
        f"UPDATE access_accesslogentry SET unit_label = 'Annan enhet' WHERE id = {entries[1].pk}"
    )
    problems = verify_access_log()
    assert any(f"Loggpost {entries[1].pk} har ändrats" in p for p in problems)


def test_removed_entry_is_detected() -> None:
    entries = _three_sealed_entries()
    _bypass_triggers(f"DELETE FROM access_accesslogentry WHERE id = {entries[0].pk}")
    assert any("omfattade 3 poster men 2 finns kvar" in p for p in verify_access_log())


def test_log_extract_lists_units_and_times_including_a_replaced_reserve_number() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    person = make_person()
    reserve = make_person(identifier="19500101R123")
    reserve.replaced_by = person
    reserve.save(update_fields=["replaced_by"])
    for u in (WARD, CONTACT_POINT):
        involve(person, unit(u), Involvement.Kind.INPATIENT_CASE, "case:1")
    involve(reserve, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:0")
    open_person(nurse, reserve.pk)
    open_person(nurse, person.pk)
    open_person(contact, person.pk)
    extract = list(log_extract(person))
    assert [(e.unit_label, e.person_identifier) for e in extract] == [
        (WARD, "19500101R123"),
        (WARD, person.identifier),
        (CONTACT_POINT, person.identifier),
    ]
    assert all(e.at for e in extract)


def test_protected_identity_is_masked_in_every_summary_and_revealed_only_with_a_logged_action() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person(protected=True, given_name="Hemlig", family_name="Hemligsson")
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    summary = person_summary(open_person(nurse, person.pk))
    assert "Hemlig" not in str(summary) and "Provgatan" not in str(summary)
    assert display_name(person) == "Skyddad identitet"
    assert "Provgatan" not in display_address(person)
    reveal_protected_identity(nurse, person)
    assert AccessLogEntry.objects.filter(action="reveal", person=person).count() == 1
    assert display_name(person, revealed=True) == "Hemlig Hemligsson"


def test_reveal_is_refused_to_units_without_involvement() -> None:
    other = actor(Role.WARD_NURSE, OTHER_WARD)
    person = make_person(protected=True)
    with pytest.raises(NotFound):
        reveal_protected_identity(other, person)
    assert AccessLogEntry.objects.count() == 0
