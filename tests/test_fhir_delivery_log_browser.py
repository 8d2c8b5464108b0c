"""The delivery-log page in a browser (issue 19 item 4): the local administrator of the subscriber's principal
finds it in the menu, axe-core finds no WCAG 2.1 AA violation at 1280 and 320 CSS px (no sideways scrolling),
and "Försök igen nu" answers with a message read out as a status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import (
    E2EServer,
    assert_accessible_basics,
    assert_axe_clean,
    assert_no_horizontal_scroll,
    login,
    screenshot,
)

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

SETUP = """
import datetime as dt
from django.utils import timezone
from brygga.accounts.models import User
from brygga.cases.models import CaseEvent
from brygga.fhir.models import Notification, Subscription
from brygga.organisations.models import Unit
unit = Unit.objects.get(name="Göteborg kontaktpunkt")
sub = Subscription.objects.create(unit=unit, created_by=User.objects.get(username="lokaladmin"),
                                  topic="admission-notice", endpoint="http://127.0.0.1:9/hook",
                                  status="active", events_since_start=2, heartbeat_period=300)
now = timezone.now()
events = list(CaseEvent.objects.order_by("pk")[:2])
Notification.objects.create(subscription=sub, event_number=1, case_event=events[0], focus="Task/1-2",
                            created_at=now, status="delivered", attempts=1, next_attempt_at=now,
                            last_status=200, delivered_at=now)
Notification.objects.create(subscription=sub, event_number=2, case_event=events[1], focus="Task/2-2",
                            created_at=now, attempts=3, next_attempt_at=now + dt.timedelta(minutes=5),
                            last_error="HTTP 500", last_status=500)
print(sub.pk)
"""


@pytest.fixture
def admin_page(browser: Any, e2e_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=e2e_url, locale="sv-SE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    login(page, "lokaladmin")
    yield page
    context.close()


def test_the_delivery_log_is_accessible_and_retry_answers(admin_page: Any, e2e_server: E2EServer) -> None:
    sub_id = e2e_server.shell(SETUP).splitlines()[-1]
    page = admin_page
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("link", name="Integrationer").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Prenumerationer och leveranser (FHIR)"
    section = page.get_by_role("region", name=f"Prenumeration {sub_id}: Inskrivningsmeddelande")
    assert "Nr 2: 3 försök, senast HTTP 500." in section.inner_text()
    table = section.get_by_role("table", name="De senaste 20 notiserna")
    assert table.get_by_role("row").count() == 3  # header and two notifications
    assert_accessible_basics(page)
    assert_axe_clean(page, "1280 px")
    screenshot(page, "fhir-delivery-log")
    page.set_viewport_size({"width": 320, "height": 640})
    assert_no_horizontal_scroll(page)
    assert_axe_clean(page, "320 px")
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_navigation():
        section.get_by_role("button", name="Försök igen nu").click()
    status = page.get_by_role("status")
    assert f"Prenumeration {sub_id}: nytt försök köat." in status.inner_text()
