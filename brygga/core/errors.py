"""Domain errors. Every refusal names the field it concerns and the rule it enforces, so the UI can show a
Swedish message next to the field and the API can return structured JSON — from one source."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing wrong with an input: which field, which rule, and a Swedish message for people."""

    field: str
    rule: str
    message: str
    # A page the user can go to about the problem (e.g. the stay that already is open); web only.
    link: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": str(self.message)}


@dataclass
class DomainError(Exception):
    """A refused change. Raised inside a transaction, it rolls the whole change back."""

    problems: list[Problem] = field(default_factory=list)
    status: int = 400

    @classmethod
    def single(cls, field: str, rule: str, message: str, status: int = 400) -> DomainError:
        return cls([Problem(field, rule, message)], status=status)

    def __str__(self) -> str:
        return "; ".join(f"{p.field}: {p.message} ({p.rule})" for p in self.problems)

    def as_dict(self) -> dict[str, object]:
        return {"error": "invalid", "problems": [p.as_dict() for p in self.problems]}


class NotFound(Exception):
    """The object does not exist *or* the caller may not know that it exists (need-to-know).
    Both cases look identical to the caller on purpose.

    The log reviewer sees the difference: ``reason`` (a ``brygga.access.models.DenialReason`` value) and the
    person asked about, when known, are noted for the request, and a request answered 404 after a NotFound
    writes a DENIED access-log entry (brygga.access.middleware, ADR 0801)."""

    def __init__(self, reason: str = "", person_id: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.person_id = person_id
        noted = REFUSALS.get()
        if noted is not None:
            noted.append(self)


# The refusals raised while serving the current request (None outside a request: nothing is noted).
REFUSALS: ContextVar[list[NotFound] | None] = ContextVar("brygga_refusals", default=None)


class PermissionDenied(Exception):
    """The caller's role in the active unit lacks the named permission (for actions, not for reading data:
    reading someone else's data is NotFound)."""

    def __init__(self, permission: str):
        super().__init__(permission)
        self.permission = permission
