"""The population register (ADR 0500): zeep against a real local SOAP producer of GetPersonsForProfile 5
(tests/pu_producer.py), the file register, fetching on admission, refresh and re-addressing, manual entry."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import AccessLogEntry
from brygga.access.persons import enter_person_manually
from brygga.accounts.models import ApiToken
from brygga.accounts.permissions import Role
from brygga.cases import services as case_services
from brygga.cases.models import Case, CaseEvent, Participant
from brygga.core.errors import DomainError
from brygga.people.models import Person
from brygga.people.register import (
    NotInRegister,
    RegisterUnavailable,
    find_or_fetch,
    refresh_person,
    refresh_stale_persons,
)
from brygga.people.register.pu import PuRegister
from tests.factories import CONTACT_POINT, WARD, actor, make_person, unit
from tests.factories import test_identifier as new_number
from tests.pu_producer import Producer, PuPerson, running_producer

pytestmark = pytest.mark.django_db

LOGICAL_ADDRESS = "SE165565594230-1000"


@pytest.fixture
def pu(settings) -> Iterator[Producer]:  # type: ignore[no-untyped-def]
    with running_producer() as producer:
        settings.BRYGGA_POPULATION_REGISTER = "pu"
        settings.BRYGGA_PU_ENDPOINT = producer.url
        settings.BRYGGA_PU_LOGICAL_ADDRESS = LOGICAL_ADDRESS
        settings.BRYGGA_PU_TIMEOUT = 1.0
        yield producer


def goteborg_person(identifier: str, **extra: object) -> PuPerson:
    fields: dict[str, object] = {
        "given_name": "Ingrid",
        "family_name": "Registersson",
        "street": "Folkbokföringsgatan 3",
        "postal_code": 41264,
        "city": "Göteborg",
        "county": "14",
        "municipality": "80",
    }
    fields.update(extra)
    return PuPerson(identifier, **fields)  # type: ignore[arg-type]


# --- the zeep client against the producer -------------------------------------------------------------------


def test_pu_client_reads_a_person_per_the_contract(pu: Producer) -> None:
    number = new_number()
    pu.add(goteborg_person(number))
    record = PuRegister.from_settings().fetch(number)
    assert (record.given_name, record.family_name) == ("Ingrid", "Registersson")
    assert record.street_address == "Folkbokföringsgatan 3" and record.postal_code == "41264"
    assert record.municipality_code == "1480"  # county 14 + municipality 80
    assert record.protected_identity is False and record.deceased_on is None
    # The request validated against the contract's schema (the producer checks it) and carried what RIVTABP21
    # and Inera's usage need: profile P2, the logical address in the header, the contract's SOAPAction.
    assert pu.requests == [
        {
            "ids": [number],
            "profile": "P2",
            "logical_address": LOGICAL_ADDRESS,
            "action": '"urn:riv:strategicresourcemanagement:persons:person:GetPersonsForProfileResponder:5:'
            'GetPersonsForProfile"',
        }
    ]


def test_pu_unknown_number_is_not_in_register(pu: Producer) -> None:
    with pytest.raises(NotInRegister):
        PuRegister.from_settings().fetch(new_number())


def test_pu_soap_fault_is_unavailable(pu: Producer) -> None:
    number = new_number()
    pu.fault.add(number)
    with pytest.raises(RegisterUnavailable, match="SOAP fault"):
        PuRegister.from_settings().fetch(number)


def test_pu_time_out_is_unavailable_within_the_time_out(pu: Producer) -> None:
    number = new_number()
    pu.slow.add(number)
    pu.delay = 3.0
    started = time.monotonic()
    with pytest.raises(RegisterUnavailable, match="time-out"):
        PuRegister.from_settings().fetch(number)
    assert time.monotonic() - started < 2.5  # BRYGGA_PU_TIMEOUT is 1 s


def test_pu_refused_connection_is_unavailable(settings) -> None:  # type: ignore[no-untyped-def]
    with running_producer() as producer:
        url = producer.url
    settings.BRYGGA_PU_ENDPOINT = url  # the server is gone: connection refused
    settings.BRYGGA_PU_LOGICAL_ADDRESS = LOGICAL_ADDRESS
    with pytest.raises(RegisterUnavailable, match="connection"):
        PuRegister.from_settings().fetch(new_number())


def test_pu_protected_population_record_alone_makes_the_identity_protected(pu: Producer) -> None:
    number = new_number()
    pu.add(goteborg_person(number, protected=False, protected_population_record=True, street="", city=""))
    assert PuRegister.from_settings().fetch(number).protected_identity is True


def test_pu_deceased_from_deregistration_code_av(pu: Producer) -> None:
    number = new_number()
    pu.add(goteborg_person(number, deceased_on="2026-01-15"))
    assert PuRegister.from_settings().fetch(number).deceased_on == dt.date(2026, 1, 15)


# --- find_or_fetch ------------------------------------------------------------------------------------------


def test_find_or_fetch_stores_a_new_person_with_source_and_time(pu: Producer) -> None:
    number = new_number()
    pu.add(goteborg_person(number))
    person = find_or_fetch(number)
    assert person is not None and person.pk is not None
    assert person.source == Person.Source.PU and person.register_checked_at is not None
    assert person.registered_municipality is not None and person.registered_municipality.scb_code == "1480"
    # The second time brygga knows the person and does not ask the register.
    assert find_or_fetch(number) == person
    assert len(pu.requests) == 1


def test_find_or_fetch_unknown_number_stores_nothing(pu: Producer) -> None:
    assert find_or_fetch(new_number()) is None
    assert not Person.objects.filter(source=Person.Source.PU).exists()


def test_find_or_fetch_never_asks_for_a_reserve_number(pu: Producer) -> None:
    assert find_or_fetch("19500101R123") is None
    assert pu.requests == []


def test_file_register_is_read_for_development(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    number = new_number()
    path = tmp_path / "register.json"
    path.write_text(
        json.dumps(
            [
                {
                    "identifier": number,
                    "given_name": "Bertil",
                    "family_name": "Navetsson",
                    "municipality_code": "1490",
                    "protected_identity": False,
                }
            ]
        )
    )
    settings.BRYGGA_POPULATION_REGISTER = "file"
    settings.BRYGGA_POPULATION_REGISTER_FILE = str(path)
    person = find_or_fetch(number)
    assert person is not None and person.source == Person.Source.FILE
    assert person.registered_municipality is not None and person.registered_municipality.name == "Borås"


def test_the_demo_register_file_holds_valid_test_numbers(settings) -> None:  # type: ignore[no-untyped-def]
    from brygga.people.identifiers import parse_identity_number

    rows = json.loads(Path(settings.BRYGGA_POPULATION_REGISTER_FILE).read_text())
    assert rows
    for row in rows:
        assert 980 <= int(row["identifier"][8:11]) <= 999  # Skatteverket's test range
        assert parse_identity_number(row["identifier"]).value == row["identifier"]


# --- admission of a person brygga has not seen (web and API) ------------------------------------------------


def _admit_form(identifier: str) -> dict[str, str]:
    now = dt.datetime.now().replace(microsecond=0)  # noqa: DTZ005 — a form value in local time
    return {
        "identifier": identifier,
        "admitted_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "care_type": "somatic",
        "expected_discharge_date": (now + dt.timedelta(days=3)).date().isoformat(),
        "need_assessed": "on",
        "send_notice": "on",
    }


def test_web_admission_fetches_an_unknown_person_from_the_register(pu: Producer) -> None:
    number = new_number()
    pu.add(goteborg_person(number))
    nurse = actor(Role.WARD_NURSE, WARD)
    client = Client()
    client.force_login(nurse.user)
    response = client.post(reverse("cases:new"), _admit_form(number))
    assert response.status_code == 302, response.content.decode()
    case = Case.objects.get(person__identifier=number)
    assert case.person.source == Person.Source.PU
    # R-INS-7: addressed from the fetched folkbokföring
    assert case.participants.filter(unit=unit(CONTACT_POINT), status=Participant.Status.ACTIVE).exists()
    assert AccessLogEntry.objects.filter(
        person=case.person, action=AccessLogEntry.Action.LOOKUP, user=nurse.user
    ).exists()


def test_api_admission_fetches_an_unknown_person_from_the_register(pu: Producer) -> None:
    number = new_number()
    pu.add(goteborg_person(number))
    system = actor(Role.SYSTEM, WARD)
    _token, raw = ApiToken.issue(system.membership, "ehr")  # type: ignore[arg-type]
    now = dt.datetime.now(dt.UTC)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post(
        "/api/v1/cases/",
        {
            "identifier": number,
            "admitted_at": (now - dt.timedelta(hours=1)).isoformat(),
            "care_type": "somatic",
            "expected_discharge_date": (now + dt.timedelta(days=3)).date().isoformat(),
            "need_assessed_at": (now - dt.timedelta(hours=1)).isoformat(),
            "send_notice": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert Person.objects.get(identifier=number).source == Person.Source.PU


def test_register_down_refuses_an_unknown_person_with_a_clear_error(pu: Producer) -> None:
    number = new_number()
    pu.fault.add(number)
    client = Client()
    client.force_login(actor(Role.WARD_NURSE, WARD).user)
    response = client.post(reverse("cases:new"), _admit_form(number))
    assert response.status_code == 400
    assert "Folkbokföringen svarar inte just nu" in response.content.decode()
    assert not Person.objects.filter(identifier=number).exists()
    assert not Case.objects.filter(person__identifier=number).exists()


def test_register_down_api_names_the_rule(pu: Producer) -> None:
    number = new_number()
    pu.fault.add(number)
    system = actor(Role.SYSTEM, WARD)
    _token, raw = ApiToken.issue(system.membership, "ehr")  # type: ignore[arg-type]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post(
        "/api/v1/persons/lookup", {"identifier": number, "purpose": "stay"}, content_type="application/json"
    )
    assert response.status_code == 503
    assert response.json()["problems"][0]["rule"] == "FOLKBOKFORING-SVARAR-INTE"


def test_register_down_never_blocks_admission_of_a_known_person(pu: Producer) -> None:
    person = make_person("1480")
    pu.fault.add(person.identifier)
    client = Client()
    client.force_login(actor(Role.WARD_NURSE, WARD).user)
    response = client.post(reverse("cases:new"), _admit_form(person.identifier))
    assert response.status_code == 302, response.content.decode()
    assert pu.requests == []  # brygga did not even ask


# --- refresh ------------------------------------------------------------------------------------------------


def _admitted_case(number: str, pu: Producer) -> Case:
    pu.add(goteborg_person(number))
    nurse = actor(Role.WARD_NURSE, WARD)
    person = find_or_fetch(number)
    assert person is not None
    case = case_services.admit(
        nurse,
        person,
        admitted_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        care_type="somatic",
        expected_discharge_date=timezone.localdate() + dt.timedelta(days=3),
        need_assessed_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    case_services.send_admission_notice(nurse, case)
    return case


def test_move_to_another_municipality_readdresses_open_cases_r_ins_7(pu: Producer) -> None:
    number = new_number()
    case = _admitted_case(number, pu)
    pu.add(goteborg_person(number, county="14", municipality="90", city="Borås", postal_code=50334))
    outcome = refresh_person(case.person)
    assert outcome.moved and outcome.readdressed_cases == [case.pk]
    old = Participant.objects.get(case=case, unit=unit(CONTACT_POINT))
    assert old.status == Participant.Status.LEFT
    new = Participant.objects.get(case=case, unit=unit("Borås kontaktpunkt"))
    assert new.status == Participant.Status.ACTIVE and new.addressing == Participant.Addressing.AUTOMATIC
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.READDRESSED)
    assert event.data["municipality"]["scb_code"] == "1490"
    assert [u["name"] for u in event.data["removed"]] == [CONTACT_POINT]
    assert [u["name"] for u in event.data["added"]] == ["Borås kontaktpunkt"]
    # The payment responsibility stays with the municipality of admission (R-VG-BET-2).
    case.refresh_from_db()
    assert case.municipality is not None and case.municipality.scb_code == "1480"


def test_refresh_without_a_move_changes_no_addressing(pu: Producer) -> None:
    number = new_number()
    case = _admitted_case(number, pu)
    pu.add(goteborg_person(number, street="Nya gatan 2"))
    outcome = refresh_person(case.person)
    assert outcome.changed == ["street_address"] and not outcome.moved
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.READDRESSED).exists()


def test_protected_identity_from_the_register_always_wins(pu: Producer) -> None:
    number = new_number()
    case = _admitted_case(number, pu)
    pu.add(goteborg_person(number, protected=True, street="", city="", postal_code=None))
    refresh_person(case.person)
    person = Person.objects.get(pk=case.person.pk)
    assert person.protected_identity is True and person.street_address == ""


def test_refresh_when_the_register_is_down_keeps_the_data_and_records_the_attempt(pu: Producer) -> None:
    number = new_number()
    case = _admitted_case(number, pu)
    checked = Person.objects.get(pk=case.person.pk).register_checked_at
    pu.fault.add(number)
    with pytest.raises(RegisterUnavailable):
        refresh_person(case.person)
    person = Person.objects.get(pk=case.person.pk)
    assert person.register_checked_at == checked and person.register_failed_at is not None
    assert person.given_name == "Ingrid"


def test_on_demand_refresh_says_since_when_the_data_may_be_stale(pu: Producer) -> None:
    number = new_number()
    case = _admitted_case(number, pu)
    pu.fault.add(number)
    client = Client()
    client.force_login(actor(Role.WARD_NURSE, WARD).user)
    response = client.post(reverse("web:person_refresh", args=[case.person.pk]))
    assert response.status_code == 503
    body = response.content.decode()
    assert "Uppgifterna kan vara inaktuella" in body and "hämtades" in body


def test_on_demand_refresh_needs_involvement(pu: Producer) -> None:
    number = new_number()
    case = _admitted_case(number, pu)
    client = Client()
    client.force_login(actor(Role.WARD_NURSE, "NÄL, medicinavdelning").user)
    assert client.post(reverse("web:person_refresh", args=[case.person.pk])).status_code == 404
    assert len(pu.requests) == 1  # only the first fetch


def test_scheduled_refresh_takes_stale_persons_and_stops_when_the_register_is_down(pu: Producer) -> None:
    first, second = new_number(), new_number()
    for number in (first, second):
        _admitted_case(number, pu)
    Person.objects.filter(identifier__in=[first, second]).update(
        register_checked_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    )
    pu.add(goteborg_person(first, county="14", municipality="90"))
    summary = refresh_stale_persons()
    assert summary == {"checked": 2, "changed": 1, "moved": 1, "not_found": 0, "unavailable": 0}
    assert refresh_stale_persons() == {
        "checked": 0,
        "changed": 0,
        "moved": 0,
        "not_found": 0,
        "unavailable": 0,
    }
    Person.objects.filter(identifier__in=[first, second]).update(
        register_checked_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    )
    pu.fault.update({first, second})
    assert refresh_stale_persons()["unavailable"] == 1  # stopped at the first failure
    assert len([r for r in pu.requests if r["ids"][0] in (first, second)]) == 2 + 2 + 1


def test_refresh_command_reports(pu: Producer, capsys) -> None:  # type: ignore[no-untyped-def]
    call_command("refresh_population_register")
    assert "kontrollerade" in capsys.readouterr().out


# --- manual entry -------------------------------------------------------------------------------------------


def test_reserve_number_entered_by_hand_with_a_reason(pu: Producer) -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    person = enter_person_manually(nurse, "19500101-R123", "Okänd", "Man", reason="Medvetslös vid ankomst")
    assert person.source == Person.Source.MANUAL and person.manual_reason == "Medvetslös vid ankomst"
    assert person.entered_by == nurse.user and pu.requests == []
    assert AccessLogEntry.objects.filter(person=person, action=AccessLogEntry.Action.CREATE).exists()


def test_manual_entry_needs_a_reason_and_changes_nothing_without(pu: Producer) -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    with pytest.raises(DomainError) as exc:
        enter_person_manually(nurse, "19500101-R124", "Okänd", "Kvinna", reason="  ")
    assert exc.value.problems[0].field == "reason"
    assert not Person.objects.filter(identifier="19500101R124").exists()


def test_manual_entry_of_a_number_the_register_knows_is_refused(pu: Producer) -> None:
    number = new_number()
    pu.add(goteborg_person(number, protected=True))
    with pytest.raises(DomainError) as exc:
        enter_person_manually(actor(Role.WARD_NURSE, WARD), number, "Falskt", "Namn", reason="test")
    assert exc.value.problems[0].rule == "FINNS-I-FOLKBOKFORINGEN"
    assert not Person.objects.filter(identifier=number).exists()


def test_manual_entry_of_a_personnummer_unknown_to_the_register(pu: Producer) -> None:
    number = new_number()
    person = enter_person_manually(
        actor(Role.WARD_NURSE, WARD), number, "Ny", "Invandrad", reason="Ännu inte folkbokförd"
    )
    assert person.source == Person.Source.MANUAL and person.register_checked_at is None


def test_manual_entry_while_the_register_is_down_is_refused_for_a_personnummer(pu: Producer) -> None:
    number = new_number()
    pu.fault.add(number)
    with pytest.raises(DomainError) as exc:
        enter_person_manually(actor(Role.WARD_NURSE, WARD), number, "A", "B", reason="x")
    assert exc.value.problems[0].rule == "FOLKBOKFORING-SVARAR-INTE"


def test_manual_entry_web_page_rerenders_what_was_typed(pu: Producer) -> None:
    client = Client()
    client.force_login(actor(Role.WARD_NURSE, WARD).user)
    response = client.post(
        reverse("web:person_new"),
        {"identifier": "19500101-R125", "given_name": "Okänd", "family_name": "Person", "reason": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ange varför personen registreras manuellt." in body and 'value="Okänd"' in body
    response = client.post(
        reverse("web:person_new"),
        {"identifier": "19500101-R125", "given_name": "Okänd", "family_name": "Person", "reason": "Okänd"},
    )
    assert response.status_code == 302
    assert Person.objects.get(identifier="19500101R125").source == Person.Source.MANUAL


def test_manual_entry_is_refused_to_a_role_that_cannot_admit(pu: Producer) -> None:
    client = Client()
    client.force_login(actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT).user)
    response = client.post(
        reverse("web:person_new"),
        {"identifier": "19500101-R126", "given_name": "A", "family_name": "B", "reason": "x"},
    )
    assert response.status_code in (403, 404)
    assert not Person.objects.filter(identifier="19500101R126").exists()


def test_api_manual_entry_with_a_reason(pu: Producer) -> None:
    system = actor(Role.SYSTEM, WARD)
    _token, raw = ApiToken.issue(system.membership, "ehr")  # type: ignore[arg-type]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"identifier": "19500101-R127", "given_name": "Okänd", "family_name": "Kvinna", "reason": ""}
    refused = api.post("/api/v1/persons/manual", body, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["problems"][0]["field"] == "reason"
    body["reason"] = "Medvetslös vid ankomst"
    created = api.post("/api/v1/persons/manual", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert Person.objects.get(identifier="19500101R127").manual_reason == "Medvetslös vid ankomst"
