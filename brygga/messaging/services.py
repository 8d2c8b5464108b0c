"""Message threads on a case, a SIP or a care request: one service for all three (ADR 0104).

The service talks to the thing a thread belongs to — its *subject* — only through the small ``Subject``
protocol below: who takes part, how an event is recorded in the subject's own history (CaseEvent or the SIP
app's Event, which also marks the other units unacknowledged and logs the change), and how a unit is added on
forwarding. The apps above implement it and register their adapter (``register_subject``, ADR 0009):
``CaseSubject`` in ``brygga.cases.services``, ``SipSubject`` and ``CareRequestSubject`` in
``brygga.sip.messaging``; this app imports neither.

Every message to a unit other than the sender's carries a legal basis (R-SEK-2): for every receiving unit the
single disclosure decision ``brygga.consent.services.decide_disclosure`` is asked for the category "health" (a
free-text message is information beyond the four admission-notice fields, R-SEK-3). A unit of the same
principal and secrecy area gets "samma huvudman"; another principal needs a recorded consent or a physician's
documented assessment. Without a basis for every receiver the message is refused (R-SEK-2, R-SEK-3 when the
consent was withdrawn, R-SEK-4 when excluded) and nothing is written. The basis is stored on the message and
shown with it.

Reading follows the same rule (``Readable``): a unit reads a message it sent or received (it is named in the
stored basis), or one that a unit holding it — the sender or a receiver — could disclose to it today (same
principal and secrecy area, or a recorded consent or assessment naming it, R-SEK-1..4). A unit that joins a
case later therefore reads what its own principal already holds, but not what another principal sent before
it took part: that needs a basis first. A thread none of whose messages the unit may read is not shown at all
(its subject is text too); a message it may not read is not found.

Attachments go through ``brygga.documents.attachments.add_attachment`` (owner type ``message``) inside the
same transaction: a refused file means no message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from django.core.files.base import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from brygga.access.services import record_change
from brygga.accounts.context import Actor
from brygga.accounts.permissions import Perm
from brygga.consent.services import DisclosureRecords, decide_disclosure
from brygga.core import statements
from brygga.core.errors import DomainError, NotFound, Problem
from brygga.core.limits import length_problems, limited
from brygga.documents.attachments import add_attachment
from brygga.documents.models import Attachment
from brygga.messaging.models import Message, Thread
from brygga.organisations.models import Unit
from brygga.people.models import Person

# The information category a free-text message is judged as (brygga.consent.rules.CATEGORIES).
MESSAGE_CATEGORY = "health"
MAX_TEXT = 20000  # a message's text (and a quoted part); refused above it, never cut (TEXT-LANGD)
MAX_SUBJECT = 200  # a thread's subject line: Thread.subject's column


class Subject(Protocol):
    """What a thread belongs to. Implemented by CaseSubject, SipSubject and CareRequestSubject."""

    kind: str  # "case" | "sip" | "care_request": the Thread field that points to it
    obj: Any
    person: Person
    source: str  # e.g. "case:12", for the access log

    def sender_unit(self, actor: Actor) -> Unit | None:
        """The actor's active unit if it takes part (else None: the caller answers NotFound)."""

    def recipient_units(self, sender: Unit) -> list[Unit]:
        """The other units that will read the thread."""

    def record_event(self, actor: Actor, data: dict[str, Any]) -> None:
        """Write ``message_sent`` in the subject's own history, mark the other units unacknowledged where the
        subject has acknowledgement, and log the change."""

    def add_unit(self, actor: Actor, unit: Unit) -> list[dict[str, Any]]:
        """Forward within the own organisation: let ``unit`` take part (or refuse with VIDARESAND)."""

    def resolve_unit(self, ref: Unit | int | str) -> Unit:
        """The active unit a forward names (by id or HSA id), or a DomainError at ``recipients``."""


def _now() -> dt.datetime:
    return timezone.now()


def _user_label(actor: Actor) -> str:
    return actor.user.get_full_name() or actor.user.username


def _unit_ref(unit: Unit) -> dict[str, Any]:
    return {"id": unit.pk, "hsa_id": unit.hsa_id, "name": unit.name}


# --- the subjects' adapters, registered by the apps above ------------------------------------------------

_ADAPTERS: dict[type, Callable[[Any], Subject]] = {}


def register_subject(model: type, adapter: Callable[[Any], Subject]) -> None:
    """Called from an app's ``ready``: threads may belong to ``model``; ``adapter(obj)`` is its Subject."""
    _ADAPTERS[model] = adapter


