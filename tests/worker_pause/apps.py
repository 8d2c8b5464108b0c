from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _pause_at(needle: str, marker: Path):  # type: ignore[no-untyped-def]
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if needle in sql and not marker.exists():
            marker.write_text(sql[:200])
            time.sleep(120)  # the test kills the process long before this ends
        return execute(sql, params, many, context)

    return wrapper


class WorkerPauseConfig(AppConfig):
    name = "tests.worker_pause"
    label = "worker_pause"

    def ready(self) -> None:
        needle = os.environ.get("BRYGGA_TEST_PAUSE_SQL", "")
        marker = os.environ.get("BRYGGA_TEST_PAUSE_MARKER", "")
        if not needle or not marker:
            return

        def install(sender: Any, connection: Any, **kwargs: Any) -> None:
            connection.execute_wrappers.append(_pause_at(needle, Path(marker)))

        connection_created.connect(install, weak=False)
