"""Browser-test harness (see harness.py). Its asserts are rewritten like a test's, for readable failures."""

import pytest

pytest.register_assert_rewrite("tests.e2e.harness")