def subject_for(obj: Any) -> Subject:
    """The Subject adapter for a case, a SIP or a care request."""
    for cls in type(obj).__mro__:
        if cls in _ADAPTERS:
            return _ADAPTERS[cls](obj)
    raise TypeError(f"Not a message subject: {type(obj).__name__}")


# --- reading ------------------------------------------------------------------------------------------------


class Readable:
    """Which messages about ``person`` the unit ``reader`` may read (the module docstring; R-SEK-1..4). One
    per page or request: each unit holding messages is asked ``decide_disclosure`` at most once."""

    def __init__(self, person: Person, reader: Unit | None, now: dt.datetime | None = None) -> None:
        self.person, self.reader, self.now = person, reader, now or _now()
        self._decided: dict[int, bool] = {}
        self._records = DisclosureRecords(person, self.now)  # read once, when a decision first needs them

    def _may_disclose(self, holder_id: int) -> bool:
        assert self.reader is not None
        if holder_id not in self._decided:
            holder = Unit.objects.select_related("organisation__principal").filter(pk=holder_id).first()
            allowed = holder is not None
            if holder is not None:
                try:
                    decide_disclosure(
                        self.person, MESSAGE_CATEGORY, self.reader, holder, records=self._records
                    )
                except DomainError:
                    allowed = False
            self._decided[holder_id] = allowed
        return self._decided[holder_id]

    def __call__(self, message: Message) -> bool:
        if self.reader is None:
            return False
        if message.unit_id == self.reader.pk:
            return True
        receivers = [u["unit"]["id"] for u in (message.legal_basis or {}).get("units", [])]
        if self.reader.pk in receivers:
            return True
        return any(self._may_disclose(holder) for holder in [message.unit_id, *receivers])


def threads_of(subject: Subject) -> QuerySet[Thread]:
    return Thread.objects.filter(**{subject.kind: subject.obj})


def message_of(subject: Subject, message_id: int | str | None, reader: Unit | None) -> Message:
    """A message of one of the subject's threads that ``reader`` may read, or NotFound (also for another
    subject's message, and for one the unit has no basis to read)."""
    try:
        pk = int(message_id or 0)
    except (TypeError, ValueError) as exc:
        raise NotFound from exc
    found = (
        Message.objects.filter(pk=pk, **{f"thread__{subject.kind}": subject.obj})
        .select_related("thread")
        .first()
    )
    if found is None or not Readable(subject.person, reader)(found):
        raise NotFound
    return found


