"""A population register read from a local JSON file, for development and the demo.

The file is a list of objects with the fields of :class:`RegisterRecord` (``deceased_on`` as ISO date). It is
read on every look-up, so editing it while the server runs is enough to simulate a move or a death."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from brygga.people.register.base import NotInRegister, RegisterRecord, RegisterUnavailable


class FileRegister:
    source = "file"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def fetch(self, identifier: str) -> RegisterRecord:
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RegisterUnavailable(f"{self.path}: {exc}") from exc
        for row in rows:
            if row.get("identifier") == identifier:
                deceased = row.get("deceased_on")
                return RegisterRecord(
                    identifier=identifier,
                    given_name=row.get("given_name", ""),
                    family_name=row.get("family_name", ""),
                    street_address=row.get("street_address", ""),
                    postal_code=row.get("postal_code", ""),
                    city=row.get("city", ""),
                    municipality_code=row.get("municipality_code") or None,
                    protected_identity=bool(row.get("protected_identity", False)),
                    deceased_on=dt.date.fromisoformat(deceased) if deceased else None,
                    test_indicator=bool(row.get("test_indicator", True)),
                )
        raise NotInRegister(identifier)
