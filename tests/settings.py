"""Test settings: production settings with what tests cannot have (HTTPS redirects) switched off."""

from brygga.settings import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
BRYGGA_REQUIRE_TOTP = False
# Most tests attach files without a scanner; tests/test_documents_clamd.py asserts the fail-closed default.
BRYGGA_REQUIRE_VIRUS_SCAN = False
# Signing tests confirm the signer where they test it (tests/test_documents_reauth.py); the others sign directly.
BRYGGA_SIGNING_FRESH_AUTH = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Argon2 is deliberately slow; tests hash many passwords. Production's hasher list is asserted in
# tests/test_web_and_api.py::test_production_hashes_passwords_with_argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
BRYGGA_POPULATION_REGISTER = "none"  # tests that fetch set it (tests/test_people_register.py)
BRYGGA_LOCAL_LOGIN = True  # the tests sign in with local accounts; production defaults to off
# The tests' receivers run on 127.0.0.1 without an allow-list; tests/test_fhir_subscriptions.py asserts the
# fail-closed default (no list: no subscription) and the list.
BRYGGA_FHIR_ANY_ENDPOINT_HOST = True