def thread_list(subject: Subject, reader: Unit | None) -> list[Thread]:
    """The subject's threads that ``reader`` may read, for a page: each with ``message_list`` (the messages
    the unit may read) and ``hidden_count`` (those it may not), and every message's ``attachment_list``.
    The caller has opened the subject through its checked path (the read is logged there)."""
    readable = Readable(subject.person, reader)
    threads = []
    # One text per kind of subject: compiled once per process (ADR 0707).
    found = statements.reused(
        ("thread_list", subject.kind),
        lambda subject_id: Thread.objects.filter(**{f"{subject.kind}_id": subject_id}).prefetch_related(
            "messages"
        ),
        subject_id=subject.obj.pk,
    )
    for thread in found:
        messages = list(thread.messages.all())
        thread.message_list = [m for m in messages if readable(m)]  # type: ignore[attr-defined]
        hidden = thread.hidden_count = len(messages) - len(thread.message_list)  # type: ignore[attr-defined]
        # The page's line about them (its template is a Jinja2 body, ADR 0705: plural texts come from Python).
        thread.hidden_text = ngettext(  # type: ignore[attr-defined]
            "%(counter)s meddelande i tråden visas inte: er enhet har ingen rättslig grund att läsa det "
            "(R-SEK-2).",
            "%(counter)s meddelanden i tråden visas inte: er enhet har ingen rättslig grund att läsa dem "
            "(R-SEK-2).",
            hidden,
        ) % {"counter": hidden}
        if thread.message_list:  # type: ignore[attr-defined]
            threads.append(thread)
    message_ids = [str(m.pk) for t in threads for m in t.message_list]  # type: ignore[attr-defined]
    by_message: dict[str, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(owner_type="message", owner_id__in=message_ids).order_by(
        "pk"
    ):
        by_message.setdefault(attachment.owner_id, []).append(attachment)
    for thread in threads:
        for message in thread.message_list:  # type: ignore[attr-defined]
            message.attachment_list = by_message.get(str(message.pk), [])
    return threads


def pinned_of(subject: Subject, reader: Unit | None) -> list[Message]:
    readable = Readable(subject.person, reader)
    pinned = statements.reused(
        ("pinned_of", subject.kind),
        lambda subject_id: Message.objects.filter(
            pinned=True, **{f"thread__{subject.kind}_id": subject_id}
        ).select_related("thread"),
        subject_id=subject.obj.pk,
    )
    return [m for m in pinned if readable(m)]


def readable_messages(actor: Actor, message_ids: list[str]) -> set[str]:
    """Those of ``message_ids`` the actor's unit may read (for their attachments; the caller has checked
    the person's access). One query for the messages, one ``Readable`` per person."""
    ids = [int(i) for i in message_ids if str(i).isdecimal()]
    readers: dict[int, Readable] = {}
    readable: set[str] = set()
    for message in Message.objects.filter(pk__in=ids).select_related("thread__person"):
        person = message.thread.person
        reader = readers.setdefault(person.pk, Readable(person, actor.unit))
        if reader(message):
            readable.add(str(message.pk))
    return readable


# --- the legal basis (R-SEK-2) ------------------------------------------------------------------------------


def legal_basis(
    person: Person, sender: Unit, recipients: Iterable[Unit], now: dt.datetime | None = None
) -> dict[str, Any]:
    """The basis for every receiving unit, or a DomainError listing every unit without one (field ``body``:
    the text is what would be disclosed)."""
    now = now or _now()
    records = DisclosureRecords(person, now)
    units: list[dict[str, Any]] = []
    problems: list[Problem] = []
    status = 403
    for unit in recipients:
        try:
            basis = decide_disclosure(person, MESSAGE_CATEGORY, unit, sender, records=records)
        except DomainError as exc:
            for problem in exc.problems:
                problems.append(Problem("body", problem.rule, f"{unit.name}: {problem.message}"))
            status = exc.status
            continue
        units.append(
            {
                "unit": _unit_ref(unit),
                "principal": unit.principal.name,
                **basis.as_dict(),
            }
        )
    if problems:
        raise DomainError(problems, status=status)
    return {"category": MESSAGE_CATEGORY, "units": units}


# --- writing ------------------------------------------------------------------------------------------------


def _participating_sender(actor: Actor, subject: Subject) -> Unit:
    if not actor.can(Perm.MESSAGE_SEND):
        raise DomainError.single(
            "", "BEHORIGHET", _("Din roll i den aktiva enheten får inte göra detta."), status=403
        )
    sender = subject.sender_unit(actor) if actor.unit is not None else None
    if sender is None:
        raise NotFound
    return sender


def _attach(actor: Actor, person: Person, message: Message, files: Sequence[File]) -> None:
    """Attach the files to the message; on a refusal remove the files already stored, then re-raise (the
    surrounding transaction removes the rows and the message)."""
    stored = []
    try:
        for upload in files:
            stored.append(add_attachment(actor, person.pk, "message", str(message.pk), upload))
    except Exception:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise


def _create(
    actor: Actor,
    subject: Subject,
    sender: Unit,
    thread: Thread,
    *,
    body: str,
    quoted: str,
    in_reply_to: Message | None,
    files: Sequence[File],
    basis: dict[str, Any],
    event: dict[str, Any],
) -> Message:
    message = Message.objects.create(
        thread=thread,
        author=actor.user,
        author_label=f"{_user_label(actor)}, {sender.name}",
        unit=sender,
        body=body,
        quoted=quoted,
        in_reply_to=in_reply_to,
        sent_at=_now(),
        legal_basis=basis,
    )
    _attach(actor, subject.person, message, files)
    subject.record_event(
        actor,
        {
            "thread": thread.pk,
            "message": message.pk,
            "category": thread.category,
            "attachments": len(files),
            "legal_basis": [{"unit": u["unit"]["hsa_id"], "basis": u["basis"]} for u in basis["units"]],
            **event,
        },
    )
    return message


@transaction.atomic
def send_message(
    actor: Actor,
    subject: Subject,
    *,
    body: str,
    category: str = "",
    title: str = "",
    reply_to: Message | None = None,
    quote: str = "",
    files: Sequence[File] = (),
) -> Message:
    """A message in a thread. A new thread needs a category (MedCom) and a subject line; a reply keeps the
    thread's and includes only the part of the earlier text the user chose (``quote``)."""
    sender = _participating_sender(actor, subject)
    problems = []
    if not body.strip():
        problems.append(Problem("body", "MEDDELANDE", _("Skriv ett meddelande.")))
    if reply_to is None:
        if category not in Thread.Category.values:
            problems.append(Problem("category", "MEDDELANDE-KATEGORI", _("Välj en kategori.")))
        if not title.strip():
            problems.append(Problem("subject", "MEDDELANDE-AMNE", _("Skriv ett ämne.")))
        problems += length_problems({"subject": (title.strip(), MAX_SUBJECT)})
    elif getattr(reply_to.thread, f"{subject.kind}_id") != subject.obj.pk:
        raise NotFound
    problems += length_problems({"body": (body.strip(), MAX_TEXT), "quote": (quote.strip(), MAX_TEXT)})
    if problems:
        raise DomainError(problems)
    basis = legal_basis(subject.person, sender, subject.recipient_units(sender))
    thread = reply_to.thread if reply_to else None
    if thread is None:
        thread = Thread.objects.create(
            person=subject.person,
            category=category,
            subject=title.strip(),
            created_at=_now(),
            **{subject.kind: subject.obj},
        )
    return _create(
        actor,
        subject,
        sender,
        thread,
        body=body.strip(),
        quoted=quote.strip() if reply_to else "",
        in_reply_to=reply_to,
        files=files,
        basis=basis,
        event={"reply": reply_to is not None},
    )


@transaction.atomic
def forward_message(
    actor: Actor,
    subject: Subject,
    message: Message,
    *,
    include_text: bool,
    title: str = "",
    category: str = "",
    reason: str = "",
    to_unit: Unit | None = None,
    files: Sequence[File] = (),
) -> Message:
    """Forward a message as a new thread (MedCom: the user chooses what to include; category and subject are
    copied and may be edited; a reason may be given). ``to_unit`` forwards within the actor's own
    organisation: that unit joins the subject (cases only)."""
    sender = _participating_sender(actor, subject)
    if getattr(message.thread, f"{subject.kind}_id") != subject.obj.pk:
        raise NotFound
    added: list[dict[str, Any]] = []
    if to_unit is not None:
        added = subject.add_unit(actor, to_unit)
    category = category or message.thread.category
    typed = limited("subject", title, MAX_SUBJECT)
    reason = limited("reason", reason, MAX_TEXT)
    # Only the generated "VB: …" line is shortened to the column; what the user typed is checked above.
    title = typed or f"VB: {message.thread.subject}"[:MAX_SUBJECT]
    if category not in Thread.Category.values:
        raise DomainError.single("category", "MEDDELANDE-KATEGORI", _("Välj en kategori."))
    basis = legal_basis(subject.person, sender, subject.recipient_units(sender))
    thread = Thread.objects.create(
        person=subject.person,
        category=category,
        subject=title,
        created_at=_now(),
        **{subject.kind: subject.obj},
    )
    return _create(
        actor,
        subject,
        sender,
        thread,
        body=reason or _("Vidaresänt meddelande."),
        quoted=message.body if include_text else "",
        in_reply_to=message,
        files=files,
        basis=basis,
        event={"forwarded_from": message.pk, "included_text": include_text, "added_units": added},
    )


@transaction.atomic
def pin_message(actor: Actor, subject: Subject, message: Message, pinned: bool = True) -> Message:
    """Pin an important message to the top of the subject's page for every unit."""
    if subject.sender_unit(actor) is None or getattr(message.thread, f"{subject.kind}_id") != subject.obj.pk:
        raise NotFound
    if not actor.can(Perm.MESSAGE_SEND):
        raise DomainError.single(
            "", "BEHORIGHET", _("Din roll i den aktiva enheten får inte göra detta."), status=403
        )
    message.pinned = pinned
    message.save(update_fields=["pinned"])
    record_change(
        actor, subject.person, f"{subject.source}/meddelande:{message.pk}/{'fast' if pinned else 'lossad'}"
    )
    return message


# --- output (API) -------------------------------------------------------------------------------------------


def message_out(message: Message) -> dict[str, Any]:
    thread = message.thread
    return {
        "id": message.pk,
        "thread": {
            "id": thread.pk,
            "category": thread.category,
            "category_label": str(thread.get_category_display()),
            "subject": thread.subject,
            "case_id": thread.case_id,
            "sip_id": thread.sip_id,
            "care_request_id": thread.care_request_id,
        },
        "author": message.author_label,
        "unit": message.unit.hsa_id,
        "body": message.body,
        "quoted": message.quoted,
        "in_reply_to": message.in_reply_to_id,
        "pinned": message.pinned,
        "sent_at": message.sent_at.isoformat(),
        "legal_basis": message.legal_basis,
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in Attachment.objects.filter(owner_type="message", owner_id=str(message.pk)).order_by("pk")
        ],
    }


def case_message(message_pk: int) -> Message | None:
    """A message of a case's thread by id, for the FHIR Communication read: the caller then opens the case
    through its checked path and asks ``readable_messages`` before it shows anything."""
    return (
        Message.objects.select_related("thread", "unit")
        .filter(pk=message_pk, thread__case__isnull=False)
        .first()
    )
