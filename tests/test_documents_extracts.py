"""Register extract (GDPR art. 15, R-REG-1) and log extract (R-LOG-3): contents checked against the access
log, the request log, and the one-month deadline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve, log_extract, open_person
from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, NotFound, PermissionDenied
from brygga.documents import extracts
from brygga.documents.attachments import add_attachment
from brygga.documents.extracts import (
    ExtractPart,
    add_months,
    extend_request,
    log_extract_rows,
    produce_extract,
    register_extract_parts,
    register_request,
)
from brygga.documents.models import ExtractRequest
from tests.factories import CONTACT_POINT, OTHER_WARD, WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

STOCKHOLM = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture(autouse=True)
def isolated_files(isolated_documents: Path) -> Path:
    return isolated_documents


@pytest.fixture
def history():  # type: ignore[no-untyped-def]
    """A person read by a ward and a contact point, with an attachment, and a log reviewer of the region."""
    person = make_person()
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    involve(person, unit(CONTACT_POINT), Involvement.Kind.INPATIENT_CASE, "case:1")
    nurse = actor(Role.WARD_NURSE, WARD)
    contact = actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)
    open_person(nurse, person.pk)
    open_person(contact, person.pk)
    add_attachment(
        nurse, person.pk, "person", str(person.pk), SimpleUploadedFile("epikris.pdf", b"%PDF-1.4\n%%EOF")
    )
    reviewer = actor(Role.LOG_REVIEWER, WARD, username="granskare")
    return person, reviewer


def test_the_log_extract_lists_every_access_in_the_access_log(history) -> None:  # type: ignore[no-untyped-def]
    """R-LOG-3: from which unit and when; one row per logged access, none left out, none invented."""
    person, _reviewer = history
    rows = log_extract_rows(person)
    entries = list(log_extract(person))
    assert (
        len(rows) - 1
        == len(entries)
        == AccessLogEntry.objects.filter(person=person).exclude(action="denied").count()
    )
    for row, entry in zip(rows[1:], entries, strict=True):
        assert row[1] == entry.unit_label and row[2] == entry.unit_hsa_id and row[4] == entry.user_label
    assert {r[1] for r in rows[1:]} == {WARD, CONTACT_POINT}


def test_the_register_extract_holds_identity_involvements_files_and_the_access_summary(history) -> None:  # type: ignore[no-untyped-def]
    """R-REG-1 (GDPR art. 15): everything brygga holds, with the access counts matching the access log."""
    person, _reviewer = history
    parts = {p.heading: p for p in register_extract_parts(person)}
    identity = parts["Identitetsuppgifter"]
    assert ["Nummer", person.formatted_identifier] in identity.rows
    assert ["Namn", "Testa Testsson"] in identity.rows
    assert {r[0] for r in parts["Enheter som medverkar eller har medverkat i vården"].rows[1:]} == {
        WARD,
        CONTACT_POINT,
    }
    assert parts["Bilagor"].rows[1][0] == "epikris.pdf"
    summary = {r[0]: int(r[2]) for r in parts["Åtkomster till uppgifterna"].rows[1:]}
    expected: dict[str, int] = {}
    for entry in log_extract(person):
        expected[entry.unit_label] = expected.get(entry.unit_label, 0) + 1
    assert summary == expected


def test_a_protected_identity_is_masked_in_the_register_extract() -> None:
    person = make_person(protected=True, given_name="Hemlig", street_address="Dold väg 3")
    text = repr([p.rows for p in register_extract_parts(person)])
    assert "Hemlig" not in text and "Dold väg" not in text and person.formatted_identifier in text


def test_registered_providers_are_included_and_uncovered_models_are_not_left_out(
    history, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    person, _reviewer = history
    monkeypatch.setattr(extracts, "_PROVIDERS", dict(extracts._PROVIDERS))
    extracts.register_extract_provider("test", lambda p: [ExtractPart("Från en annan app", [["a"], ["b"]])])
    headings = [p.heading for p in register_extract_parts(person)]
    assert "Från en annan app" in headings
    # Without the documents provider, its models still appear through the generic fallback.
    del extracts._PROVIDERS["documents"]
    generic = {p.heading: p for p in register_extract_parts(person)}
    assert "Bilagor" in generic and any("epikris.pdf" in row for row in generic["Bilagor"].rows)


def test_every_model_pointing_at_a_person_is_found() -> None:
    labels = {m._meta.label for m, _f in extracts._person_relations()}
    assert {"access.Involvement", "access.AccessLogEntry", "documents.Attachment"} <= labels
    assert all(isinstance(m._meta.get_field(f), models.ForeignKey) for m, f in extracts._person_relations())


def test_a_request_gets_a_one_month_deadline_and_is_overdue_after_it(history) -> None:  # type: ignore[no-untyped-def]
    """R-REG-1: answer within one month of the request."""
    person, reviewer = history
    with time_machine.travel(dt.datetime(2026, 2, 2, 9, tzinfo=STOCKHOLM), tick=False):
        request = register_request(reviewer, person.identifier, "register", dt.date(2026, 1, 31))
    assert request.due_on == dt.date(2026, 2, 28)
    assert not request.is_overdue(dt.date(2026, 2, 28)) and request.is_overdue(dt.date(2026, 3, 1))
    assert add_months(dt.date(2026, 11, 30), 1) == dt.date(2026, 12, 30)
    assert AccessLogEntry.objects.filter(person=person, what=f"utdragsbegäran:{request.pk}").exists()


def test_producing_the_extract_logs_the_export_and_marks_it_delivered(history) -> None:  # type: ignore[no-untyped-def]
    person, reviewer = history
    request = register_request(reviewer, person.identifier, "log", timezone.localdate())
    _request, data = produce_extract(reviewer, request.pk)
    assert data.startswith(b"%PDF-")
    request.refresh_from_db()
    assert (
        request.delivered_at is not None and len(request.delivered_sha256) == 64 and not request.is_overdue()
    )
    entry = AccessLogEntry.objects.get(person=person, what=f"loggutdrag:{request.pk}")
    assert entry.action == AccessLogEntry.Action.EXPORT and entry.unit_label == WARD
    _r, register = produce_extract(
        reviewer, register_request(reviewer, person.identifier, "register", timezone.localdate()).pk
    )
    assert register.startswith(b"%PDF-")


def test_bad_requests_are_refused_and_nothing_is_registered(history) -> None:  # type: ignore[no-untyped-def]
    person, reviewer = history
    cases = [
        (person.identifier, "register", timezone.localdate() + dt.timedelta(days=1), "received_on"),
        (person.identifier, "journal", timezone.localdate(), "kind"),
        ("19121212-1212", "register", timezone.localdate(), "person"),  # valid number, not in brygga
        ("inte-ett-nummer", "register", timezone.localdate(), "person"),
    ]
    for identifier, kind, received, field in cases:
        with pytest.raises(DomainError) as exc:
            register_request(reviewer, identifier, kind, received)
        assert field in {p.field for p in exc.value.problems}
    assert not ExtractRequest.objects.exists()
    with pytest.raises(PermissionDenied):
        register_request(actor(Role.WARD_NURSE, WARD), person.identifier, "register", timezone.localdate())


def test_an_extension_is_at_most_two_months_and_must_be_notified_in_time(history) -> None:  # type: ignore[no-untyped-def]
    """R-REG-1 / GDPR art. 12(3)"""
    person, reviewer = history
    request = register_request(reviewer, person.identifier, "register", dt.date(2026, 1, 10))
    with pytest.raises(DomainError) as exc:
        extend_request(reviewer, request.pk, dt.date(2026, 4, 11), "", dt.date(2026, 2, 11))
    assert {p.field for p in exc.value.problems} == {
        "extended_to",
        "extension_reason",
        "extension_notified_on",
    }
    request.refresh_from_db()
    assert request.extended_to is None
    extend_request(reviewer, request.pk, dt.date(2026, 4, 10), "Omfattande begäran", dt.date(2026, 2, 1))
    request.refresh_from_db()
    assert request.deadline == dt.date(2026, 4, 10) and not request.is_overdue(dt.date(2026, 3, 1))


def test_a_reviewer_of_another_care_provider_cannot_see_the_request(history) -> None:  # type: ignore[no-untyped-def]
    person, reviewer = history
    request = register_request(reviewer, person.identifier, "register", timezone.localdate())
    municipal = actor(Role.LOG_REVIEWER, CONTACT_POINT, username="kommungranskare")
    with pytest.raises(NotFound):
        produce_extract(municipal, request.pk)
    request.refresh_from_db()
    assert request.delivered_at is None
    assert not AccessLogEntry.objects.filter(unit=unit(CONTACT_POINT), action="export").exists()
    # Same region, other hospital: the same principal, so visible.
    produce_extract(actor(Role.LOG_REVIEWER, OTHER_WARD, username="nal-granskare"), request.pk)
