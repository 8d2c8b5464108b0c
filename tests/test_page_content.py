"""Faster pages show exactly the same content (issue 17, ADR 0700): the inbox and the case page, rendered for
a set of personas (ward nurse, physician, municipal contact point, vårdcentral care coordinator, municipal
home-care nurse) over a fixed scenario (a new case, a worked-on case with planning basis, meeting, messages and
a pinned message, an overdue unacknowledged case, a protected person, a discharged case, a SIP), compared with
snapshots rendered by the code before the speed work (commit 0090117).

Text is compared exactly. Inside attribute values digit runs are replaced by ``N`` (database ids differ
between SQLite and PostgreSQL and between runs on PostgreSQL, whose sequences are not rolled back) and the
CSRF token by ``CSRF``, a case's number (its id) in the text by its name in the scenario, a video meeting's random room name by ``ROOM``. A deliberate change of the pages' content updates the snapshots:

    BRYGGA_UPDATE_PAGE_SNAPSHOTS=1 .venv/bin/python -m pytest -q tests/test_page_content.py

and the diff of ``tests/page_snapshots/`` is then reviewed like any other change."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Role
from brygga.cases import services
from brygga.cases.models import Case
from brygga.core.identifiers import luhn_check_digit
from brygga.sip import services as sip_services
from tests.factories import (
    CONTACT_POINT,
    PRIMARY_CARE,
    WARD,
    UserFactory,
    actor,
    make_person,
    share_consent,
    unit,
)

pytestmark = pytest.mark.django_db

SNAPSHOTS = Path(__file__).parent / "page_snapshots"
UPDATE = os.environ.get("BRYGGA_UPDATE_PAGE_SNAPSHOTS") == "1"
T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
HOME = "Göteborg hemsjukvård"
PLANNING = {
    "lives_alone": "ja",
    "home_care_before": "nej",
    "home_health_before": "vet_ej",
    "aids_needed": "nej",
    "cognitive_impairment": "nej",
    "relatives_informed": "ja",
}


def identifier(n: int) -> str:
    """Fixed Luhn-valid numbers in Skatteverket's test range (not the shared counter: order-independent)."""
    birth = f"1940{1 + n % 12:02d}{1 + n % 28:02d}"
    body = birth[2:] + "990"
    return f"{birth}990{luhn_check_digit(body)}"


ATTRIBUTE = re.compile(r'(\s[\w:-]+=")([^"]*)(")')
CSRF = re.compile(r'(name="(?:csrfmiddlewaretoken|form_token)" value=")[^"]*(")')  # one-time tokens
VIDEO_ROOM = re.compile(r"(/rum/)[\w-]+")  # a random room name per meeting
# The inbox refresh's list signature: ids and times differ by database.
LIST_SIGNATURE = re.compile(r"(sig=)[0-9a-f]+")


CASE_NUMBER = re.compile(r"(Ärende\s+)(\d+)")


def normalise(html: str, case_names: dict[int, str]) -> str:
    html = VIDEO_ROOM.sub(r"\1ROOM", CSRF.sub(r"\1CSRF\2", html))
    html = LIST_SIGNATURE.sub(r"\1SIG", html)
    html = CASE_NUMBER.sub(
        lambda m: m[1] + case_names.get(int(m[2]), m[2]), html
    )  # the case's number is its id
    return ATTRIBUTE.sub(lambda m: m[1] + re.sub(r"\d+", "N", m[2]) + m[3], html)


