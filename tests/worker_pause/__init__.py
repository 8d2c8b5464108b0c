"""A test-only app for tests/test_worker_crash.py: when BRYGGA_TEST_PAUSE_SQL is set, the first SQL statement
that contains it writes BRYGGA_TEST_PAUSE_MARKER and then waits (inside the task's open transaction), so the
test can kill -9 the worker exactly there."""
