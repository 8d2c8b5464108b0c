"""The message endpoints shared by the three subjects (cases, SIPs, care requests): input schemas and the
operations the cases and SIP routers call inside their idempotent execution. The service
(``brygga.messaging.services``) does every check; attachments come as base64 in the JSON body and go through
the documents app's checks in the same transaction as the message."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.files.base import ContentFile
from ninja import Field, Schema

from brygga.accounts.context import Actor
from brygga.core.errors import DomainError
from brygga.messaging import services as messaging
from brygga.messaging.services import MAX_SUBJECT, MAX_TEXT


class AttachmentIn(Schema):
    filename: str = Field(max_length=255)
    content_base64: str = Field(description="Filens innehåll, base64. Typen avgörs av innehållet.")


class MessageIn(Schema):
    body: str = Field(max_length=MAX_TEXT)
    category: str = Field("", description="MedCom-kategori för en ny tråd (t.ex. discharge, nursing)")
    subject: str = Field("", max_length=MAX_SUBJECT, description="Ämne för en ny tråd")
    reply_to: int | None = Field(None, description="Svar på meddelande (id); tråden behålls")
    quote: str = Field(
        "", max_length=MAX_TEXT, description="Den del av det tidigare meddelandet som tas med i svaret"
    )
    attachments: list[AttachmentIn] = []


class ForwardIn(Schema):
    include_text: bool = True
    subject: str = Field("", max_length=MAX_SUBJECT)
    category: str = ""
    reason: str = Field("", max_length=MAX_TEXT)
    to_unit: str | None = Field(None, description="HSA-id i den egna organisationen (bara ärenden)")
    attachments: list[AttachmentIn] = []


class PinIn(Schema):
    pinned: bool = True


def _files(attachments: list[AttachmentIn]) -> list[ContentFile]:
    files = []
    for item in attachments:
        try:
            content = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DomainError.single("file", "DOK-BIL-1", "Bilagan är inte giltig base64.") from exc
        files.append(ContentFile(content, name=item.filename))
    return files


def body_of(payload: Schema) -> dict[str, Any]:
    """The request body for the idempotency hash (attachments by name and a digest, not their content)."""
    import hashlib

    data = payload.dict()
    data["attachments"] = [
        {"filename": a["filename"], "sha256": hashlib.sha256(a["content_base64"].encode()).hexdigest()}
        for a in data.get("attachments", [])
    ]
    return data


def list_messages(actor: Actor, subject: messaging.Subject) -> list[dict[str, Any]]:
    """The messages the actor's unit may read (messaging.Readable)."""
    return [
        messaging.message_out(m)
        for thread in messaging.thread_list(subject, actor.unit)
        for m in thread.message_list  # type: ignore[attr-defined]
    ]


def send(actor: Actor, subject: messaging.Subject, payload: MessageIn) -> dict[str, Any]:
    reply_to = messaging.message_of(subject, payload.reply_to, actor.unit) if payload.reply_to else None
    message = messaging.send_message(
        actor,
        subject,
        body=payload.body,
        category=payload.category,
        title=payload.subject,
        reply_to=reply_to,
        quote=payload.quote,
        files=_files(payload.attachments),
    )
    return messaging.message_out(message)


def forward(actor: Actor, subject: messaging.Subject, message_id: int, payload: ForwardIn) -> dict[str, Any]:
    message = messaging.message_of(subject, message_id, actor.unit)
    to_unit = None
    if payload.to_unit:
        to_unit = subject.resolve_unit(payload.to_unit)
    forwarded = messaging.forward_message(
        actor,
        subject,
        message,
        include_text=payload.include_text,
        title=payload.subject,
        category=payload.category,
        reason=payload.reason,
        to_unit=to_unit,
        files=_files(payload.attachments),
    )
    return messaging.message_out(forwarded)


def pin(actor: Actor, subject: messaging.Subject, message_id: int, payload: PinIn) -> dict[str, Any]:
    message = messaging.message_of(subject, message_id, actor.unit)
    return messaging.message_out(messaging.pin_message(actor, subject, message, payload.pinned))
