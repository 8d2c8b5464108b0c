"""RFC 3161 time-stamps over the access log's seals (ADR 0808), optional: on when
``BRYGGA_ACCESS_LOG_TSA_URL`` names a time-stamping authority (the same kind of service that time-stamps the
PAdES signatures, ``brygga.documents.signing``).

After each sealing run commits, every seal without a stamp is stamped, and the newest seal is stamped again
when its newest stamp is older than half of ``BRYGGA_ACCESS_LOG_STAMP_MAX_AGE``. The imprint is an HMAC with
the log key over the seal's sequence and digest, so only the holder of the key can have a stamp made that
``verify_access_log`` accepts, and the TSA's signature pins the time: a recomputed seal needs a new stamp,
whose time is then later than the seal claims. ``verify_access_log`` reports a stamp that does not match its
seal, a seal made with stamping on but never stamped, a stamp naming a seal that is gone, a gap longer than
the maximum age between two stamps and a newest stamp older than it — where the last seals were dropped with
their stamps (the job's next stamp then follows a gap), or a sealing job that stopped."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from brygga.access.models import AccessLogSeal, AccessLogStamp
from brygga.core.trust import extra_trust_roots

logger = logging.getLogger(__name__)

# The TSA's clock and ours may differ a little; a stamp made later than this after its seal is not accepted as
# the seal's own (a seal recomputed and stamped afresh).
CLOCK_SKEW = dt.timedelta(minutes=2)


def enabled() -> bool:
    return bool(settings.BRYGGA_ACCESS_LOG_TSA_URL)


def imprint(seal: AccessLogSeal) -> bytes:
    from brygga.access.services import _log_key

    text = f"brygga-access-log-stamp\x1f{seal.sequence}\x1f{seal.digest}"
    return hmac.new(_log_key(), text.encode(), hashlib.sha256).digest()


def _request_token(message: bytes) -> Any:
    from pyhanko.sign.timestamps import HTTPTimeStamper

    stamper = HTTPTimeStamper(settings.BRYGGA_ACCESS_LOG_TSA_URL, timeout=settings.BRYGGA_TSA_TIMEOUT)
    return asyncio.run(stamper.async_timestamp(message, "sha256"))


def _tst_info(token: Any) -> Any:
    return token["content"]["encap_content_info"]["content"].parsed


def stamp(seal: AccessLogSeal) -> AccessLogStamp:
    """Have the TSA stamp this seal's imprint and keep the token."""
    message = imprint(seal)
    token = _request_token(message)
    info = _tst_info(token)
    return AccessLogStamp.objects.create(
        sequence=seal.sequence,
        imprint=message.hex(),
        token=token.dump(),
        gen_time=info["gen_time"].native,
        tsa=settings.BRYGGA_ACCESS_LOG_TSA_URL[:200],
    )


def stamp_seals(now: dt.datetime | None = None) -> int:
    """Stamp every seal not yet stamped, and the newest seal again when its newest stamp is getting old.
    Returns how many stamps were made; a TSA that does not answer is logged and retried by the next run."""
    if not enabled():
        return 0
    now = now or timezone.now()
    stamped = set(AccessLogStamp.objects.values_list("sequence", flat=True))
    first = AccessLogStamp.objects.order_by("gen_time").first()
    seals = AccessLogSeal.objects.order_by("sequence")
    if first is not None:  # seals from before stamping was switched on stay unstamped
        seals = seals.filter(sealed_at__gte=first.gen_time - CLOCK_SKEW)
    else:
        seals = seals.filter(
            sealed_at__gte=now - dt.timedelta(minutes=settings.BRYGGA_ACCESS_LOG_STAMP_MAX_AGE)
        )
    todo = [seal for seal in seals if seal.sequence not in stamped]
    head = AccessLogSeal.objects.order_by("-sequence").first()
    newest = AccessLogStamp.objects.order_by("-gen_time").first()
    max_age = dt.timedelta(minutes=settings.BRYGGA_ACCESS_LOG_STAMP_MAX_AGE)
    if head is not None and head not in todo and (newest is None or newest.gen_time < now - max_age / 2):
        todo.append(head)
    made = 0
    for seal in todo:
        try:
            with transaction.atomic():
                stamp(seal)
            made += 1
        except Exception:  # noqa: BLE001 - the network or the TSA; the next sealing run tries again
            logger.exception("The time-stamping authority did not stamp access log seal %s", seal.sequence)
            break
    return made


