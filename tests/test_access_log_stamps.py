"""RFC 3161 time-stamps over the access log's seals (R-LOG-2, issue 20 item 4, ADR 0808), against a real
time-stamping authority (certomancer's, on 127.0.0.1, as for the PAdES signatures). Each seal is stamped;
verify_access_log checks every token with the TSA's root; a seal recomputed with the key gets no stamp from
its own time; dropping the last seal (and its stamps and the entries after it) leaves the newest stamp too
old, which is reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from brygga.access import timestamps
from brygga.access.models import AccessLogEntry, AccessLogSeal, AccessLogStamp
from brygga.access.services import seal_access_log, verify_access_log
from tests.services.pki import LocalPki
from tests.test_access_log_tamper import _as_owner, _reads

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPki]:
    services = LocalPki(tmp_path_factory.mktemp("pki"))
    yield services
    services.stop()


@pytest.fixture
def tsa(settings, pki: LocalPki) -> LocalPki:  # type: ignore[no-untyped-def]
    settings.BRYGGA_ACCESS_LOG_TSA_URL = pki.tsa_url
    settings.BRYGGA_TSA_TIMEOUT = 30
    settings.BRYGGA_SIGNING_TRUST_ROOTS = [str(pki.root_pem)]
    pki.answering = True
    return pki


def _sealed_and_stamped(start: dt.datetime, minutes: int = 0) -> AccessLogSeal:
    """Two reads, sealed a minute later and stamped, as the cron job does (sealing, then stamping at commit)."""
    _reads(2, start)
    at = start + dt.timedelta(minutes=minutes + 2)
    with time_machine.travel(at, tick=False):
        seal = seal_access_log(now=at)
        assert seal is not None
        assert timestamps.stamp_seals(now=at) >= 1
    return seal


def test_each_seal_is_time_stamped_and_the_tokens_verify(tsa: LocalPki) -> None:
    start = timezone.now() - dt.timedelta(minutes=30)
    first = _sealed_and_stamped(start)
    second = _sealed_and_stamped(start + dt.timedelta(minutes=5))
    stamps = list(AccessLogStamp.objects.order_by("id"))
    assert [s.sequence for s in stamps] == [first.sequence, second.sequence]
    assert all(
        abs(s.gen_time - seal.sealed_at) < dt.timedelta(seconds=5)
        for s, seal in zip(stamps, [first, second], strict=True)
    )
    with time_machine.travel(second.sealed_at + dt.timedelta(minutes=1), tick=False):
        assert verify_access_log() == []


def test_a_seal_recomputed_with_the_key_has_no_stamp_from_its_own_time(tsa: LocalPki) -> None:
    """Someone with the key and database-owner rights rewrites a seal and has it stamped again: the TSA
    stamps it with today's time, not the seal's, and the old stamp no longer matches."""
    from brygga.access.services import seal_digest

    start = timezone.now() - dt.timedelta(hours=3)
    seal = _sealed_and_stamped(start)
    seal.sealed_at = seal.sealed_at - dt.timedelta(seconds=1)  # recomputed: the same entries, new numbers
    entry_macs = list(
        AccessLogEntry.objects.filter(id__gte=seal.first_id, id__lte=seal.last_id)
        .order_by("id")
        .values_list("mac", flat=True)
    )
    digest = seal_digest(seal, entry_macs)
    _as_owner(
        f"UPDATE access_accesslogseal SET digest = '{digest}', sealed_at = '{seal.sealed_at.isoformat()}' "
        f"WHERE id = {seal.pk}"
    )
    timestamps.stamp_seals()  # a fresh stamp of the rewritten head, hours after the seal's time
    problems = verify_access_log()
    assert f"Tidsstämpeln för försegling {seal.sequence} gäller inte förseglingen." in problems
    assert f"Försegling {seal.sequence} saknar en tidsstämpel från när den gjordes." in problems


def test_dropping_the_last_seal_and_its_stamps_leaves_a_gap_in_the_stamps(tsa: LocalPki, settings) -> None:  # type: ignore[no-untyped-def]
    """The sealing job (every minute) stamps the chain's head at least every max_age / 2. Dropping the last
    seal with its stamps and the entries after it leaves the stamps with a gap longer than max_age."""
    start = timezone.now() - dt.timedelta(hours=2)
    _sealed_and_stamped(start)  # stamped at +2 min
    last = _sealed_and_stamped(start + dt.timedelta(minutes=4))  # stamped at +8 min
    job = last.sealed_at + dt.timedelta(minutes=settings.BRYGGA_ACCESS_LOG_STAMP_MAX_AGE - 2)
    with time_machine.travel(job, tick=False):
        intact = verify_access_log()
    assert intact == []
    _as_owner(
        f"DELETE FROM access_accesslogentry WHERE id >= {last.first_id}",
        f"DELETE FROM access_accesslogstamp WHERE sequence = {last.sequence}",
        f"DELETE FROM access_accesslogseal WHERE id = {last.pk}",
    )
    with time_machine.travel(job, tick=False):
        assert timestamps.stamp_seals() == 1  # the job stamps the (now shorter) chain's head
        problems = verify_access_log()
    assert any(p.startswith("Inga tidsstämplar mellan") for p in problems), problems


def test_a_stamp_whose_seal_was_dropped_is_reported(tsa: LocalPki) -> None:
    start = timezone.now() - dt.timedelta(minutes=40)
    _sealed_and_stamped(start)
    last = _sealed_and_stamped(start + dt.timedelta(minutes=10))
    _as_owner(
        f"DELETE FROM access_accesslogentry WHERE id >= {last.first_id}",
        f"DELETE FROM access_accesslogseal WHERE id = {last.pk}",
    )
    with time_machine.travel(last.sealed_at + dt.timedelta(minutes=1), tick=False):
        problems = verify_access_log()
    assert any(f"gäller försegling {last.sequence}, som saknas i databasen" in p for p in problems), problems


def test_a_tsa_that_does_not_answer_leaves_the_seal_for_the_next_run(tsa: LocalPki) -> None:
    start = timezone.now() - dt.timedelta(minutes=20)
    _reads(2, start)
    at = start + dt.timedelta(minutes=2)
    tsa.answering = False
    with time_machine.travel(at, tick=False):
        seal = seal_access_log(now=at)
        assert timestamps.stamp_seals(now=at) == 0
    tsa.answering = True
    with time_machine.travel(at + dt.timedelta(seconds=30), tick=False):
        assert timestamps.stamp_seals() == 1
    assert AccessLogStamp.objects.get().sequence == seal.sequence  # type: ignore[union-attr]


def test_stamping_is_off_without_a_tsa(tmp_path: Path) -> None:
    _reads(2, timezone.now() - dt.timedelta(minutes=10))
    assert seal_access_log() is not None
    assert timestamps.stamp_seals() == 0 and not AccessLogStamp.objects.exists()
    assert verify_access_log() == []
