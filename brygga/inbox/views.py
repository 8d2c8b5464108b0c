"""The unit inbox page (discharge cases, SIPs and care requests in one list); its URL keeps the name
``cases:inbox`` at the start of /arenden/ (brygga.urls)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from brygga.accounts.context import Actor, AuthedRequest
from brygga.accounts.decorators import actor_required
from brygga.accounts.permissions import Perm
from brygga.cases import selectors as case_selectors
from brygga.inbox import presenters, selectors


@require_GET
@actor_required(Perm.CASE_READ)
def inbox(request: AuthedRequest) -> HttpResponse:
    """The active unit's inbox: discharge cases, SIPs and care requests in one list, paged in the database."""
    actor: Actor = request.actor
    status = request.GET.get("status", "open")
    status = status if status in case_selectors.FILTERS else "open"
    kind = request.GET.get("kind", "")
    kind = kind if kind in selectors.KINDS else ""
    q = request.GET.get("q", "")
    page, now = selectors.inbox_entries_page(
        actor, status=status, q=q, kind=kind, page=request.GET.get("page")
    )
    query = {k: v for k, v in (("status", status), ("kind", kind), ("q", q.strip())) if v}
    signature = selectors.list_signature(page)
    refresh = getattr(settings, "BRYGGA_INBOX_REFRESH_SECONDS", 30)
    polled = request.GET.get("del") == "lista"
    if polled and request.GET.get("sig") == signature:
        # The open inbox asking again (htmx): nothing changed → 204, htmx swaps nothing, nobody is disturbed;
        # no row was built, so no person was shown and nothing is logged.
        return HttpResponse(status=204)
    page.object_list = selectors.inbox_rows(actor, list(page.object_list), now)
    if polled:
        unread = sum(1 for row in page.object_list if row.needs_ack)
        return render(
            request,
            "cases/_inbox_list.html",
            {
                "page": page,
                "rows": page.object_list,
                "rows_html": presenters.inbox_rows_html(request, page.object_list),
                "page_query": urlencode(query),
                "signature": signature,
                "refresh_seconds": refresh,
                "announce": _("Inkorgen är uppdaterad: %(n)s att kvittera på den här sidan.") % {"n": unread},
            },
        )
    return render(
        request,
        "cases/inbox.html",
        {
            "signature": signature,
            "refresh_seconds": refresh,
            "page": page,
            "rows": page.object_list,
            "rows_html": presenters.inbox_rows_html(request, page.object_list),
            "page_query": urlencode(query),
            "summaries": selectors.inbox_summaries(
                actor, getattr(page, "other_counts", None), getattr(request, "memberships", None)
            ),
            "status": status,
            "kind": kind,
            "kinds": [("", _("Alla slag"))] + [(k, str(label)) for k, label in selectors.KINDS.items()],
            "q": q,
            "filters": [
                ("open", _("Pågående")),
                ("urgent", _("Försenade och snart förfallna")),
                ("unacknowledged", _("Okvitterade")),
                ("discharged", _("Utskrivna")),
                ("closed", _("Avslutade")),
                ("all", _("Alla")),
            ],
            "now": timezone.now(),
        },
    )
