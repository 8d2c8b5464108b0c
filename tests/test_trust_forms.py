"""Records a nurse can trust (issue 13 items 2–4, issue 20 item 3 first part): a refused form changes nothing
and gives back everything typed, with the error at its field; one open stay per person under any timing;
implausible dates and over-long texts refused, never cut."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
import time_machine
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse

from brygga.accounts.permissions import Role
from brygga.cases import rules, services
from brygga.cases.models import Case, PlanningBasis
from brygga.consent.models import Consent
from brygga.core.errors import DomainError
from tests.factories import CONTACT_POINT, OTHER_WARD, PRIMARY_CARE, WARD, actor, make_person, unit
from tests.snapshot import changed_tables, db_snapshot

pytestmark = pytest.mark.django_db

# A fixed instant, travelled to: every date below is relative to it, never to the real today.
NOW = dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)
LOCAL = "%Y-%m-%dT%H:%M"


def client_for(role: Role, unit_name: str = WARD) -> Client:
    client = Client()
    client.force_login(actor(role, unit_name).user)
    return client


def admission_form(identifier: str, **overrides: str) -> dict[str, str]:
    form = {
        "identifier": identifier,
        "admitted_at": "2026-11-10T08:15",
        "care_type": "psychiatric",
        "expected_discharge_date": "2026-11-17",
        "need_assessed": "on",
        "send_notice": "on",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture(autouse=True)
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


# --- item 2: no half-saved admission ------------------------------------------------------------------------


def test_refused_notice_leaves_no_case_and_the_corrected_form_goes_through_R_INS_4() -> None:
    nurse = client_for(Role.WARD_NURSE)
    person = make_person("1480")
    before = db_snapshot()
    refused = nurse.post(reverse("cases:new"), admission_form(person.identifier, expected_discharge_date=""))
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "Beräknat utskrivningsdatum måste anges." in page and "R-INS-4" in page
    assert changed_tables(before, db_snapshot()) == []  # not the case, not its participant, not its events
    # everything typed is still there
    assert f'value="{person.identifier}"' in page and 'value="2026-11-10T08:15"' in page
    assert re.search(r'value="psychiatric"\s+checked', page)
    assert re.search(r'id="field-need_assessed" name="need_assessed"\s+checked', page)
    assert re.search(r'id="field-send_notice" name="send_notice"\s+checked', page)
    assert 'aria-invalid="true" aria-describedby="error-expected_discharge_date"' in page
    # corrected and sent again: no dead end
    accepted = nurse.post(reverse("cases:new"), admission_form(person.identifier))
    assert accepted.status_code == 302
    case = Case.objects.get(person=person)
    assert case.notice_sent_at is not None and case.care_type == "psychiatric"


def test_second_admission_links_the_open_stay_the_ward_takes_part_in() -> None:
    nurse = client_for(Role.WARD_NURSE)
    person = make_person("1480")
    assert nurse.post(reverse("cases:new"), admission_form(person.identifier)).status_code == 302
    case = Case.objects.get(person=person)
    before = db_snapshot()
    again = nurse.post(reverse("cases:new"), admission_form(person.identifier))
    assert again.status_code == 400
    page = again.content.decode()
    assert f"ärende {case.pk}" in page
    assert f'href="{reverse("cases:detail", args=[case.pk])}"' in page
    assert "ETT-VARDTILLFALLE" not in page  # an internal code, not shown to the nurse
    assert changed_tables(before, db_snapshot()) == []


def test_second_admission_at_another_ward_names_no_stay_it_may_not_see() -> None:
    person = make_person("1480")
    assert (
        client_for(Role.WARD_NURSE).post(reverse("cases:new"), admission_form(person.identifier)).status_code
        == 302
    )
    case = Case.objects.get(person=person)
    other = client_for(Role.WARD_NURSE, OTHER_WARD)
    page = other.post(reverse("cases:new"), admission_form(person.identifier)).content.decode()
    assert "pågående vårdtillfälle på en annan enhet" in page
    assert reverse("cases:detail", args=[case.pk]) not in page
    assert Case.objects.filter(person=person).count() == 1


def test_api_refuses_a_second_open_stay_naming_the_rule() -> None:
    nurse = actor(Role.WARD_NURSE)
    person = make_person("1480")
    services.admit(nurse, person, admitted_at=NOW, care_type="somatic")
    with pytest.raises(DomainError) as err:
        services.admit(nurse, person, admitted_at=NOW, care_type="somatic")
    assert [(p.field, p.rule) for p in err.value.problems] == [("identifier", "ETT-VARDTILLFALLE")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("admitted_at", "1999-11-10T08:15"),  # the admission in 1999 that the form accepted
        ("admitted_at", "2025-11-01T08:15"),  # more than a year back
        ("expected_discharge_date", "2028-01-01"),  # more than a year after the admission
    ],
)
def test_implausible_dates_are_refused_at_their_field(field: str, value: str) -> None:
    nurse = client_for(Role.WARD_NURSE)
    person = make_person("1480")
    before = db_snapshot()
    response = nurse.post(reverse("cases:new"), admission_form(person.identifier, **{field: value}))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="error-{field}"' in page and f'value="{value}"' in page
    assert changed_tables(before, db_snapshot()) == []


def test_the_database_itself_refuses_a_second_open_stay() -> None:
    """The constraint one_open_stay_per_person, not only the check in ``admit`` (SQLite and PostgreSQL)."""
    nurse = actor(Role.WARD_NURSE)
    person = make_person("1480")
    case = services.admit(nurse, person, admitted_at=NOW, care_type="somatic")
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.create(
            person=person, ward=case.ward, site=case.site, care_type="somatic", admitted_at=NOW
        )
    # a closed stay does not count: a new stay after discharge is allowed by the constraint
    Case.objects.filter(pk=case.pk).update(status=Case.Status.CLOSED)
    Case.objects.create(person=person, ward=case.ward, site=case.site, care_type="somatic", admitted_at=NOW)


def _in_own_connection(work):  # type: ignore[no-untyped-def]
    """Run ``work`` in a thread, so on its own database connection, outside the test's transaction: what it
    writes is committed and seen by the other threads."""
    result: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return result[0] if result else None


def test_two_wards_admitting_the_same_person_at_once_give_one_stay() -> None:
    """Issue 20 item 3: two wards (or a double click) admitting the same person at the same moment. On
    PostgreSQL the two transactions really overlap — both pass the check, both insert — and the partial
    unique index lets one commit while the other gets ETT-VARDTILLFALLE. SQLite serialises writers, so the
    race cannot happen there and the test is skipped."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions (PostgreSQL); SQLite serialises writers")
    from brygga.access.models import AccessLogEntry, Involvement
    from brygga.accounts.models import Membership, User
    from brygga.cases.models import CaseEvent, Participant
    from brygga.people.models import Person

    # Committed set-up, in its own connection (the test's own transaction is invisible to the threads).
    person, wards = _in_own_connection(
        lambda: (
            make_person("1480"),
            [actor(Role.WARD_NURSE, WARD, "race-a"), actor(Role.WARD_NURSE, OTHER_WARD, "race-b")],
        )
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def admit(ward_actor) -> None:  # type: ignore[no-untyped-def]
        try:
            with transaction.atomic():
                # Both threads have passed the open-stay check before either inserts: the race.
                if Case.objects.filter(person=person, status__in=services.OPEN).exists():
                    outcomes.append("seen")
                barrier.wait(timeout=10)
                services.admit(ward_actor, person, admitted_at=NOW, care_type="somatic")
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.problems[0].rule)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=admit, args=(w,)) for w in wards]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes) == ["ETT-VARDTILLFALLE", "ok"]
        assert (
            _in_own_connection(lambda: Case.objects.filter(person=person, status__in=services.OPEN).count())
            == 1
        )
    finally:

        def clean_up() -> None:
            # The committed rows go again; the access log is append-only, so its triggers are switched off
            # for this one transaction (DDL is transactional in PostgreSQL: nobody else sees them off).
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending at the ALTERs
                cursor.execute("ALTER TABLE access_accesslogentry DISABLE TRIGGER USER")
                AccessLogEntry.objects.filter(person=person).delete()
                CaseEvent.objects.filter(case__person=person).delete()
                Participant.objects.filter(case__person=person).delete()
                Case.objects.filter(person=person).delete()
                Involvement.objects.filter(person=person).delete()
                Person.objects.filter(pk=person.pk).delete()
                users = [w.user.pk for w in wards]
                Membership.objects.filter(user_id__in=users).delete()
                User.objects.filter(pk__in=users).delete()
                cursor.execute("ALTER TABLE access_accesslogentry ENABLE TRIGGER USER")

        _in_own_connection(clean_up)


