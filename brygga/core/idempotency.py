"""One Idempotency-Key implementation for every API write (ADR 0106).

A write with an ``Idempotency-Key`` header runs at most once per (user, active unit, key): its answer —
success or refusal — is stored in ``core.IdempotencyRecord`` in the same transaction as the change (a refusal
after the rollback), and a retry with the same key and the same body gets the stored answer and changes
nothing. The same key with another body is refused (rule IDEMPOTENS). Two concurrent calls with the same key:
the unique constraint lets one win, and the other answers with what the winner stored.

The answer *shapes* differ per API (the cases API wraps everything in a MedCom acknowledgement, the SIP API
answers with the object or ``{"error", "problems"}``), so the caller passes an ``AnswerShape`` that builds the
refusals and marks a replay; the mechanics live only here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest

from brygga.core.errors import DomainError, NotFound
from brygga.core.models import IdempotencyRecord

Answer = tuple[int, dict[str, Any]]

KEY_CONFLICT = {
    "field": "Idempotency-Key",
    "rule": "IDEMPOTENS",
    "message": "Nyckeln är redan använd för ett annat anrop.",
}


class Caller(Protocol):
    """Who calls: ``brygga.accounts.context.Actor`` (the core sits below accounts, so it names only what it
    reads: the user, and the active unit or None)."""

    @property
    def user(self) -> Any: ...

    @property
    def unit(self) -> Any: ...


@dataclass(frozen=True)
class AnswerShape:
    """How one API words its answers. Each callable returns (status, body)."""

    refused: Callable[[DomainError], Answer]
    not_found: Callable[[], Answer]
    key_conflict: Callable[[], Answer]
    replayed: Callable[[dict[str, Any]], dict[str, Any]]
    # None: a database error propagates (the framework answers 500); else the answer to give (e.g. 503).
    transient: Callable[[], Answer] | None = None


def idempotency_key(request: HttpRequest) -> str | None:
    return request.headers.get("Idempotency-Key", "").strip()[:100] or None


def request_hash(scope: str, body: Any) -> str:
    text = json.dumps([scope, body], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def jsonable(value: Any) -> Any:
    return json.loads(
        json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    )


def _replay(stored: Any, digest: str, shape: AnswerShape) -> Answer:
    if stored.request_hash != digest:
        return shape.key_conflict()
    return stored.status, shape.replayed(dict(stored.body))


def run_idempotent(
    actor: Caller,
    key: str | None,
    scope: str,
    body: Any,
    operation: Callable[[], Answer],
    shape: AnswerShape,
) -> Answer:
    """Run ``operation`` (which returns the success answer) in its own transaction, at most once per key."""
    Record = IdempotencyRecord
    keyed = bool(key) and actor.unit is not None
    digest = request_hash(scope, body)
    if keyed:
        stored = Record.objects.filter(user=actor.user, unit=actor.unit, key=key).first()
        if stored is not None:
            return _replay(stored, digest, shape)
    try:
        with transaction.atomic():
            status, answer = operation()
            answer = jsonable(answer)
            if key and actor.unit is not None:
                Record.objects.create(
                    user=actor.user, unit=actor.unit, key=key, request_hash=digest, status=status, body=answer
                )
        return status, answer
    except DomainError as exc:
        status, answer = shape.refused(exc)
    except NotFound:
        status, answer = shape.not_found()
    except IntegrityError:
        # A concurrent call with the same key won the race: answer with what it stored.
        stored = Record.objects.filter(user=actor.user, unit=actor.unit, key=key).first() if keyed else None
        if stored is not None:
            return _replay(stored, digest, shape)
        if shape.transient is None:
            raise
        return shape.transient()
    except OperationalError:
        if shape.transient is None:
            raise
        return shape.transient()
    answer = jsonable(answer)
    if key and actor.unit is not None:
        # A refusal is an answer too: the same retry gets the same refusal, never a second attempt.
        Record.objects.create(
            user=actor.user, unit=actor.unit, key=key, request_hash=digest, status=status, body=answer
        )
    return status, answer
