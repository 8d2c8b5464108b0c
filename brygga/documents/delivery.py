"""Reserve copies delivered out of brygga (ADR 0405): when brygga is down, which is when the reserve routine
is needed, each unit still has its latest copy on a server it administers, readable with its own key.

For a unit with a ``BackupDestination``, every snapshot is also rendered without a passphrase and encrypted
with age (X25519) to the unit's public key; only the holder of the unit's secret key can read it (``age -d``
from Debian's ``age`` package, or any age implementation). The payload is sent by SFTP (paramiko) to the
unit's server, checking the server's registered host key, under a temporary name renamed when complete, and/or
as an e-mail attachment to the unit's address through Django's e-mail backend (each its own delivery row).

Deliveries are rows: every attempt is recorded with its error; a failed one is retried with back-off by
``deliver_pending`` (run after each snapshot run and by the worker task), until it is delivered or a newer
copy for the unit is delivered. The age of each unit's latest delivered copy is shown on the Reservrutin page
and checked by ``manage.py backup_delivery_status`` (non-zero exit when a unit's copy is older than
``BRYGGA_BACKUP_STALE_HOURS``), so no failure is silent."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import logging
import posixpath
import secrets
from dataclasses import dataclass

import paramiko
import pyrage
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from brygga.accounts.context import Actor
from brygga.accounts.models import User
from brygga.accounts.permissions import Perm
from brygga.core.errors import DomainError, Problem
from brygga.documents.models import BackupDelivery, BackupDestination, BackupSnapshot
from brygga.organisations.models import Unit

log = logging.getLogger(__name__)

RETRY_BASE = dt.timedelta(minutes=5)
RETRY_MAX = dt.timedelta(hours=1)


# --- the unit's destination ---------------------------------------------------------------------------------


def parse_host_key(line: str) -> paramiko.PKey:
    """A host key as in known_hosts or a .pub file: ``ssh-ed25519 AAAA…`` (a leading host name is allowed)."""
    parts = (line or "").split()
    for i, part in enumerate(parts[:-1]):
        if part.startswith(("ssh-", "ecdsa-")):
            try:
                return paramiko.PKey.from_type_string(part, base64.b64decode(parts[i + 1]))
            except (binascii.Error, ValueError, paramiko.SSHException) as exc:
                raise ValueError(str(exc)) from exc
    raise ValueError("no key type")


def register_destination(
    actor: Actor,
    age_recipient: str,
    sftp_host: str = "",
    sftp_user: str = "",
    sftp_host_key: str = "",
    sftp_port: int | str = 22,
    sftp_directory: str = ".",
    email: str = "",
) -> BackupDestination:
    """Set where the actor's unit gets its reserve copies. Needs ``unit.admin``; every field is checked."""
    actor.require(Perm.UNIT_ADMIN)
    if actor.unit is None:
        raise DomainError.single("unit", "DOK-RES-2", _("Välj en enhet först."))
    return save_destination(
        actor.unit,
        actor.user,
        age_recipient,
        sftp_host,
        sftp_user,
        sftp_host_key,
        sftp_port,
        sftp_directory,
        email=email,
    )


def save_destination(  # noqa: PLR0913 — one argument per field the unit gives
    unit: Unit,
    user: User,
    age_recipient: str,
    sftp_host: str = "",
    sftp_user: str = "",
    sftp_host_key: str = "",
    sftp_port: int | str = 22,
    sftp_directory: str = ".",
    email: str = "",
) -> BackupDestination:
    """Check and store a unit's destination (for ``register_destination`` and operations' command): the
    unit's age key, and an SFTP server (host, user and host key), an e-mail address, or both."""
    problems = []
    age_recipient = (age_recipient or "").strip()
    sftp_host, sftp_user = (sftp_host or "").strip(), (sftp_user or "").strip()
    sftp_host_key, email = (sftp_host_key or "").strip(), (email or "").strip()
    try:
        pyrage.x25519.Recipient.from_str(age_recipient)
    except Exception:  # noqa: BLE001 — pyrage raises its own error types for any malformed key
        problems.append(
            Problem("age_recipient", "DOK-RES-2", _("Ange enhetens publika age-nyckel (börjar med age1)."))
        )
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(Problem("email", "DOK-RES-2", _("Ange en giltig e-postadress.")))
        if len(email) > 254:
            problems.append(Problem("email", "DOK-RES-2", _("E-postadressen får vara högst 254 tecken.")))
    use_sftp = bool(sftp_host or sftp_user or sftp_host_key) or not email
    port = 22
    if use_sftp:
        if not sftp_host:
            message = (
                _("Ange SFTP-serverns namn.")
                if email or sftp_user or sftp_host_key
                else _("Ange en SFTP-server eller en e-postadress (eller båda).")
            )
            problems.append(Problem("sftp_host", "DOK-RES-2", message))
        elif len(sftp_host) > 200:
            problems.append(Problem("sftp_host", "DOK-RES-2", _("Servernamnet får vara högst 200 tecken.")))
        if not sftp_user:
            problems.append(Problem("sftp_user", "DOK-RES-2", _("Ange användarnamnet på SFTP-servern.")))
        elif len(sftp_user) > 100:
            problems.append(Problem("sftp_user", "DOK-RES-2", _("Användarnamnet får vara högst 100 tecken.")))
        try:
            port = int(sftp_port)
            if not 1 <= port <= 65535:
                raise ValueError
        except (TypeError, ValueError):
            port = 22
            problems.append(
                Problem("sftp_port", "DOK-RES-2", _("Porten ska vara ett tal mellan 1 och 65535."))
            )
        try:
            parse_host_key(sftp_host_key)
        except ValueError:
            problems.append(
                Problem(
                    "sftp_host_key",
                    "DOK-RES-2",
                    _("Ange serverns värdnyckel som i known_hosts, till exempel ”ssh-ed25519 AAAA…”."),
                )
            )
    directory = (sftp_directory or ".").strip() or "."
    if len(directory) > 300:
        problems.append(Problem("sftp_directory", "DOK-RES-2", _("Katalogen får vara högst 300 tecken.")))
    if problems:
        raise DomainError(problems)
    destination, _created = BackupDestination.objects.update_or_create(
        unit=unit,
        defaults={
            "age_recipient": age_recipient,
            "sftp_host": sftp_host if use_sftp else "",
            "sftp_port": port,
            "sftp_user": sftp_user if use_sftp else "",
            "sftp_directory": directory if use_sftp else ".",
            "sftp_host_key": sftp_host_key if use_sftp else "",
            "email": email,
            "updated_by": user,
            "updated_at": timezone.now(),
        },
    )
    return destination


