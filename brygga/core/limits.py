"""One limit per text field (issue 13 item 3). A text longer than its limit is refused with a Swedish
message naming the field and the limit (rule TEXT-LANGD) — never cut. The same numbers go into the pages'
``maxlength`` and the API schemas' ``maxLength``; ``guard_char_lengths`` also refuses any CharField longer
than its column before it is written, so SQLite (which does not enforce lengths) and PostgreSQL (which would
fail with a server error) behave alike."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from brygga.core.errors import DomainError, Problem

RULE = "TEXT-LANGD"


def too_long(field: str, value: str | None, limit: int) -> Problem | None:
    """A refusal if ``value`` has more than ``limit`` characters."""
    length = len(value or "")
    if length <= limit:
        return None
    return Problem(
        field,
        RULE,
        _("Texten är för lång: högst %(limit)s tecken, du skrev %(length)s.")
        % {"limit": limit, "length": length},
    )


def length_problems(values: dict[str, tuple[str | None, int]]) -> list[Problem]:
    """``{field: (value, limit)}`` → the refusals, in order."""
    return [p for field, (value, limit) in values.items() if (p := too_long(field, value, limit)) is not None]


def check_lengths(values: dict[str, tuple[str | None, int]]) -> None:
    problems = length_problems(values)
    if problems:
        raise DomainError(problems)


def guard_char_lengths(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """pre_save for every brygga model: a CharField value longer than its column is refused, naming the field,
    instead of being cut (SQLite) or failing as a server error (PostgreSQL)."""
    problems = []
    for model_field in instance._meta.concrete_fields:
        if isinstance(model_field, models.CharField) and model_field.max_length:
            value = getattr(instance, model_field.attname, None)
            if isinstance(value, str) and (p := too_long(model_field.name, value, model_field.max_length)):
                problems.append(p)
    if problems:
        raise DomainError(problems)


def limited(field: str, value: str | None, limit: int) -> str:
    """``value`` stripped, or a TEXT-LANGD refusal naming ``field`` if it is longer than ``limit``."""
    text = (value or "").strip()
    if problem := too_long(field, text, limit):
        raise DomainError([problem])
    return text
