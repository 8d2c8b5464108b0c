"""Swedish by default (issue 13 item 5): the UI language is the one the user chose with the switch in the page
footer (Django's ``set_language``, remembered in the language cookie for a year), otherwise Swedish —
whatever the browser's Accept-Language says. A nurse on an English-configured computer meets the same Swedish
pages and messages as her colleagues."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChosenLanguageMiddleware:
    """In place of Django's LocaleMiddleware: the cookie or Swedish, never Accept-Language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # override, not activate: the thread's language is restored after the response, so work done outside a
        # request afterwards (the worker's tasks, a test's set-up) is not done in the last visitor's language.
        with translation.override(language):
            response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
