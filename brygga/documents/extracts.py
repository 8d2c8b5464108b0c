"""The register extract (GDPR art. 15, R-REG-1) and the log extract (R-LOG-3), with the request log and the
one-month deadline.

What brygga holds about a person is gathered by providers. Each app can register one for its models
(typically in AppConfig.ready())::

    from brygga.documents.extracts import ExtractPart, register_extract_provider
    register_extract_provider("cases", covers=["cases.Case"], provider=lambda person: [ExtractPart(...)])

Any model that refers to a person and that no provider covers is still included, generically (every field of
every row), so nothing is left out because an app forgot to register. Refusals name R-REG-1."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.access.models import AccessLogEntry, Involvement
from brygga.access.services import is_involved, log_access, log_extract
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.documents import pdf
from brygga.documents.models import Attachment, DocumentVersion, ExtractRequest, PaperRecord
from brygga.documents.owners import owner_label
from brygga.people.identifiers import parse_identity_number
from brygga.people.models import Person
from brygga.people.presenters import display_address, display_identifier, display_name

Action = AccessLogEntry.Action


@dataclass
class ExtractPart:
    heading: str
    rows: list[list[str]] = field(default_factory=list)  # the first row is the header
    paragraphs: list[str] = field(default_factory=list)


Provider = Callable[[Person], list[ExtractPart]]


@dataclass
class _Registered:
    key: str
    covers: tuple[str, ...]
    provider: Provider


_PROVIDERS: dict[str, _Registered] = {}


def register_extract_provider(key: str, provider: Provider, covers: Sequence[str] = ()) -> None:
    """Register what an app holds about a person. ``covers`` names the models ("app_label.Model") it reports,
    so the generic fallback leaves them out."""
    _PROVIDERS[key] = _Registered(key, tuple(c.lower() for c in covers), provider)


def _when(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


# --- the built-in providers ---------------------------------------------------------------------------------


def _identity(person: Person) -> list[ExtractPart]:
    rows = [
        [_("Uppgift"), _("Värde")],
        [_("Nummer"), display_identifier(person)],
        [_("Namn"), display_name(person)],
        [_("Folkbokföringsadress"), display_address(person)],
        [
            _("Folkbokföringskommun"),
            person.registered_municipality.name if person.registered_municipality else "—",
        ],
        [_("Listad vårdcentral"), person.listed_unit.name if person.listed_unit else "—"],
        [_("Registrerad i brygga"), _when(person.created_at)],
    ]
    rows += [[_("Tidigare nummer"), p.identifier] for p in person.replaced_identities.all()]
    notes = []
    if person.protected_identity:
        notes.append(
            _(
                "Personen har skyddade personuppgifter. Namn och adress lämnas inte ut i utdraget utan via "
                "Skatteverkets förmedling."
            )
        )
    return [ExtractPart(_("Identitetsuppgifter"), rows, notes)]


def _involvements(person: Person) -> list[ExtractPart]:
    rows = [[_("Enhet"), _("Sammanhang"), _("Från"), _("Till")]]
    for inv in Involvement.objects.filter(person=person).select_related("unit").order_by("started_at"):
        rows.append([inv.unit.name, inv.get_kind_display(), _when(inv.started_at), _when(inv.ended_at)])
    return [ExtractPart(_("Enheter som medverkar eller har medverkat i vården"), rows)]


def _documents(person: Person) -> list[ExtractPart]:
    parts = []
    attachments = Attachment.objects.filter(person=person).select_related("unit")
    rows = [[_("Fil"), _("Typ"), _("Hör till"), _("Enhet"), _("Tid")]]
    rows += [
        [
            a.filename,
            a.content_type,
            f"{owner_label(a.owner_type)} {a.owner_id}",
            a.unit.name,
            _when(a.created_at),
        ]
        for a in attachments
    ]
    parts.append(ExtractPart(_("Bilagor"), rows))
    rows = [[_("Dokument"), _("Version"), _("Rubrik"), _("Upprättad"), _("Undertecknad av")]]
    versions = DocumentVersion.objects.filter(document__person=person).prefetch_related("signatures")
    for v in versions.order_by("document_id", "number"):
        signers = ", ".join(
            f"{s.signer_label}, {s.unit_label} {_when(s.signed_at)}" for s in v.signatures.all()
        )
        rows.append([str(v.document_id), str(v.number), v.title, _when(v.created_at), signers or "—"])
    parts.append(ExtractPart(_("Dokument och underskrifter"), rows))
    rows = [[_("Utfört"), _("Enhet"), _("Vad som gjordes"), _("Registrerat i efterhand")]]
    for r in PaperRecord.objects.filter(person=person).select_related("unit"):
        rows.append([_when(r.occurred_at), r.unit.name, r.summary, _when(r.registered_at)])
    parts.append(ExtractPart(_("Dokumenterat på papper under avbrott"), rows))
    rows = [[_("Typ"), _("Mottagen"), _("Senast"), _("Levererat")]]
    for e in ExtractRequest.objects.filter(person=person):
        rows.append([e.get_kind_display(), _when(e.received_on), _when(e.deadline), _when(e.delivered_at)])
    parts.append(ExtractPart(_("Begäranden om utdrag"), rows))
    return parts


def _access_summary(person: Person) -> list[ExtractPart]:
    counts = Counter(
        (e.unit_label, e.unit_hsa_id) for e in log_extract(person).only("unit_label", "unit_hsa_id")
    )
    rows = [[_("Vårdenhet"), "HSA-id", _("Antal åtkomster")]]
    rows += [[label, hsa, str(n)] for (label, hsa), n in sorted(counts.items())]
    return [
        ExtractPart(
            _("Åtkomster till uppgifterna"),
            rows,
            [_("Vem som tagit del av uppgifterna och när framgår av loggutdraget, som kan begäras separat.")],
        )
    ]


register_extract_provider("people", _identity, covers=["people.Person"])
register_extract_provider("access", _involvements, covers=["access.Involvement", "access.LogReview"])
register_extract_provider("access_log", _access_summary, covers=["access.AccessLogEntry"])
register_extract_provider(
    "documents",
    _documents,
    covers=[
        "documents.Attachment",
        "documents.Document",
        "documents.DocumentVersion",
        "documents.Signature",
        "documents.ExtractRequest",
        "documents.PaperRecord",
        "documents.BackupSnapshot",
    ],
)


def _person_relations() -> list[tuple[type[models.Model], str]]:
    """Every (model, field) that points at a person, across all installed apps."""
    found = []
    for model in apps.get_models():
        for f in model._meta.get_fields():
            is_fk = isinstance(f, models.ForeignKey | models.OneToOneField)
            if is_fk and f.related_model is Person and model is not Person:
                found.append((model, f.name))
    return found


def _generic(person: Person, covered: set[str]) -> list[ExtractPart]:
    parts = []
    for model, field_name in _person_relations():
        if model._meta.label_lower in covered:
            continue
        rows_qs = model._default_manager.filter(**{field_name: person})
        fields = [f for f in model._meta.concrete_fields if not f.is_relation and f.name != "id"]
        rows = [[str(f.verbose_name) for f in fields]]
        for obj in rows_qs[:500]:
            rows.append(
                [str(getattr(obj, f.attname) if getattr(obj, f.attname) is not None else "—") for f in fields]
            )
        if len(rows) > 1:
            parts.append(ExtractPart(str(model._meta.verbose_name_plural).capitalize(), rows))
    return parts


def register_extract_parts(person: Person) -> list[ExtractPart]:
    parts: list[ExtractPart] = []
    covered: set[str] = set()
    for registered in _PROVIDERS.values():
        parts += registered.provider(person)
        covered.update(registered.covers)
    return parts + _generic(person, covered)


def log_extract_rows(person: Person) -> list[list[str]]:
    """The log extract (R-LOG-3): from which unit and when the data were accessed, and by whom."""
    rows = [[_("Tid"), _("Vårdenhet"), "HSA-id", _("Åtgärd"), _("Användare")]]
    for e in log_extract(person):
        rows.append([_when(e.at), e.unit_label, e.unit_hsa_id, e.get_action_display(), e.user_label])
    return rows


def _facts(person: Person, request: ExtractRequest) -> list[tuple[str, str]]:
    return [
        (_("Personnummer"), display_identifier(person)),
        (_("Namn"), display_name(person)),
        (_("Begäran mottagen"), _when(request.received_on)),
        (_("Framtaget"), _when(timezone.now())),
    ]


def render_extract(request: ExtractRequest) -> bytes:
    person = request.person
    if request.kind == ExtractRequest.Kind.LOG:
        document = pdf.PdfDocument(
            title=_("Loggutdrag"),
            facts=_facts(person, request),
            sections=[
                pdf.Section(
                    _("Åtkomster till personens uppgifter i brygga"),
                    [
                        _(
                            "Utdraget visar från vilken vårdenhet och vid vilken tidpunkt uppgifterna har "
                            "lästs eller ändrats (patientdatalagen 8 kap. 5 §, HSLF-FS 2016:40 4 kap. 10 §)."
                        )
                    ],
                    log_extract_rows(person),
                )
            ],
        )
    else:
        document = pdf.PdfDocument(
            title=_("Registerutdrag"),
            facts=_facts(person, request),
            sections=[
                pdf.Section(p.heading, p.paragraphs, p.rows if len(p.rows) > 1 else [], new_page=False)
                if len(p.rows) > 1 or p.paragraphs
                else pdf.Section(p.heading, [_("Inga uppgifter.")])
                for p in register_extract_parts(person)
            ],
            footer=_(
                "Registerutdrag enligt dataskyddsförordningen artikel 15. Ett registerutdrag är inte ett "
                "journalutdrag; journal och logg lämnas ut enligt patientdatalagen."
            ),
        )
    return pdf.render(document)


# --- the request log ----------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def scoped_requests(actor: Actor) -> QuerySet[ExtractRequest]:
    """Requests registered within the actor's principal (the care provider or municipality)."""
    if not actor.can(Perm.ACCESS_LOG_REVIEW) or actor.unit is None:
        return ExtractRequest.objects.none()
    principal = actor.unit.principal
    return ExtractRequest.objects.filter(
        Q(unit__organisation=principal) | Q(unit__organisation__principal=principal)
    ).select_related("person", "unit")