def scenario() -> dict[str, object]:
    UserFactory.reset_sequence(0)  # user names shown on the pages, whatever ran before
    nurse = actor(Role.WARD_NURSE, WARD, username="snap-nurse")
    physician = actor(Role.PHYSICIAN, WARD, username="snap-physician")
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT, username="snap-contact")
    vc = actor(Role.CARE_COORDINATOR, PRIMARY_CARE, username="snap-vc")
    home = actor(Role.HOME_CARE_NURSE, HOME, username="snap-home")
    people = [
        make_person("1480", identifier=identifier(n), given_name=given, family_name=family)
        for n, (given, family) in enumerate(
            [("Astrid", "Provsson"), ("Bertil", "Exempelsson"), ("Cecilia", "Testdotter"), ("Dan", "Mätsson")]
        )
    ]
    protected = make_person("1480", protected=True, identifier=identifier(9), given_name="Hemlig")

    def admit(person, hours: float, days: int = 4, notice: bool = True) -> Case:  # type: ignore[no-untyped-def]
        case = services.admit(
            nurse,
            person,
            admitted_at=T0 - dt.timedelta(hours=hours),
            care_type="somatic",
            expected_discharge_date=(T0 + dt.timedelta(days=days)).date(),
            need_assessed_at=T0 - dt.timedelta(hours=hours),
        )
        if notice:
            services.send_admission_notice(nurse, case)
        return case

    new_case = admit(people[0], 2)
    worked = admit(people[1], 30)
    services.acknowledge(contact, worked)
    services.acknowledge(vc, worked)
    services.appoint_coordinator(vc, worked, "Frida Samordnare", "031-100 00")
    services.save_planning_basis(
        nurse,
        worked,
        answers=PLANNING,
        needs={"social_services": "ja", "municipal_health": "nej", "primary_care": "ja"},
        needs_text={"social_services": "Hemtjänst morgon och kväll"},
        medications="Enligt läkemedelslista",
        consent="ja",
    )
    services.book_meeting(
        contact, worked, form="video", starts_at=T0 + dt.timedelta(days=1), participants=[], note="SIP"
    )
    share_consent(nurse, worked.person, [unit(WARD), unit(CONTACT_POINT), unit(PRIMARY_CARE)])
    first = services.send_message(
        nurse, worked, body="Hemgång planeras till torsdag.", category="discharge", subject="Hemgång"
    )
    services.send_message(contact, worked, body="Vi ordnar hemtjänst.", category="discharge", reply_to=first)
    services.pin_message(nurse, worked, first)
    services.set_discharge_ready(physician, worked, T0 - dt.timedelta(hours=1))
    overdue = admit(people[2], 80, days=1)  # receivers have not acknowledged for days: escalated
    late = admit(people[3], 40, notice=False)  # the notice is overdue (R-INS-2)
    hidden = admit(protected, 5)
    gone = admit(
        make_person("1480", identifier=identifier(5), given_name="Erik", family_name="Hemgångsson"), 50
    )
    services.send_discharge_info(nurse, gone, summary_given=True)
    services.discharge(nurse, gone, T0 - dt.timedelta(hours=3), "home")
    share_consent(vc, people[1], [unit(HOME)], categories=("sip", "health", "medications", "efforts"))
    sip = sip_services.start_sip(vc, people[1], need_description="Behöver hemsjukvård och hemtjänst")
    sip_services.send_care_request(
        vc,
        people[1],
        to_unit=unit(HOME),
        reason="Behöver hjälp med sårvård i hemmet.",
        health_summary="Venöst bensår, i övrigt stabil.",
        requested_efforts=["wound_care"],
        medication_responsibility="person",
        start_on=(T0 + dt.timedelta(days=3)).date(),
        contact_name="Fia Fastvård",
        contact_phone="031-123 45 67",
    )
    return {
        "personas": {"nurse": nurse, "physician": physician, "contact": contact, "vc": vc, "home": home},
        "cases": {
            "new": new_case,
            "worked": worked,
            "overdue": overdue,
            "late": late,
            "protected": hidden,
            "discharged": gone,
        },
        "sip": sip,
    }


PAGES = [
    ("nurse", "inbox", ""),
    ("nurse", "inbox", "status=all"),
    ("contact", "inbox", ""),
    ("vc", "inbox", ""),
    ("vc", "inbox", "status=unacknowledged"),
    ("home", "inbox", ""),
    ("nurse", "case", "new"),
    ("nurse", "case", "worked"),
    ("nurse", "case", "late"),
    ("nurse", "case", "discharged"),
    ("physician", "case", "worked"),
    ("contact", "case", "worked"),
    ("contact", "case", "overdue"),
    ("contact", "case", "protected"),
    ("vc", "case", "worked"),
    ("vc", "case", "new"),
]


def test_inbox_and_case_page_render_the_same_content_as_before_the_speed_work(tmp_path: Path) -> None:
    """Issue 17 "Bad input": the faster inbox and case page show exactly what they showed before."""
    with time_machine.travel(T0, tick=False):
        made = scenario()
        clients: dict[str, Client] = {}
        for name, persona in made["personas"].items():  # type: ignore[attr-defined]
            assert isinstance(persona, Actor)
            clients[name] = Client()
            clients[name].force_login(persona.user)
        case_names = {case.pk: f"<{name}>" for name, case in made["cases"].items()}  # type: ignore[attr-defined]
        mismatches = []
        for persona, page, what in PAGES:
            if page == "inbox":
                url = reverse("cases:inbox") + (f"?{what}" if what else "")
            else:
                url = reverse("cases:detail", args=[made["cases"][what].pk])  # type: ignore[index]
            response = clients[persona].get(url)
            assert response.status_code == 200, (persona, page, what, response.status_code)
            html = normalise(response.content.decode(), case_names)
            path = SNAPSHOTS / f"{persona}-{page}-{(what or 'open').replace('=', '-')}.html"
            if UPDATE:
                SNAPSHOTS.mkdir(exist_ok=True)
                path.write_text(html)
            elif html != path.read_text():
                mismatches.append(path.name)
                (tmp_path / path.name).write_text(html)  # for `diff tests/page_snapshots <tmp_path>`
        assert not mismatches, f"pages differ from their snapshots: {mismatches} (rendered: {tmp_path})"
