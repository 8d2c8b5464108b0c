"""The log reviewer's work (R-LOG-1 items 5–6, R-LOG-2, R-LOG-3): flagged accesses, documented reviews,
and the person's log extract — scoped to the reviewer's own principal."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from brygga.access.models import AccessLogEntry, LogReview
from brygga.access.services import lookup_person
from brygga.accounts.permissions import Role
from tests.factories import CONTACT_POINT, WARD, actor, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged_lookup() -> AccessLogEntry:
    nurse = actor(Role.WARD_NURSE, WARD, username="nurse")
    person = make_person()
    lookup_person(nurse, person.identifier)
    return AccessLogEntry.objects.get()


def test_reviewer_sees_the_flagged_lookup_and_records_a_review(client: Client, flagged_lookup) -> None:  # type: ignore[no-untyped-def]
    reviewer = actor(Role.LOG_REVIEWER, WARD, username="reviewer")
    client.force_login(reviewer.user)
    page = client.get(reverse("access:log_search"), {"flagged": "1"})
    assert page.status_code == 200
    assert flagged_lookup.person_identifier in page.content.decode()
    response = client.post(
        reverse("access:record_review"),
        {
            "entries": [flagged_lookup.pk],
            "kind": "flagged",
            "outcome": "justified",
            "comment": "Patient inskriven.",
        },
    )
    assert response.status_code == 200
    review = LogReview.objects.get()
    assert list(review.entries.all()) == [flagged_lookup]
    assert review.reviewer == reviewer.user and review.outcome == "justified"


def test_review_without_comment_is_refused_and_stores_nothing(client: Client, flagged_lookup) -> None:  # type: ignore[no-untyped-def]
    reviewer = actor(Role.LOG_REVIEWER, WARD, username="reviewer")
    client.force_login(reviewer.user)
    response = client.post(
        reverse("access:record_review"),
        {"entries": [flagged_lookup.pk], "kind": "flagged", "outcome": "justified"},
    )
    assert response.status_code == 400
    assert "Beskriv granskningen" in response.content.decode()
    assert LogReview.objects.count() == 0


def test_municipal_reviewer_does_not_see_the_regions_log(client: Client, flagged_lookup) -> None:  # type: ignore[no-untyped-def]
    municipal = actor(Role.LOG_REVIEWER, CONTACT_POINT, username="kommungranskare")
    client.force_login(municipal.user)
    page = client.get(reverse("access:log_search"))
    assert flagged_lookup.person_identifier not in page.content.decode()
    client.post(
        reverse("access:record_review"),
        {"entries": [flagged_lookup.pk], "kind": "flagged", "outcome": "justified", "comment": "x"},
    )
    assert LogReview.objects.count() == 0


def test_log_extract_page_lists_units_and_logs_its_own_production(client: Client, flagged_lookup) -> None:  # type: ignore[no-untyped-def]
    reviewer = actor(Role.LOG_REVIEWER, WARD, username="reviewer")
    client.force_login(reviewer.user)
    page = client.get(reverse("access:log_extract"), {"person": flagged_lookup.person_identifier})
    assert page.status_code == 200
    assert WARD in page.content.decode()
    assert AccessLogEntry.objects.filter(action="export", what="loggutdrag", user=reviewer.user).count() == 1


def test_non_reviewers_cannot_open_the_log(client: Client) -> None:
    nurse = actor(Role.WARD_NURSE, WARD, username="nurse")
    client.force_login(nurse.user)
    assert client.get(reverse("access:log_search")).status_code == 403
    assert client.get(reverse("access:log_extract")).status_code == 403
