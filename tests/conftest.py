from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Role
from tests.factories import CONTACT_POINT, HOME, PRIMARY_CARE, WARD, actor

# Notes the API operations each test calls successfully (issue 20 item 2, tests/test_api_coverage.py).
pytest_plugins = ["tests.api_coverage"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Every test database starts with the Västra Götaland reference data, as a real installation does."""
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0)


@pytest.fixture(autouse=True)
def no_synthetic_demo_volume(settings):  # type: ignore[no-untyped-def]
    """The demo's 1 500 synthetic stays (brygga/statistics/demo.py) take seconds per load; the unit tests'
    demo fixture leaves them out (tests/test_statistics_demo.py writes a few itself, the browser tests' server
    loads the full demo)."""
    settings.BRYGGA_DEMO_SYNTHETIC_STAYS = 0


@pytest.fixture(autouse=True)
def no_access_log_anchor(settings):  # type: ignore[no-untyped-def]
    """No test writes the seals' anchor in var/ (ADR 0800): it is off unless a test gives its own file (the
    anchor is written when the sealing transaction commits, which a test's own transaction never does)."""
    settings.BRYGGA_ACCESS_LOG_ANCHOR = ""


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    call_command("load_demo_data", verbosity=0)


@pytest.fixture
def isolated_documents(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Documents, attachments and the local signing CA in the test's own folder (never var/), the local
    signer, and no virus scanner unless a test configures one. Returns that folder."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    settings.BRYGGA_SIGNING_CA_DIR = tmp_path / "signing"
    settings.BRYGGA_SIGNER = "local"
    settings.BRYGGA_TSA_URL = ""
    settings.BRYGGA_SIGNING_TRUST_ROOTS = []
    settings.BRYGGA_CLAMAV_HOST = ""
    settings.BRYGGA_CLAMAV_SOCKET = ""
    return tmp_path


# --- personas: one actor per role and unit, defined once (a test module may still define its own) --------


@pytest.fixture
def nurse() -> Actor:
    """The ward nurse who admits and sends the notices."""
    return actor(Role.WARD_NURSE, WARD)


@pytest.fixture
def physician() -> Actor:
    """The ward's physician (discharge-ready, assessments)."""
    return actor(Role.PHYSICIAN, WARD)


@pytest.fixture
def contact() -> Actor:
    """The municipality's contact point."""
    return actor(Role.MUNICIPAL_CONTACT, CONTACT_POINT)


@pytest.fixture
def vc() -> Actor:
    """The vårdcentral's care coordinator."""
    return actor(Role.CARE_COORDINATOR, PRIMARY_CARE)


@pytest.fixture
def home() -> Actor:
    """The municipal home health care nurse."""
    return actor(Role.HOME_CARE_NURSE, HOME)


@pytest.fixture(autouse=True)
def fresh_unit_directory(settings):  # type: ignore[no-untyped-def]
    """The per-process unit directory (ADR 0703) must not carry units of a rolled-back test into the next.
    Every run of a reused statement (ADR 0707) is compared with the ORM's own in the tests."""
    from brygga.core import statements
    from brygga.organisations import directory

    settings.BRYGGA_CHECK_REUSED_STATEMENTS = True
    directory.forget()
    statements.forget()  # the compiled statements too (ADR 0704): each test starts from the ORM
    yield
    directory.forget()
    statements.forget()  # the compiled statements too (ADR 0704): each test starts from the ORM


@pytest.fixture(autouse=True)
def swedish_to_begin_with():  # type: ignore[no-untyped-def]
    """Every test starts in Swedish (the middleware restores the language after a request too): texts a service
    words outside a request (a message's legal basis) must not follow an earlier test's language."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