def _verify_token(record: AccessLogStamp, expected: bytes) -> str | None:
    """Why the token is not a valid stamp of ``expected`` by a trusted TSA, or None."""
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    roots = extra_trust_roots()
    if not roots:
        return (
            "går inte att kontrollera: tidsstämpeltjänstens rotcertifikat saknas i BRYGGA_SIGNING_TRUST_ROOTS"
        )
    try:
        token = cms.ContentInfo.load(bytes(record.token))
        info = _tst_info(token)
        if bytes(info["message_imprint"]["hashed_message"].native) != expected:
            return "gäller inte förseglingen"
        if info["gen_time"].native != record.gen_time:
            return "har en annan tid än den sparade"
        context = ValidationContext(trust_roots=roots, allow_fetching=False)
        status = asyncio.run(validate_tst_signed_data(token["content"], context, lambda _algorithm: expected))
    except Exception as exc:  # noqa: BLE001 - any parse or validation failure is a finding, not a crash
        return f"går inte att kontrollera ({type(exc).__name__})"
    if not status.get("intact") or not status.get("valid"):
        return "har ingen giltig underskrift"
    if status.get("trust_problem_indic") is not None or status.get("validation_path") is None:
        return "är inte utfärdad av en betrodd tidsstämpeltjänst"
    return None


def check_stamps(seals: list[AccessLogSeal], now: dt.datetime | None = None, through: int = 0) -> list[str]:
    """The stamps' findings for ``verify_access_log`` (empty with stamping off and no stamps). Seals up to
    ``through`` were dropped by the retention job behind a keyed boundary (ADR 0409): their stamps name seals
    that are gone by design."""
    stamps = list(AccessLogStamp.objects.order_by("gen_time", "id"))
    if not stamps and not enabled():
        return []
    now = now or timezone.now()
    problems: list[str] = []
    by_sequence = {seal.sequence: seal for seal in seals}
    own_stamp: set[int] = set()
    for record in stamps:
        seal = by_sequence.get(record.sequence)
        if seal is None and record.sequence <= through:
            continue
        if seal is None:
            problems.append(
                f"Tidsstämpeln från {record.gen_time:%Y-%m-%d %H:%M} gäller försegling "
                f"{record.sequence}, som saknas i databasen."
            )
            continue
        wrong = _verify_token(record, imprint(seal))
        if wrong:
            problems.append(f"Tidsstämpeln för försegling {seal.sequence} {wrong}.")
        elif record.gen_time < seal.sealed_at - CLOCK_SKEW:
            problems.append(f"Försegling {seal.sequence} är tidsstämplad före den gjordes.")
        elif record.gen_time <= seal.sealed_at + dt.timedelta(
            minutes=settings.BRYGGA_ACCESS_LOG_STAMP_MAX_AGE
        ):
            own_stamp.add(seal.sequence)
    first_stamped = min((r.gen_time for r in stamps), default=None)
    for seal in seals:  # every seal made since stamping began has a stamp from when it was made
        if first_stamped is None or seal.sealed_at < first_stamped - CLOCK_SKEW:
            continue
        if seal.sequence not in own_stamp and now - seal.sealed_at > CLOCK_SKEW * 2:
            problems.append(f"Försegling {seal.sequence} saknar en tidsstämpel från när den gjordes.")
    max_age = dt.timedelta(minutes=settings.BRYGGA_ACCESS_LOG_STAMP_MAX_AGE)
    # The sealing job stamps the chain's head at least every max_age / 2: a longer gap between two stamps is
    # where stamps (with their seals) were removed, or the job stood still.
    for before, after in zip(stamps, stamps[1:], strict=False):
        if after.gen_time - before.gen_time > max_age:
            problems.append(
                f"Inga tidsstämplar mellan {timezone.localtime(before.gen_time):%Y-%m-%d %H:%M} och "
                f"{timezone.localtime(after.gen_time):%Y-%m-%d %H:%M}: förseglingar kan ha tagits bort, "
                "eller förseglingen stod still."
            )
    if enabled() and stamps and now - stamps[-1].gen_time > max_age:
        problems.append(
            f"Den senaste tidsstämpeln är från {timezone.localtime(stamps[-1].gen_time):%Y-%m-%d %H:%M}: de "
            "sista förseglingarna kan ha tagits bort, eller förseglingen har stannat."
        )
    return problems
