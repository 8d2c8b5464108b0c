"""Issue 17 item 4: a list page that grows with a municipality is paged, never cut at a fixed length without
saying so. Each list below used to show at most 300 rows and say nothing of the rest. The tests page with two
rows a page, so that three or more rows need a second page, and require every row on exactly one page, the
total in the caption, and links that keep the filters."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import AccessLogEntry
from brygga.access.services import log_accesses
from brygga.accounts.permissions import Role
from brygga.core import paging
from brygga.deviations import services as deviation_services
from brygga.deviations.models import Category
from brygga.documents.extracts import register_request
from brygga.economy.models import ChangeRecord
from brygga.governance import services as governance_services
from brygga.organisations.models import Organisation, Unit
from tests.factories import CONTACT_POINT, WARD, actor, make_person
from tests.test_governance_web import as_actor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def two_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "LIST_PAGE_SIZE", 2)


def pages(client: Client, url: str, key: str = "sida", **query: str) -> list[str]:
    """Every page of a list, following its "next" links from the first page; the bodies in order."""
    bodies = [client.get(url, query).content.decode()]
    while (found := re.search(r'<a href="\?([^"]*)" rel="next"', bodies[-1])) is not None:
        link = found.group(1).replace("&amp;", "&")
        assert f"{key}=" in link
        for name, value in query.items():
            assert f"{name}={value}" in link, "the next link keeps the filter"
        bodies.append(client.get(f"{url}?{link}").content.decode())
        assert len(bodies) < 50
    return bodies


def test_html_page_reads_its_own_key_keeps_the_other_parameters_and_forgives_bad_numbers() -> None:
    rows = list(range(5))
    request = RequestFactory().get("/x", {"q": "å", "sida": "2", "annan": "3"})
    found = paging.html_page(request, rows)
    assert list(found) == [2, 3] and found.count == 5
    assert found.previous == "?q=%C3%A5&sida=1&annan=3" and found.next == "?q=%C3%A5&sida=3&annan=3"
    other = paging.html_page(request, rows, key="annan")
    assert list(other) == [4] and other.next == "" and "annan=2" in other.previous
    assert list(paging.html_page(RequestFactory().get("/x", {"sida": "x"}), rows)) == [0, 1]
    assert list(paging.html_page(RequestFactory().get("/x", {"sida": "99"}), rows)) == [4]
    kept = paging.html_page(request, rows, key="sida", keep=("q", "sida"))
    assert kept.next == "?q=%C3%A5&sida=3" and kept.previous == "?q=%C3%A5&sida=1"
    empty = paging.html_page(RequestFactory().get("/x"), [])
    assert list(empty) == [] and empty.previous == empty.next == ""


def test_the_unit_list_is_paged_with_its_filter_and_every_unit_on_one_page() -> None:
    client = as_actor(Client(), actor(Role.WARD_NURSE, WARD))
    expected = list(
        Unit.objects.filter(is_active=True, name__icontains="medicinavdelning").values_list("name", flat=True)
    )
    assert len(expected) > 2
    bodies = pages(client, reverse("web:units"), q="medicinavdelning")
    assert len(bodies) == (len(expected) + 1) // 2
    shown = [unescape(n) for body in bodies for n in re.findall(r'<tr><th scope="row">([^<]*)</th>', body)]
    assert sorted(shown) == sorted(expected)
    assert f"{len(expected)} enheter" in bodies[0]
    assert 'aria-current="page">Sida 1 av' in bodies[0]


def test_the_governance_case_list_is_paged_by_priority() -> None:
    gits = actor(Role.GITS_COORDINATOR, "GITS kansli")
    numbers = [
        governance_services.raise_case(gits, "need", f"Behov {i}", "En beskrivning av behovet.").number
        for i in range(5)
    ]
    bodies = pages(as_actor(Client(), gits), reverse("governance:cases"))
    assert len(bodies) == 3 and "5 ärenden" in bodies[0]
    shown = [n for body in bodies for n in re.findall(r">(F-\d{4}-\d+)</a></td><th", body)]
    assert sorted(shown) == sorted(numbers)


def test_the_economy_change_log_is_paged_the_latest_first() -> None:
    gits = actor(Role.GITS_COORDINATOR, "GITS kansli")
    at = timezone.now()
    for i in range(3):
        ChangeRecord.objects.create(
            at=at - dt.timedelta(minutes=i), by=gits.user, action="ändrad", subject=f"Rad {i}"
        )
    bodies = pages(as_actor(Client(), gits), reverse("economy:changes"))
    assert len(bodies) == 2 and "3 ändringar" in bodies[0]
    shown = [s for body in bodies for s in re.findall(r'<th scope="row">(Rad \d)</th>', body)]
    assert shown == ["Rad 0", "Rad 1", "Rad 2"]


def test_both_deviation_lists_page_on_their_own_keys() -> None:
    nurse = actor(Role.WARD_NURSE, WARD)
    gothenburg = Organisation.objects.get(municipality__scb_code="1480")
    numbers = [
        deviation_services.report_deviation(
            nurse, Category.ADMISSION_NOTICE, timezone.localdate(), gothenburg, f"Meddelandet kom sent, {i}."
        ).number
        for i in range(3)
    ]
    contact = as_actor(Client(), actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT))
    received = pages(contact, reverse("deviations:list"), key="sida")
    assert len(received) == 2
    assert sorted(n for body in received for n in re.findall(r'">(AVV-[^<]+)</a></th>', body)) == sorted(
        numbers
    )
    reporter = as_actor(Client(), nurse)
    first = reporter.get(reverse("deviations:list")).content.decode()
    assert "?rapporterade=2" in first and "?sida=2" not in first


def test_extract_requests_page_and_log_only_the_persons_shown() -> None:
    reviewer = actor(Role.LOG_REVIEWER, WARD)
    today = timezone.localdate()
    persons = [make_person() for _ in range(3)]
    for days, person in zip((0, 2, 1), persons, strict=True):
        register_request(reviewer, person.identifier, "log", today - dt.timedelta(days=days))
    client = as_actor(Client(), reviewer)
    before = AccessLogEntry.objects.count()
    first = client.get(reverse("documents:extract_requests")).content.decode()
    assert "Pågående (3)" in first and "?pagaende=2" in first
    # the nearest deadline first: received two days ago, then one, then today
    order = [p.formatted_identifier for p in (persons[1], persons[2], persons[0])]
    assert order[0] in first and order[1] in first and order[2] not in first
    logged = set(
        AccessLogEntry.objects.filter(pk__gt=0).order_by("pk")[before:].values_list("person_id", flat=True)
    )
    assert logged == {persons[1].pk, persons[2].pk}, "R-LOG: a list logs the persons it shows, not the rest"
    second = client.get(reverse("documents:extract_requests"), {"pagaende": "2"}).content.decode()
    assert order[2] in second and order[0] not in second


def test_a_user_with_no_rows_sees_no_page_links() -> None:
    client = as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    body = client.get(reverse("economy:changes")).content.decode()
    assert "Inga ändringar ännu." in body and 'class="pagination"' not in body


def test_the_access_log_search_pages_with_its_filter_and_one_page_parameter() -> None:
    """The log search had its own pager, which appended ``&sida=`` to the whole query string at each step
    (``sida=2&sida=3`` …); it now pages through the same helper, 50 entries a page."""
    nurse = actor(Role.WARD_NURSE, WARD)
    person = make_person()
    log_accesses(nurse, [(person, "read", f"case:{n}", True) for n in range(51)])
    reviewer = as_actor(Client(), actor(Role.LOG_REVIEWER, WARD))
    bodies = pages(reviewer, reverse("access:log_search"), person=person.identifier)
    assert len(bodies) == 2 and "51 loggposter" in bodies[0]
    shown = [w for body in bodies for w in re.findall(r"<td>(case:\d+)</td>", body)]
    assert sorted(shown) == sorted(f"case:{n}" for n in range(51))
    link = re.search(r'<a href="\?([^"]*)" rel="prev"', bodies[1])
    assert link is not None and link.group(1).count("sida=") == 1
