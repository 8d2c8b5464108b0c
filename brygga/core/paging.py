"""Paging of the JSON API's growing lists: ``page`` (from 1) and ``page_size`` in the query, the totals and
the neighbours in the answer's headers (``X-Total-Count``, ``X-Page-Count``, ``Link`` with ``rel=next`` and
``rel=prev``), as GitHub's and many FHIR-less REST APIs do. One place, so every list pages the same way."""

from __future__ import annotations

from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse


def page_query(request: HttpRequest, number: int) -> str:
    """The request's query string with ``page`` set to ``number`` (every other parameter kept)."""
    query = request.GET.copy()
    query["page"] = str(number)
    return query.urlencode()


def set_paging_headers(request: HttpRequest, response: HttpResponse, page: Page) -> None:
    """The totals and the links to the previous and next pages of ``page``."""
    response["X-Total-Count"] = str(page.paginator.count)
    response["X-Page-Count"] = str(page.paginator.num_pages)
    links = []
    for rel, number in (("prev", page.number - 1), ("next", page.number + 1)):
        if 1 <= number <= page.paginator.num_pages:
            links.append(f'<{request.path}?{page_query(request, number)}>; rel="{rel}"')
    if links:
        response["Link"] = ", ".join(links)
