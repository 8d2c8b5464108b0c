"""Dates and times typed into the Swedish forms, read the same way on every page: empty is None (or, when
required, a refusal), anything else must be ISO (``ÅÅÅÅ-MM-DD`` or ``ÅÅÅÅ-MM-DD TT:MM``), and a time without
an offset is Swedish local time. A bad value is a ``DomainError`` naming the field and the rule
(DATUM-FORMAT), shown next to the field with the rest of the form kept."""

from __future__ import annotations

import datetime as dt
from typing import Literal, overload

from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.core.errors import DomainError


@overload
def form_datetime(value: str | None, field: str, required: Literal[True]) -> dt.datetime: ...
@overload
def form_datetime(value: str | None, field: str, required: bool = False) -> dt.datetime | None: ...
def form_datetime(value: str | None, field: str, required: bool = False) -> dt.datetime | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise DomainError.single(field, "DATUM-FORMAT", _("Ange datum och tid."))
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise DomainError.single(
            field, "DATUM-FORMAT", _("Ange datum och tid som ÅÅÅÅ-MM-DD TT:MM.")
        ) from exc
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@overload
def form_date(value: str | None, field: str, required: Literal[True]) -> dt.date: ...
@overload
def form_date(value: str | None, field: str, required: bool = False) -> dt.date | None: ...
def form_date(value: str | None, field: str, required: bool = False) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise DomainError.single(field, "DATUM-FORMAT", _("Ange datum."))
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise DomainError.single(field, "DATUM-FORMAT", _("Ange datum som ÅÅÅÅ-MM-DD.")) from exc