# --- queueing and sending -----------------------------------------------------------------------------------


def queue_delivery(snapshot: BackupSnapshot, plain_pdf: bytes) -> BackupDelivery | None:
    """Encrypt the snapshot to the unit's key and queue it, in the caller's transaction."""
    destination = BackupDestination.objects.filter(unit=snapshot.unit).first()
    if destination is None:
        return None
    recipient = pyrage.x25519.Recipient.from_str(destination.age_recipient)
    payload = pyrage.encrypt(plain_pdf, [recipient])
    now = timezone.now()
    first = None
    # One delivery per way out, each with its own copy of the payload (a delivered one is deleted).
    for channel in destination.channels:
        delivery = BackupDelivery(
            key=secrets.token_hex(16),
            snapshot=snapshot,
            unit=snapshot.unit,
            channel=channel,
            remote_name=f"reservutdrag-{snapshot.unit.hsa_id}-{timezone.localtime(now):%Y%m%dT%H%M%S}.pdf.age",
            next_attempt_at=now,
            created_at=now,
        )
        delivery.payload.save(delivery.key, ContentFile(payload), save=False)
        delivery.save()
        first = first or delivery
    return first


class _Refuse(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client, hostname, key):  # type: ignore[no-untyped-def]
        raise paramiko.SSHException(f"host key of {hostname} is not the registered one")


def _client_key() -> paramiko.PKey:
    path = settings.BRYGGA_BACKUP_SSH_KEY
    if not path:
        raise paramiko.SSHException("BRYGGA_BACKUP_SSH_KEY is not set")
    return paramiko.PKey.from_path(str(path))


def _send(destination: BackupDestination, name: str, data: bytes) -> None:
    client = paramiko.SSHClient()
    key = parse_host_key(destination.sftp_host_key)
    host = (
        destination.sftp_host
        if destination.sftp_port == 22
        else f"[{destination.sftp_host}]:{destination.sftp_port}"
    )
    client.get_host_keys().add(host, key.get_name(), key)
    client.set_missing_host_key_policy(_Refuse())
    timeout = settings.BRYGGA_BACKUP_SFTP_TIMEOUT
    try:
        client.connect(
            destination.sftp_host,
            port=destination.sftp_port,
            username=destination.sftp_user,
            pkey=_client_key(),
            look_for_keys=False,
            allow_agent=False,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
        )
        sftp = client.open_sftp()
        sftp.get_channel().settimeout(timeout)  # type: ignore[union-attr]
        final = posixpath.join(destination.sftp_directory, name)
        partial = final + ".part"
        sftp.putfo(io.BytesIO(data), partial, file_size=len(data), confirm=True)
        sftp.posix_rename(partial, final)
        sftp.close()
    finally:
        client.close()


def _send_email(destination: BackupDestination, name: str, data: bytes) -> None:
    """The encrypted copy as an attachment, through Django's e-mail backend (SMTP in production). The mail
    says nothing about the persons: only the unit and the time; the attachment opens with the unit's key."""
    unit = destination.unit
    message = EmailMessage(
        subject=_("Reservutdrag från brygga för %(unit)s") % {"unit": unit.name},
        body=_(
            "Bifogat är enhetens senaste reservutdrag från brygga, krypterat med enhetens nyckel (age). "
            "Spara filen där enheten når den när brygga inte går att nå, och öppna den med "
            "enhetens hemliga nyckel: age -d -i enhet.key %(name)s > reservutdrag.pdf"
        )
        % {"name": name},
        from_email=settings.BRYGGA_BACKUP_EMAIL_FROM or settings.DEFAULT_FROM_EMAIL,
        to=[destination.email],
    )
    message.attach(name, data, "application/octet-stream")
    message.send(fail_silently=False)