# --- item 4: nothing typed is lost --------------------------------------------------------------------------


@pytest.fixture
def case() -> Case:
    nurse = actor(Role.WARD_NURSE)
    person = make_person("1480")
    found = services.admit_with_notice(
        nurse,
        person,
        admitted_at=NOW - dt.timedelta(hours=2),
        care_type="somatic",
        expected_discharge_date=(NOW + dt.timedelta(days=5)).date(),
    )
    return found


def planning_form(**overrides: str) -> dict[str, str]:
    form = {f"answers.{k}": "ja" for k in rules.PLANNING_QUESTIONS}
    form.update({f"needs.{k}": "vet_ej" for k in rules.NEEDS})
    form.update({f"needs_text.{k}": f"Behov {k} — skrivet av sjuksköterskan" for k in rules.NEEDS})
    form.update({f"nursing.{k}": f"Status {k}: lugn" for k in rules.NURSING_AREAS})
    form.update({"medications": "Alvedon 1 g x 4", "consent": "nej"})
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def test_refused_planning_basis_gives_back_every_radio_and_text(case: Case) -> None:
    nurse = client_for(Role.WARD_NURSE)
    form = planning_form(**{"answers.lives_alone": None})  # type: ignore[arg-type]
    before = db_snapshot()
    response = nurse.post(reverse("cases:action", args=[case.pk, "planning"]), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert changed_tables(before, db_snapshot()) == []
    assert not PlanningBasis.objects.filter(case=case).exists()
    for key in rules.PLANNING_QUESTIONS:
        if key != "lives_alone":
            assert re.search(rf'id="q-{key}-ja" name="answers.{key}" value="ja"\s+checked', page), key
    for key in rules.NEEDS:
        assert re.search(rf'id="n-{key}-vet_ej" name="needs.{key}" value="vet_ej"\s+checked', page), key
        assert f"Behov {key} — skrivet av sjuksköterskan" in page
    for key in rules.NURSING_AREAS:
        assert f"Status {key}: lugn</textarea>" in page
    assert "Alvedon 1 g x 4</textarea>" in page
    assert re.search(r'id="c-nej" name="consent" value="nej"\s+checked', page)
    # the error is at the unanswered question, which is marked and described by it
    assert 'id="error-planning-answers.lives_alone"' in page
    assert 'aria-invalid="true" aria-describedby="error-planning-answers.lives_alone"' in page
    assert 'href="#error-planning-answers.lives_alone"' in page  # the summary links to it


def test_refused_consent_keeps_the_ticked_categories_and_choices(case: Case) -> None:
    nurse = client_for(Role.WARD_NURSE)
    person = case.person
    home = unit(CONTACT_POINT)
    vc = unit(PRIMARY_CARE)
    data = {
        "action": "consent",
        "given_by": "representative",
        "representative_name": "Greta Prov",
        "representative_relation": "god man",
        "consent_form": "written",
        "purpose": "Samordnad utskrivning",
        "parties": [str(home.pk), str(vc.pk)],
        "categories": ["health", "sip"],
        "excluded_categories": ["social"],
        "exclusions_note": "",  # the one error (R-SEK-4)
        "valid_until": "2027-01-31",
    }
    before = db_snapshot()
    response = nurse.post(reverse("sip:consents", args=[person.pk]), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert changed_tables(before, db_snapshot()) == [] and not Consent.objects.exists()
    assert re.search(r'id="gb-representative" name="given_by" value="representative"\s+checked', page)
    assert 'value="Greta Prov"' in page and 'value="god man"' in page
    assert re.search(r'<option value="written"\s+selected', page)
    for k in ("health", "sip"):
        assert re.search(rf'id="cat-{k}" name="categories" value="{k}"\s+checked', page), k
    assert not re.search(r'id="cat-social" name="categories" value="social"\s+checked', page)
    assert re.search(r'id="xcat-social" name="excluded_categories" value="social"\s+checked', page)
    for pk in (home.pk, vc.pk):
        assert re.search(rf'<option value="{pk}"\s+selected', page)
    assert 'value="2027-01-31"' in page
    assert 'aria-invalid="true" aria-describedby="error-consent-exclusions_note"' in page


def test_error_summary_takes_focus_links_fields_and_shows_no_internal_codes() -> None:
    nurse = client_for(Role.WARD_NURSE)
    page = nurse.post(reverse("cases:new"), admission_form("19500101-0000")).content.decode()
    summary = page[
        page.index('class="error-summary"') - 5 : page.index("</div>", page.index("error-summary"))
    ]
    assert "autofocus" in summary and 'tabindex="-1"' in summary and 'role="alert"' in summary
    assert 'href="#field-identifier"' in summary
    assert "(PERSON)" not in page and "(PNR-KONTROLLSIFFRA)" not in page
    assert "novalidate" in page  # the browser's English bubble never replaces the Swedish message


# Each case-page form with one error: the refusal changes nothing (one form, one transaction).
CASE_FORMS = [
    ("expected-date", {"expected_discharge_date": "2026-11-20", "reason": "other", "comment": ""}),
    ("discharge-ready", {"at": "2030-01-01T10:00"}),
    ("meeting", {"form": "on_site", "starts_at": "2026-11-12T10:00", "location": ""}),
    ("discharge", {"discharged_at": "2026-11-10T09:30", "destination": "Hem"}),
    ("death", {"died_at": ""}),
    ("transfer", {"to_ward": "0", "at": "2026-11-10T08:30"}),
    ("cancel-case", {"reason": "", "text": "fel person"}),
    ("correct-notice", {"target_event": "0", "new_time": "2026-11-10T07:00", "reason": "typo"}),
    ("coordinator", {"coordinator_name": "x" * 201, "coordinator_phone": "031"}),
]


@pytest.mark.parametrize(("name", "data"), CASE_FORMS, ids=[n for n, _d in CASE_FORMS])
def test_a_refused_case_form_changes_nothing(case: Case, name: str, data: dict[str, str]) -> None:
    role = Role.PHYSICIAN if name == "discharge-ready" else Role.WARD_NURSE
    client = client_for(role)
    if name == "coordinator":
        client = client_for(Role.CARE_COORDINATOR, PRIMARY_CARE)
    before = db_snapshot()
    response = client.post(reverse("cases:action", args=[case.pk, name]), data)
    assert response.status_code in (400, 409), response.status_code
    assert changed_tables(before, db_snapshot()) == []


# --- item 3: nothing silently cut ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("needs_text.primary_care", rules.TEXT_LIMITS["needs_text"]),
        ("nursing.pain", rules.TEXT_LIMITS["nursing"]),
        ("medications", rules.TEXT_LIMITS["medications"]),
    ],
)
def test_planning_text_one_over_its_limit_is_refused_not_cut(case: Case, field: str, limit: int) -> None:
    nurse = client_for(Role.WARD_NURSE)
    before = db_snapshot()
    too_long = "å" * (limit + 1)
    response = nurse.post(
        reverse("cases:action", args=[case.pk, "planning"]), planning_form(**{field: too_long})
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f"högst {limit} tecken, du skrev {limit + 1}" in page
    assert too_long in page  # given back, not cut
    assert changed_tables(before, db_snapshot()) == []
    # exactly at the limit is accepted and stored whole
    assert (
        nurse.post(
            reverse("cases:action", args=[case.pk, "planning"]), planning_form(**{field: "å" * limit})
        ).status_code
        == 302
    )
    saved = PlanningBasis.objects.get(case=case)
    stored = {
        "needs_text.primary_care": lambda: saved.needs["primary_care"]["text"],
        "nursing.pain": lambda: saved.nursing_status["pain"],
        "medications": lambda: saved.medications,
    }[field]()
    assert len(stored) == limit


def test_planning_page_shows_the_limits_as_maxlength(case: Case) -> None:
    page = client_for(Role.WARD_NURSE).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'name="nursing.pain" rows="2" maxlength="{rules.TEXT_LIMITS["nursing"]}"' in page
    assert f'name="medications" rows="4" maxlength="{rules.TEXT_LIMITS["medications"]}"' in page


@pytest.mark.parametrize(("field", "limit"), [("body", 20000), ("subject", 200)])
def test_message_one_over_its_limit_is_refused_not_cut(case: Case, field: str, limit: int) -> None:
    nurse = client_for(Role.WARD_NURSE)
    data = {"category": "general", "subject": "Läkemedel", "body": "Hej"}
    data[field] = "x" * (limit + 1)
    before = db_snapshot()
    response = nurse.post(reverse("cases:action", args=[case.pk, "message"]), data)
    assert response.status_code == 400
    assert f"högst {limit} tecken" in response.content.decode()
    assert changed_tables(before, db_snapshot()) == []


def test_any_char_column_refuses_a_longer_value_instead_of_cutting_it(case: Case) -> None:
    """The pre_save guard: SQLite would store 201 characters in a 200 column, PostgreSQL would fail with a
    server error; both get TEXT-LANGD naming the field."""
    case.external_id = "e" * 65
    with pytest.raises(DomainError) as err:
        case.save()
    assert [(p.field, p.rule) for p in err.value.problems] == [("external_id", "TEXT-LANGD")]


@pytest.mark.parametrize(("field", "limit"), [("body", 20000), ("subject", 200), ("quote", 20000)])
def test_api_message_one_over_its_limit_is_refused_with_the_rule_and_the_schema_says_so(
    case: Case, field: str, limit: int
) -> None:
    from brygga.accounts.models import ApiToken

    nurse = actor(Role.WARD_NURSE)
    assert nurse.membership is not None
    _token, raw = ApiToken.issue(nurse.membership, "test")
    body = {"body": "Hej", "category": "nursing", "subject": "Status", field: "x" * (limit + 1)}
    Client().get(
        f"/api/v1/cases/{case.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )  # the token's use is recorded
    before = db_snapshot()
    response = Client().post(
        f"/api/v1/cases/{case.pk}/messages",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [(p["field"], p["rule"]) for p in problems] == [(field, "TEXT-LANGD")]
    assert str(limit) in problems[0]["message"]
    assert changed_tables(before, db_snapshot()) == []
    schema = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]["MessageIn"]
    assert schema["properties"][field]["maxLength"] == limit
