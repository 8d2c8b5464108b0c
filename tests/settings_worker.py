"""Settings for the worker processes that tests/test_worker_crash.py starts and kills: production settings
plus the test-only pause (tests/worker_pause)."""

from brygga.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.worker_pause"]  # noqa: F405
SECURE_SSL_REDIRECT = False