def _backoff(attempts: int) -> dt.timedelta:
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_MAX)


def attempt(delivery: BackupDelivery, now: dt.datetime | None = None) -> bool:
    """One try; the outcome is recorded either way. True when delivered."""
    now = now or timezone.now()
    destination = BackupDestination.objects.filter(unit=delivery.unit).first()
    error = ""
    if destination is None:
        error = "no destination registered"
    elif delivery.channel not in destination.channels:
        error = f"the unit no longer has a {delivery.channel} destination"
    else:
        try:
            with delivery.payload.open("rb") as handle:
                data = handle.read()
            if delivery.channel == BackupDelivery.Channel.EMAIL:
                _send_email(destination, delivery.remote_name, data)
            else:
                _send(destination, delivery.remote_name, data)
        except (OSError, EOFError, ValueError, paramiko.SSHException) as exc:  # SMTPException is an OSError
            error = f"{exc.__class__.__name__}: {exc}"[:500]
    delivery.attempts += 1
    delivery.last_attempt_at = now
    if error:
        delivery.last_error = error
        delivery.next_attempt_at = now + _backoff(delivery.attempts)
        delivery.save(update_fields=["attempts", "last_attempt_at", "last_error", "next_attempt_at"])
        log.warning(
            "Reserve copy %s for unit %s not delivered by %s (attempt %s): %s",
            delivery.pk,
            delivery.unit.hsa_id,
            delivery.channel,
            delivery.attempts,
            error,
        )
        return False
    with transaction.atomic():
        delivery.status = BackupDelivery.Status.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = ""
        delivery.save(update_fields=["attempts", "last_attempt_at", "last_error", "status", "delivered_at"])
        older = BackupDelivery.objects.filter(
            unit=delivery.unit,
            channel=delivery.channel,
            status=BackupDelivery.Status.PENDING,
            created_at__lte=delivery.created_at,
        ).exclude(pk=delivery.pk)
        stale = list(older)
        older.update(status=BackupDelivery.Status.SUPERSEDED)
        # The copy is at the unit now; brygga keeps no second encrypted copy of it.
        for done in [delivery, *stale]:
            storage, name = done.payload.storage, done.payload.name
            if name:
                transaction.on_commit(lambda s=storage, n=name: s.delete(n))  # type: ignore[misc]
    log.info(
        "Reserve copy %s delivered to unit %s by %s", delivery.pk, delivery.unit.hsa_id, delivery.channel
    )
    return True


def deliver_pending(now: dt.datetime | None = None) -> tuple[int, int]:
    """Try every pending delivery that is due, newest first per unit. Returns (delivered, failed)."""
    now = now or timezone.now()
    delivered = failed = 0
    due = BackupDelivery.objects.filter(status=BackupDelivery.Status.PENDING, next_attempt_at__lte=now)
    for delivery in list(due.select_related("unit").order_by("-created_at")):
        delivery.refresh_from_db()
        if delivery.status != BackupDelivery.Status.PENDING:
            continue  # superseded by a newer one delivered in this run
        if attempt(delivery, now):
            delivered += 1
        else:
            failed += 1
    return delivered, failed


# --- the age of each unit's copy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStatus:
    unit: Unit
    destination: BackupDestination | None
    last_delivered_at: dt.datetime | None
    pending: BackupDelivery | None
    stale: bool

    @property
    def age(self) -> dt.timedelta | None:
        return timezone.now() - self.last_delivered_at if self.last_delivered_at else None


def delivery_status(unit: Unit, now: dt.datetime | None = None) -> DeliveryStatus:
    now = now or timezone.now()
    destination = BackupDestination.objects.filter(unit=unit).first()
    last = (
        BackupDelivery.objects.filter(unit=unit, status=BackupDelivery.Status.DELIVERED)
        .order_by("-delivered_at")
        .values_list("delivered_at", flat=True)
        .first()
    )
    pending = (
        BackupDelivery.objects.filter(unit=unit, status=BackupDelivery.Status.PENDING)
        .order_by("-created_at")
        .first()
    )
    limit = dt.timedelta(hours=settings.BRYGGA_BACKUP_STALE_HOURS)
    stale = destination is not None and (last is None or now - last > limit)
    return DeliveryStatus(unit, destination, last, pending, stale)


def stale_units(now: dt.datetime | None = None) -> list[DeliveryStatus]:
    units = Unit.objects.filter(pk__in=BackupDestination.objects.values("unit_id"))
    return [s for s in (delivery_status(u, now) for u in units) if s.stale]
