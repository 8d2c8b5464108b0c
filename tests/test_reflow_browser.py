"""Reflow at 320 CSS px on every page of the UI (WCAG 1.4.10, issue 18 item 6): each main page, visited as a
persona allowed to see it, at 320×640 is no wider than the viewport (tables turn into stacked rows), its header
and menu take at most a quarter of the screen, and axe-core (WCAG 2.0/2.1 A and AA) finds nothing there.

The pages are enumerated from the URL conf: every named route is either visited here (``PAGES``) or listed in
``NOT_PAGES`` with the reason (a POST-only action, a file, an API) — `test_every_route_is_a_page_or_says_why`
fails when a new route is neither. Screenshots: reflow-*-320."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from brygga.demo import personas
from tests.e2e.harness import ROOT, E2EServer, assert_axe_clean, login, screenshot

pytest_plugins = ["tests.e2e.harness"]
pytestmark = pytest.mark.browser

WARD = "Sahlgrenska, medicinavdelning"
WIDTH, HEIGHT = 320, 640

# persona (None: not signed in) → the pages it visits; {name} is filled from the scenario's ids.
PAGES: dict[str | None, list[tuple[str, str]]] = {
    None: [
        ("accounts:login", "/konto/logga-in/"),
        ("governance:notices", "/forvaltning/driftinformation/"),
        ("governance:roadmap", "/forvaltning/fardplan/"),
    ],
    "sjukskoterska": [
        ("web:home", "/"),
        ("web:choose_unit", "/enhet/"),
        ("cases:inbox", "/arenden/"),
        ("cases:new", "/arenden/nytt/"),
        ("cases:detail", "/arenden/{case}/"),
        ("cases:patient_summary", "/arenden/{case}/sammanfattning/"),
        ("web:person_lookup", "/personer/sok/"),
        ("web:person_detail", "/personer/{person}/"),
        ("web:person_new", "/personer/ny/"),
        ("receiving:preferences", "/aviseringar/"),
        ("documents:person", "/dokument/person/{person}/"),
        ("documents:document", "/dokument/{document}/"),
        ("documents:verify", "/dokument/kontrollera-underskrift/"),
        ("documents:backups", "/dokument/reservrutin/"),
        ("deviations:list", "/avvikelser/"),
        ("deviations:new", "/avvikelser/ny/"),
        ("deviations:detail", "/avvikelser/{deviation}/"),
        ("web:municipalities", "/organisation/kommuner/"),
        ("web:units", "/organisation/enheter/"),
        ("sip:index", "/sip/"),
        ("sip:new", "/sip/ny/"),
        ("accounts:totp_setup", "/konto/tvafaktor/aktivera/"),
    ],
    "kontaktpunkt": [
        ("cases:inbox", "/arenden/"),
        ("cases:detail", "/arenden/{case}/"),
        ("payment:settlement_list", "/betalningsansvar/"),
        ("payment:rules", "/betalningsansvar/regler/"),
        ("payment:case", "/betalningsansvar/arende/{case}/"),
        ("sip:new_care_request", "/sip/vardbegaran/ny/"),
    ],
    "fastvardkontakt": [
        ("sip:detail", "/sip/{sip}/"),
        ("sip:consents", "/sip/samtycke/{person}/"),
        ("sip:care_request", "/sip/vardbegaran/{care_request}/"),
    ],
    "statistik": [
        ("statistics:overview", "/statistik/"),
        ("statistics:area", "/statistik/kommun/1480/"),
        ("deviations:overview", "/avvikelser/oversikt/"),
        ("payment:settlement_detail", "/betalningsansvar/{run}/"),
    ],
    "loggranskare": [
        ("access:log_search", "/logg/"),
        ("access:reviews", "/logg/granskningar/"),
        ("access:log_extract", "/logg/utdrag/"),
        ("documents:extract_requests", "/dokument/utdrag/"),
    ],
    "gits": [
        ("governance:cases", "/forvaltning/"),
        ("governance:case_new", "/forvaltning/arenden/nytt/"),
        ("governance:case", "/forvaltning/arenden/{gcase}/"),
        ("governance:forums", "/forvaltning/forum/"),
        ("governance:forum_new", "/forvaltning/forum/nytt/"),
        ("governance:forum", "/forvaltning/forum/{forum}/"),
        ("governance:forum_edit", "/forvaltning/forum/{forum}/andra/"),
        ("governance:objects", "/forvaltning/objekt/"),
        ("governance:plan", "/forvaltning/planer/{plan}/"),
        ("governance:decisions", "/forvaltning/beslutslogg/"),
        ("governance:report", "/forvaltning/rapport/{year}/{quarter}/"),
        ("economy:budgets", "/ekonomi/"),
        ("economy:budget", "/ekonomi/budget/{budget}/"),
        ("economy:invoices", "/ekonomi/budget/{budget}/fakturor/1/"),
        ("economy:line", "/ekonomi/rad/{line}/"),
        ("economy:price_lists", "/ekonomi/prislistor/"),
        ("economy:price_list", "/ekonomi/prislistor/{price_list}/"),
        ("economy:changes", "/ekonomi/andringar/"),
        ("economy:keys", "/ekonomi/nycklar/"),
        ("economy:seed_check", "/ekonomi/avstamning/"),
    ],
    "lokaladmin": [
        ("documents:backup_destination", "/dokument/reservrutin/mottagare"),
    ],
}

# Routes that are not pages of the UI, and why.
NOT_PAGES: dict[str, str] = {
    "healthz": "health check",
    "readyz": "health check",
    "set_language": "POST only",
    "accounts:totp": "the second step of a sign-in in progress (tested by the sign-in tests)",
    "accounts:logout": "POST only",
    "access:record_review": "POST only (redirects on GET)",
    "cases:action": "POST only (the case page's forms)",
    "sip:action": "POST only",
    "sip:sign_plan": "POST only",
    "sip:pdf": "a PDF",
    "sip:care_request_action": "POST only",
    "payment:run_month": "POST only",
    "payment:dispute": "POST only",
    "payment:close": "POST only",
    "payment:resolve": "POST only",
    "payment:export": "a file (CSV, JSON)",
    "payment:export_request": "POST only",
    "payment:export_download": "a file",
    "payment:export_status": "a requested export's state, made by a POST first (tested by the payment tests)",
    "payment:record_amount": "POST only",
    "payment:change_rule": "POST only",
    "statistics:export_csv": "a CSV file",
    "statistics:open_csv": "a CSV file",
    "statistics:open_dcat": "JSON-LD",
    "governance:case_move": "POST only",
    "governance:case_assign": "POST only",
    "governance:case_endorse": "POST only",
    "governance:case_consult": "POST only",
    "governance:case_respond": "POST only",
    "governance:case_close_consultation": "POST only",
    "governance:case_decide": "POST only",
    "governance:meeting": "the demo has no forum meeting; the template is the forum page's meeting list",
    "governance:notices_feed": "an Atom feed",
    "governance:unsubscribe": "a one-time link from an e-mail (tested by the governance tests)",
    "governance:report_current": "redirects to the current quarter's report (visited)",
    "governance:report_pdf": "a PDF",
    "economy:create_invoices": "POST only",
    "economy:close_period": "POST only",
    "economy:add_line": "POST only",
    "economy:adopt": "POST only",
    "economy:population_year": "POST only",
    "economy:line_delete": "POST only",
    "deviations:step": "POST only",
    "documents:upload": "POST only",
    "documents:create": "POST only",
    "documents:paper_record": "POST only",
    "documents:download": "a file",
    "documents:revise": "POST only",
    "documents:sign": "POST only",
    "documents:version_pdf": "a PDF",
    "documents:extract_request": "the extract's PDF and its state, loggranskare (tested by the documents tests)",
    "documents:extract_pdf": "a PDF",
    "documents:backup_now": "POST only",
    "documents:signservice_response": "the signing service's POST back to brygga (tested by the signing tests)",
    "documents:backup_download": "an encrypted file",
    "web:person_refresh": "POST only",
    "web:person_reveal": "POST only",
    "web:unit_search": "JSON for the unit picker (the combobox; tests/test_receiving.py)",
}
NOT_PAGE_PREFIXES = ("api", "fhir", "saml2", "signin", "admin", "djangosaml2")


def _route_names(resolver: URLResolver, namespace: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _route_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_route_is_a_page_or_says_why() -> None:
    visited = {name for pages in PAGES.values() for name, _ in pages}
    names = {n for n in _route_names(get_resolver()) if not n.split(":")[0].startswith(NOT_PAGE_PREFIXES)}
    unaccounted = sorted(names - visited - set(NOT_PAGES) - {"saml2_acs"})
    assert unaccounted == [], f"routes neither visited at 320 px nor listed in NOT_PAGES: {unaccounted}"
    assert not (visited & set(NOT_PAGES)), visited & set(NOT_PAGES)


_IDS = """
import json, datetime as dt
from tests import receiving_scenario as s
from brygga.demo import personas
from brygga.cases.models import Case
from brygga.sip.models import CareRequest
from brygga.deviations.models import Deviation
from brygga.governance.models import GovernanceCase, Forum, ManagementPlan
from brygga.economy.models import Budget, BudgetLine, PriceList
from brygga.payment.models import SettlementRun
from django.utils import timezone
case_id = s.admit(personas.test_number('19500606', 992), 'Reflow', 'Smalsson',
                  consents={'Göteborg kontaktpunkt': ('nursing', 'sip')})