def register_request(
    actor: Actor, identifier: str, kind: str, received_on: dt.date | None, note: str = ""
) -> ExtractRequest:
    actor.require(Perm.ACCESS_LOG_REVIEW)
    problems = []
    if kind not in ExtractRequest.Kind.values:
        problems.append(Problem("kind", "R-REG-1", _("Välj registerutdrag eller loggutdrag.")))
    if received_on is None:
        problems.append(Problem("received_on", "R-REG-1", _("Ange när begäran togs emot.")))
    elif received_on > timezone.localdate():
        problems.append(Problem("received_on", "R-REG-1", _("Begäran kan inte ha tagits emot i framtiden.")))
    person = None
    try:
        number = parse_identity_number(identifier, "person")
        person = Person.objects.filter(identifier=number.value).first()
        if person is None:
            problems.append(
                Problem(
                    "person",
                    "R-REG-1",
                    _(
                        "brygga har inga uppgifter om det numret. Svara att inga "
                        "personuppgifter behandlas i brygga."
                    ),
                )
            )
    except DomainError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DomainError(problems)
    assert person is not None and received_on is not None and actor.unit is not None
    with transaction.atomic():
        request = ExtractRequest.objects.create(
            person=person,
            kind=kind,
            received_on=received_on,
            due_on=add_months(received_on, 1),
            note=note.strip(),
            unit=actor.unit,
            registered_by=actor.user,
        )
        log_access(
            actor, person, Action.CREATE, f"utdragsbegäran:{request.pk}", is_involved(actor.unit, person.pk)
        )
    return request


