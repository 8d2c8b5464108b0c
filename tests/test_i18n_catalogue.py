"""The English catalogue is complete and safe to use (ADR 0006): no untranslated or fuzzy entries, every
translation keeps its msgid's placeholders and surrounding whitespace, and pages render in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from brygga.accounts.context import Actor
from brygga.accounts.permissions import Role
from brygga.governance.seeds import load_governance_reference
from tests.factories import WARD, actor

PO = Path(__file__).resolve().parent.parent / "brygga" / "locale" / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdf]|%[sdif]|%%|\{[a-z_0-9]*\}|<[^>]+>|&[a-z#0-9]+;")
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(line: str) -> str:
    body = line.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: ESCAPES[m.group(1)], body)


def parse_po(text: str) -> list[dict[str, object]]:
    """Entries as dicts: the flags and every msgctxt/msgid/msgid_plural/msgstr[n] field, joined."""
    entries: list[dict[str, object]] = []
    for block in text.split("\n\n"):
        entry: dict[str, object] = {"flags": set()}
        current = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                entry[current] = str(entry[current]) + _unquote(line)
            else:
                current, _, rest = line.partition(" ")
                entry[current] = _unquote(rest)
        if "msgid" in entry and entry["msgid"]:
            entries.append(entry)
    return entries


ENTRIES = parse_po(PO.read_text(encoding="utf-8"))


def _pairs() -> list[tuple[str, str, str]]:
    """(field, source, translation) for every msgstr: msgstr[0] translates msgid, the others msgid_plural."""
    pairs = []
    for entry in ENTRIES:
        for key, value in entry.items():
            if key.startswith("msgstr"):
                source = (
                    entry["msgid"]
                    if key in ("msgstr", "msgstr[0]")
                    else entry.get("msgid_plural", entry["msgid"])
                )
                pairs.append((key, str(source), str(value)))
    return pairs


def test_the_catalogue_is_parsed() -> None:
    assert len(ENTRIES) > 2000


def test_no_untranslated_or_fuzzy_entries() -> None:
    untranslated = [source for _, source, value in _pairs() if not value]
    fuzzy = [entry["msgid"] for entry in ENTRIES if "fuzzy" in entry["flags"]]  # type: ignore[operator]
    assert untranslated == []
    assert fuzzy == []


def test_every_translation_keeps_the_placeholders() -> None:
    wrong = [
        (source, value)
        for _, source, value in _pairs()
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(value))
    ]
    assert wrong == []


def test_every_translation_keeps_leading_and_trailing_whitespace_and_newlines() -> None:
    def shape(s: str) -> tuple[str, str, int]:
        return s[: len(s) - len(s.lstrip())], s[len(s.rstrip()) :], s.count("\n")

    assert [(s, v) for _, s, v in _pairs() if shape(s) != shape(v)] == []


def test_rule_codes_are_not_translated() -> None:
    code = re.compile(r"\bR-[A-Z0-9-]*[A-Z0-9]\b|\bHSLF-FS \d{4}:\d+")
    assert [(s, v) for _, s, v in _pairs() if sorted(code.findall(s)) != sorted(code.findall(v))] == []


def _as_actor(client: Client, a: Actor) -> Client:
    client.force_login(a.user)
    session = client.session
    session["brygga_active_membership"] = a.membership.pk  # type: ignore[union-attr]
    session.save()
    client.cookies["django_language"] = "en"  # the footer switch's choice (issue 13 item 5)
    return client


@pytest.mark.django_db
def test_the_inbox_renders_in_english() -> None:
    nurse = _as_actor(Client(), actor(Role.WARD_NURSE, WARD))
    page = nurse.get("/arenden/").content.decode()
    assert 'lang="en"' in page
    assert "New case" in page and "Nytt ärende" not in page


@pytest.mark.django_db
def test_governance_pages_render_in_english() -> None:
    load_governance_reference()
    gits = _as_actor(Client(), actor(Role.GITS_COORDINATOR, "GITS kansli"))
    forums = gits.get("/forvaltning/forum/").content.decode()
    assert "Decision forums and working forums" in forums
    log = gits.get("/forvaltning/beslutslogg/").content.decode()
    assert "All decisions, latest first" in log
