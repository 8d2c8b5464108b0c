"""Issue 20 item 2: every operation in the OpenAPI document is called successfully (2xx) by some test.

Runs last (tests/api_coverage.py moves it there) and compares what the suite's clients got a 2xx answer to
with the document. A new endpoint without a test that calls it successfully fails here; so does one whose
route another route shadows (the three SIP POSTs that GET /sip/{sip_id} used to catch)."""

from __future__ import annotations

import pytest

from tests.api_coverage import STATE, SUCCESSFUL, documented_operations


def test_every_documented_operation_is_called_successfully_by_some_test() -> None:
    if not STATE["whole_suite"]:
        pytest.skip("only the whole suite (make test) shows which operations no test calls successfully")
    operations = documented_operations()
    never = sorted(label for key, label in operations.items() if key not in SUCCESSFUL)
    assert never == [], (
        f"{len(never)} of {len(operations)} operations have no test that calls them with a 2xx"
    )
