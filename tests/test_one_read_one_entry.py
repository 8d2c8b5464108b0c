"""Issue 20 item 4: one logical read writes one entry in the access log (R-LOG-1): opening a page that shows a
person's data logs that read once, not once per part of the page that loads the person again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from tests.factories import PRIMARY_CARE, WARD, actor, make_person, unit
from tests.test_messaging import care_request, consent, noticed_case, summoned_sip

pytestmark = pytest.mark.django_db


def entries_for(client: Client, url: str) -> list[tuple[str, str]]:
    before = AccessLogEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get(url)
    assert response.status_code == 200, url
    return list(AccessLogEntry.objects.filter(id__gt=before).order_by("id").values_list("action", "what"))


HOME = "Göteborg hemsjukvård"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def pages(isolated_documents):  # type: ignore[no-untyped-def]
    """Each page that shows a person's data, with the client of a unit allowed to read it."""
    from django.core.files.base import ContentFile

    from brygga.documents import attachments, signed

    nurse = actor(Role.WARD_NURSE, WARD)
    vc = actor(Role.CARE_COORDINATOR, PRIMARY_CARE)
    case = noticed_case(nurse)
    person = make_person("1480")
    involve(
        person, unit(PRIMARY_CARE), Involvement.Kind.OTHER, "test", at=timezone.now() - dt.timedelta(days=3)
    )
    consent(vc, person)
    sip = summoned_sip(vc, person)
    request = care_request(vc, person)
    owner = case.person.pk
    version = signed.create_document(nurse, owner, "person", str(owner), "Epikris", "Text.")
    attachment = attachments.add_attachment(nurse, owner, "person", str(owner), ContentFile(PDF, "a.pdf"))
    receiver = case.participants.filter(status="active").exclude(role="ward").select_related("unit").first()
    assert receiver is not None
    clients = {}
    for name, who in {
        "ward": nurse,
        "vc": vc,
        "home": actor(Role.HOME_CARE_NURSE, HOME),
        "municipality": actor(Role.MUNICIPAL_CONTACT, receiver.unit.name),
    }.items():
        clients[name] = Client()
        clients[name].force_login(who.user)
    return clients, {
        "case page": ("ward", reverse("cases:detail", args=[case.pk]), "read"),
        "case page, receiving unit": ("municipality", reverse("cases:detail", args=[case.pk]), "read"),
        "patient summary (printout)": ("ward", reverse("cases:patient_summary", args=[case.pk]), "export"),
        "person page": ("ward", reverse("web:person_detail", args=[owner]), "read"),
        "person page, vårdcentral": ("vc", reverse("web:person_detail", args=[person.pk]), "read"),
        "documents and attachments of a person": ("ward", reverse("documents:person", args=[owner]), "read"),
        "document": ("ward", reverse("documents:document", args=[version.document_id]), "read"),
        "attachment download": ("ward", reverse("documents:download", args=[attachment.pk]), "read"),
        "SIP page": ("vc", reverse("sip:detail", args=[sip.pk]), "read"),
        "SIP page, summoned unit": ("home", reverse("sip:detail", args=[sip.pk]), "read"),
        "care request": ("vc", reverse("sip:care_request", args=[request.pk]), "read"),
        "care request, receiving unit": ("home", reverse("sip:care_request", args=[request.pk]), "read"),
        "consents of a person": ("vc", reverse("sip:consents", args=[person.pk]), "read"),
    }


@pytest.mark.parametrize(
    "page",
    [
        "case page",
        "case page, receiving unit",
        "patient summary (printout)",
        "person page",
        "person page, vårdcentral",
        "documents and attachments of a person",
        "document",
        "attachment download",
        "SIP page",
        "SIP page, summoned unit",
        "care request",
        "care request, receiving unit",
        "consents of a person",
    ],
)
def test_opening_a_page_writes_one_access_log_entry_r_log_1(pages, page: str) -> None:  # type: ignore[no-untyped-def]
    clients, urls = pages
    who, url, action = urls[page]
    written = entries_for(clients[who], url)
    assert [a for a, _what in written] == [action], written