sip_id = s.summon_sip(case_id)
case = Case.objects.get(pk=case_id)
deviation = Deviation.objects.filter(reporting_unit__name=s.WARD).first() or Deviation.objects.first()
today = timezone.localdate()
print(json.dumps(dict(
    case=case_id, person=case.person_id, sip=sip_id, care_request=CareRequest.objects.first().pk,
    deviation=deviation.number, gcase=GovernanceCase.objects.first().number, forum=Forum.objects.first().code,
    plan=ManagementPlan.objects.first().pk, budget=Budget.objects.first().pk, line=BudgetLine.objects.first().pk,
    price_list=PriceList.objects.first().pk, run=SettlementRun.objects.first().pk,
    year=today.year, quarter=(today.month - 1) // 3 + 1)))
"""


@pytest.fixture(scope="module")
def ids(e2e_server: E2EServer) -> dict[str, Any]:
    out = e2e_server.shell(_IDS)
    return dict(json.loads(out.strip().splitlines()[-1]))


def _measure(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
  const doc = document.documentElement;
  const header = document.querySelector('.site-header');
  const nav = document.querySelector('.site-nav');
  const wide = [];
  if (doc.scrollWidth > doc.clientWidth) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      let clipped = false;  // inside a box that scrolls or clips on its own (the menu row): not the page
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
      }
      if (!clipped && r.right > doc.clientWidth + 1 && r.width > 0 && !el.closest('.visually-hidden')) {
        wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
          (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
          ' ' + Math.round(r.right));
        if (wide.length >= 6) break;
      }
    }
  }
  return {scroll: doc.scrollWidth, view: doc.clientWidth, wide: wide,
          chrome: (header ? header.offsetHeight : 0) + (nav ? nav.offsetHeight : 0)};
}"""
        )
    )


def _open(browser: Any, e2e_url: str, username: str | None) -> Any:
    context = browser.new_context(
        base_url=e2e_url, locale="sv-SE", viewport={"width": WIDTH, "height": HEIGHT}
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    if username:
        login(page, username)
        if page.url.endswith("/enhet/"):
            page.get_by_label(re.compile(re.escape(WARD))).check()
            with page.expect_navigation():
                page.get_by_role("button", name="Fortsätt").click()
    return page


def _make_document(page: Any, ids: dict[str, Any]) -> None:
    """The ward nurse writes a document on the case (the demo has none), as in the documents tests."""
    page.goto(f"/dokument/person/{ids['person']}/?owner_type=case&owner_id={ids['case']}")
    page.get_by_label("Rubrik").fill("Omvårdnadsepikris")
    page.get_by_label("Innehåll").fill("Hemgång med hemsjukvård morgon och kväll.")
    with page.expect_navigation():
        page.get_by_role("button", name="Skapa dokument").click()
    found = re.search(r"/dokument/(\d+)/$", page.url)
    assert found, page.url
    ids["document"] = int(found[1])


@pytest.mark.parametrize("username", list(PAGES), ids=lambda u: u or "anonymous")
def test_every_page_reflows_at_320_px(
    browser: Any, e2e_url: str, ids: dict[str, Any], username: str | None
) -> None:
    page = _open(browser, e2e_url, username)
    if username == "sjukskoterska":
        _make_document(page, ids)
    problems = []
    try:
        for name, pattern in PAGES[username]:
            url = pattern.format(**ids)
            response = page.goto(url)
            assert response is not None and response.status == 200, (
                f"{username} {url}: {response and response.status}"
            )
            m = _measure(page)
            MEASURED[f"{username or 'anonymous'} {url}"] = {"width": m["scroll"], "chrome": m["chrome"]}
            if m["scroll"] > WIDTH:
                problems.append(f"{url} ({name}) is {m['scroll']} px wide: {m['wide']}")
            # The forms collapsed in <details> too: opened, the page must still fit.
            if page.evaluate(
                "() => { const d = [...document.querySelectorAll('details:not([open])')];"
                " d.forEach(x => x.open = true); return d.length; }"
            ):
                opened = _measure(page)
                if opened["scroll"] > WIDTH:
                    problems.append(
                        f"{url} ({name}) with its forms open is {opened['scroll']} px wide: {opened['wide']}"
                    )
            if m["chrome"] > HEIGHT / 4:
                problems.append(f"{url} ({name}): header and menu take {m['chrome']} px of {HEIGHT}")
            try:
                assert_axe_clean(page, f"{WIDTH} px")
            except AssertionError as exc:
                problems.append(str(exc)[:1500])
            slug = re.sub(r"[^a-z0-9]+", "-", name.split(":")[-1].lower()).strip("-")
            if name in SCREENSHOT:
                screenshot(page, f"reflow-{name.split(':')[0]}-{slug}-{username}-320", full_page=False)
    finally:
        page.context.close()
        out = ROOT / "var" / "reflow-measure.json"  # the figures in docs/receiving.md
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(MEASURED, indent=1, ensure_ascii=False))
    assert problems == [], "\n".join(problems)


MEASURED: dict[str, dict[str, int]] = {}


# A few pages shot at 320 px for docs/screenshots (BRYGGA_SCREENSHOT_DIR=docs/screenshots).
SCREENSHOT = {
    "cases:detail",
    "web:person_detail",
    "statistics:overview",
    "payment:settlement_detail",
    "economy:budget",
    "governance:case",
    "deviations:detail",
}


def test_personas_cover_the_demo() -> None:
    known = {p[0] for p in personas.PERSONAS}
    assert {u for u in PAGES if u} <= known
