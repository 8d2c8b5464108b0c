"""What the database holds, to prove that a refused request changed nothing: every row of every brygga
model, except the access log (a refused form still read personal data, and that read is logged on purpose)."""

from __future__ import annotations

from typing import Any

from django.apps import apps

# Tables a refused request may legitimately write: the log of what was read, and the seal over it.
NOT_COMPARED = {"access.accesslogentry", "access.accesslogseal"}


def db_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("brygga."):
            continue
        label = model._meta.label_lower
        if label in NOT_COMPARED:
            continue
        rows = model._base_manager.order_by("pk").values_list()
        found[label] = [tuple(str(v) for v in row) for row in rows]
    return found


def changed_tables(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    return sorted(label for label in before.keys() | after.keys() if before.get(label) != after.get(label))
