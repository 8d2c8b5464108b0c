"""Paging of growing lists, one place so that every list pages the same way.

- The JSON API: ``page`` (from 1) and ``page_size`` in the query, the totals and the neighbours in the
  answer's headers (``X-Total-Count``, ``X-Page-Count``, ``Link`` with ``rel=next`` and ``rel=prev``), as
  GitHub's and many FHIR-less REST APIs do.
- The pages: :func:`html_page` gives one page of a list and the links to its neighbours, which keep the
  request's filters; ``core/_pages.html`` shows them. No list page cuts its list at a fixed length without
  saying so (issue 17 item 4: a list that grows with a municipality is paged).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

# Rows per page of a list page. A hundred rows render in a few milliseconds and still fit one screen's scroll.
LIST_PAGE_SIZE = 100


def page_query(
    request: HttpRequest, number: int, key: str = "page", keep: Collection[str] | None = None
) -> str:
    """The request's query string with ``key`` set to ``number``: every other parameter kept, or only those
    in ``keep``."""
    query = request.GET.copy()
    if keep is not None:
        for name in list(query):
            if name not in keep:
                del query[name]
    query[key] = str(number)
    return query.urlencode()


@dataclass(frozen=True)
class HtmlPage:
    """One page of a list page's rows, with the links to the previous and next pages ("" where none)."""

    page: Page
    previous: str
    next: str

    def __iter__(self) -> Iterator[Any]:
        return iter(self.page.object_list)

    def __len__(self) -> int:
        return len(self.page.object_list)

    @property
    def count(self) -> int:
        """The number of rows in the whole list."""
        return self.page.paginator.count


def html_page(
    request: HttpRequest,
    rows: QuerySet[Any] | Sequence[Any],
    per_page: int | None = None,
    key: str = "sida",
    keep: Collection[str] | None = None,
) -> HtmlPage:
    """The page of ``rows`` that the query's ``key`` asks for; not a number gives the first page, beyond the
    last gives the last (``Paginator.get_page``). ``rows`` must be ordered to the last column, or rows could
    repeat or go missing between pages; a query set is counted and sliced in the database. The links keep
    the query's other parameters (the filters), or only those in ``keep`` where a parameter is a one-off
    action that must not follow the user from page to page."""
    page = Paginator(rows, max(1, per_page or LIST_PAGE_SIZE)).get_page(request.GET.get(key))
    previous = (
        f"?{page_query(request, page.previous_page_number(), key, keep)}" if page.has_previous() else ""
    )
    following = f"?{page_query(request, page.next_page_number(), key, keep)}" if page.has_next() else ""
    return HtmlPage(page, previous, following)


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