def open_request(actor: Actor, request_id: int | str, lock: bool = False) -> ExtractRequest:
    try:
        pk = int(request_id)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    qs = scoped_requests(actor)
    if lock:
        qs = qs.select_for_update()
    request = qs.filter(pk=pk).first()
    if request is None:
        raise NotFound
    return request


def extend_request(
    actor: Actor, request_id: int | str, extended_to: dt.date | None, reason: str, notified_on: dt.date | None
) -> ExtractRequest:
    """GDPR art. 12(3): at most two more months, with reasons, and the person told within the first month."""
    actor.require(Perm.ACCESS_LOG_REVIEW)
    with transaction.atomic():
        request = open_request(actor, request_id, lock=True)
        problems = []
        if request.delivered_at is not None:
            problems.append(Problem("extended_to", "R-REG-1", _("Utdraget är redan levererat.")))
        if extended_to is None or extended_to <= request.due_on:
            problems.append(
                Problem("extended_to", "R-REG-1", _("Ange ett datum efter den ursprungliga fristen."))
            )
        elif extended_to > add_months(request.received_on, 3):
            problems.append(
                Problem("extended_to", "R-REG-1", _("Fristen kan förlängas med högst två månader."))
            )
        if not reason.strip():
            problems.append(Problem("extension_reason", "R-REG-1", _("Ange skälet till förlängningen.")))
        if notified_on is None or notified_on > request.due_on:
            problems.append(
                Problem(
                    "extension_notified_on",
                    "R-REG-1",
                    _("Den registrerade ska underrättas om förlängningen inom en månad från begäran."),
                )
            )
        if problems:
            raise DomainError(problems)
        request.extended_to, request.extension_reason, request.extension_notified_on = (
            extended_to,
            reason.strip(),
            notified_on,
        )
        request.save(update_fields=["extended_to", "extension_reason", "extension_notified_on"])
    return request


def produce_extract(actor: Actor, request_id: int | str) -> tuple[ExtractRequest, bytes]:
    """Render the extract, log the export, and mark the request delivered (the first time)."""
    actor.require(Perm.ACCESS_LOG_REVIEW)
    with transaction.atomic():
        request = open_request(actor, request_id, lock=True)
        data = render_extract(request)
        what = "loggutdrag" if request.kind == ExtractRequest.Kind.LOG else "registerutdrag"
        log_access(
            actor,
            request.person,
            Action.EXPORT,
            f"{what}:{request.pk}",
            is_involved(actor.unit, request.person_id),
        )
        if request.delivered_at is None:
            request.delivered_at = timezone.now()
            request.delivered_by = actor.user
            request.delivered_sha256 = hashlib.sha256(data).hexdigest()
            request.save(update_fields=["delivered_at", "delivered_by", "delivered_sha256"])
    return request, data


__all__ = [
    "ExtractPart",
    "add_months",
    "extend_request",
    "log_extract_rows",
    "produce_extract",
    "register_extract_parts",
    "register_extract_provider",
    "register_request",
    "render_extract",
    "scoped_requests",
]
