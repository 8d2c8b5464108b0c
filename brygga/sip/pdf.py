"""The plan for the person: plain Swedish, one established version, rendered with the documents app's PDF
helper. Words from the person's point of view ("du"), no codes, no abbreviations."""

from __future__ import annotations

from django.utils import timezone

from brygga.documents.pdf import PdfDocument, Section, render
from brygga.people.presenters import display_name
from brygga.sip.models import Sip, SipVersion


def _date(value) -> str:  # type: ignore[no-untyped-def]
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def plan_document(sip: Sip, version: SipVersion) -> PdfDocument:
    person = sip.person
    efforts = list(version.efforts.select_related("responsible_unit"))
    follow_ups = list(sip.follow_ups.filter(done_at__isnull=True).select_related("responsible_unit"))
    people = [
        f"{p.name or p.get_kind_display()}{' (' + p.role_text + ')' if p.role_text else ''}"
        for p in sip.participants.filter(unit__isnull=True)
    ]
    units = [str(p.unit) for p in sip.participants.filter(unit__isnull=False).select_related("unit")]
    sections = [
        Section("Det här är viktigt för dig", [version.what_matters]),
        Section("Det här behöver du hjälp med", [version.needs]),
        Section(
            "Vem gör vad",
            rows=[["Behov", "Det här görs", "Vem ansvarar"]]
            + [
                [e.need, e.effort, e.responsible_unit.name if e.responsible_unit else e.performer_other]
                for e in efforts
            ],
        ),
        Section("Det här gör andra (till exempel närstående)", [version.other_efforts]),
        Section(
            "Vem håller ihop planen",
            [
                f"{version.overall_responsible_unit.name} har huvudansvaret för planen. "
                "Hör av dig dit om något inte fungerar."
                if version.overall_responsible_unit
                else ""
            ],
        ),
        Section(
            "När vi ses igen",
            [f"{f.due_on:%Y-%m-%d}: {f.description} ({f.responsible_unit.name})" for f in follow_ups]
            or ["Ingen uppföljning är bokad ännu."],
        ),
        Section("Med i planeringen", [", ".join(people + units)]),
    ]
    return PdfDocument(
        title="Din samordnade individuella plan (SIP)",
        facts=[
            ("Plan för", display_name(person)),
            ("Version", f"{version.number}, fastställd {_date(version.established_at)}"),
            ("Mötet hölls", _date(sip.meeting_held_at)),
        ],
        sections=sections,
        footer=(
            "SIP är kostnadsfri. Du kan när som helst ta tillbaka ditt samtycke eller be om ett nytt möte. "
            "Planen är en journalhandling som du har rätt att läsa."
        ),
    )


def render_plan(sip: Sip, version: SipVersion) -> bytes:
    return render(plan_document(sip, version))
