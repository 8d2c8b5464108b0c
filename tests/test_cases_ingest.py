"""API ingest of admissions (issue 3 item 12): the per-admission cost of ``POST /api/v1/cases/`` stays bounded,
and ``POST /api/v1/cases/batch`` admits its ``create`` items set-based — validated one by one, written in one
transaction — with the same rows, answers, access-log entries and idempotency as the single path."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from brygga.access.models import Involvement
from brygga.cases.models import Case, CaseEvent, Participant
from tests.factories import make_person
from tests.test_cases_api import NOW, create_body, ehr, post  # noqa: F401  (ehr is a fixture)

pytestmark = pytest.mark.django_db


@time_machine.travel(NOW, tick=False)
def test_single_admission_with_notice_uses_a_bounded_number_of_statements(ehr: Client) -> None:  # noqa: F811
    """One admission + notice (R-INS-2, R-INS-7): 2 events, 3 participants, 3 involvements, 3 log entries."""
    warm = make_person("1480")
    assert post(ehr, "/", create_body(warm.identifier, external_id="warm"), key="warm").status_code == 201
    person = make_person("1480")
    with CaptureQueriesContext(connection) as ctx:
        response = post(ehr, "/", create_body(person.identifier), key="k-1")
    assert response.status_code == 201, response.content
    statements = [q["sql"] for q in ctx.captured_queries]
    # 68 before issue 3 item 12 (incl. the token check and savepoints), 39 after: no N+1 in case_out, no
    # get_or_create + savepoint per receiver, the inbox columns written once per request.
    assert len(statements) <= 40, "\n".join(statements)
    case = Case.objects.get(person=person)
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert Participant.objects.filter(case=case).count() == 3
    assert Involvement.objects.filter(source=case.source).count() == 3
