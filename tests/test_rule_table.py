"""docs/rules.md is the one table rule id → code → tests (issue 14). It is generated from the code, and this
test fails when someone names a rule in code or tests without regenerating it (`make rules-table`)."""

from __future__ import annotations

import pytest

from tools import rule_table


def test_the_rule_table_in_docs_matches_the_code() -> None:
    if not rule_table.SHARED_RULES.exists():
        pytest.skip("../shared/domain/rules.md is not beside the project")
    assert rule_table.OUT.read_text(encoding="utf-8") == rule_table.render(), "run `make rules-table`"


def test_rule_ids_are_read_from_code_ranges_and_test_names() -> None:
    assert rule_table.ids_in("R-INS-1..4 and R-SEK-2/3") == {
        "R-INS-1",
        "R-INS-2",
        "R-INS-3",
        "R-INS-4",
        "R-SEK-2",
        "R-SEK-3",
    }
    assert rule_table.ids_in("", "test_late_notice_R_INS_2") == {"R-INS-2"}
    # Not rules: a prefix used in code, and an upper-case name that ends in R_.
    assert rule_table.ids_in('rule.startswith("R-SEK")', "test_USER_MODEL_2") == set()
