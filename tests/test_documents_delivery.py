"""Reserve copies out of brygga (issue 16, part 3) against a real OpenSSH server: each unit's snapshot is
encrypted to that unit's own age key and delivered by SFTP to the unit's server; a refused or unreachable
destination is logged and retried; the age of the latest copy is shown and a stale one warned about."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.core.errors import DomainError, PermissionDenied
from brygga.documents.backup import produce_all_snapshots, produce_snapshot
from brygga.documents.delivery import deliver_pending, delivery_status, register_destination, stale_units
from brygga.documents.models import BackupDelivery, BackupDestination
from tests.factories import OTHER_WARD, WARD, actor, make_person, unit
from tests.services.sshd import Sshd

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture
def brygga_key(settings, sshd: Sshd, isolated_documents: Path) -> Sshd:  # type: ignore[no-untyped-def]
    settings.BRYGGA_BACKUP_SSH_KEY = str(sshd.client_key)
    settings.BRYGGA_BACKUP_SFTP_TIMEOUT = 5
    for old in sshd.inbox.iterdir():
        old.unlink()
    return sshd


def _unit_key() -> pyrage.x25519.Identity:
    return pyrage.x25519.Identity.generate()


def _register(
    unit_name: str, sshd: Sshd, key: pyrage.x25519.Identity, **changes: object
) -> BackupDestination:
    admin = actor(Role.LOCAL_ADMIN, unit_name)
    fields: dict[str, object] = dict(
        age_recipient=str(key.to_public()),
        sftp_host="127.0.0.1",
        sftp_port=sshd.port,
        sftp_user=sshd.user,
        sftp_directory=str(sshd.inbox),
        sftp_host_key=sshd.host_key_line,
    )
    fields.update(changes)
    return register_destination(admin, **fields)  # type: ignore[arg-type]


def _plain_text(pdf: bytes) -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf))
    assert not reader.encrypted  # the age layer is the protection: the unit's key alone opens it
    return b"".join(
        s.get_object().data
        for page in reader.root["/Pages"]["/Kids"]
        for s in (lambda c: c if isinstance(c, list) else [c])(page.get_object()["/Contents"])
    )


def test_a_units_copy_is_delivered_by_sftp_and_opens_with_that_units_key_only(  # type: ignore[no-untyped-def]
    brygga_key: Sshd, django_capture_on_commit_callbacks
) -> None:
    ours, theirs = _unit_key(), _unit_key()
    _register(WARD, brygga_key, ours)
    person = make_person(given_name="Vera", family_name="Avdelningsdotter")
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    with django_capture_on_commit_callbacks(execute=True):
        produce_all_snapshots()
    delivery = BackupDelivery.objects.get(unit=unit(WARD))
    assert delivery.status == BackupDelivery.Status.DELIVERED and delivery.attempts == 1
    files = list(brygga_key.inbox.iterdir())
    assert [f.name for f in files] == [delivery.remote_name] and delivery.remote_name.endswith(".pdf.age")
    payload = files[0].read_bytes()
    assert b"Avdelningsdotter" not in payload and b"%PDF" not in payload
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(payload, [theirs])  # another unit's key does not open it
    pdf = pyrage.decrypt(payload, [ours])
    assert pdf.startswith(b"%PDF") and b"Avdelningsdotter" in _plain_text(pdf)
    status = delivery_status(unit(WARD))
    assert status.last_delivered_at == delivery.delivered_at and not status.stale
    assert status.age is not None and status.age < dt.timedelta(minutes=5)


def test_a_wrong_host_key_is_refused_logged_and_retried_with_back_off(brygga_key: Sshd, caplog) -> None:  # type: ignore[no-untyped-def]
    impostor = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    _register(WARD, brygga_key, _unit_key(), sftp_host_key=impostor)
    involve(make_person(), unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    snapshot = produce_snapshot(unit(WARD))
    now = timezone.now()
    assert deliver_pending(now) == (0, 1)
    delivery = BackupDelivery.objects.get(snapshot=snapshot)
    assert delivery.status == BackupDelivery.Status.PENDING and delivery.attempts == 1
    assert "BadHostKey" in delivery.last_error and "not delivered" in caplog.text
    assert delivery.next_attempt_at == now + dt.timedelta(minutes=5)
    assert list(brygga_key.inbox.iterdir()) == []
    assert deliver_pending(now) == (0, 0)  # not due yet
    assert deliver_pending(now + dt.timedelta(minutes=6)) == (0, 1)
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.next_attempt_at > now + dt.timedelta(minutes=15)
    # The unit corrects its host key: the next retry delivers the same copy.
    _register(WARD, brygga_key, _unit_key(), sftp_host_key=brygga_key.host_key_line)
    assert deliver_pending(now + dt.timedelta(hours=1)) == (1, 0)
    assert len(list(brygga_key.inbox.iterdir())) == 1


def test_an_unreachable_server_is_retried_and_the_unit_is_warned_when_its_copy_is_stale(  # type: ignore[no-untyped-def]
    settings, brygga_key: Sshd
) -> None:
    _register(WARD, brygga_key, _unit_key(), sftp_port=1)  # nothing listens there
    involve(make_person(), unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    produce_snapshot(unit(WARD))
    assert deliver_pending() == (0, 1)
    later = timezone.now() + dt.timedelta(hours=settings.BRYGGA_BACKUP_STALE_HOURS + 1)
    stale = stale_units(later)
    assert [s.unit for s in stale] == [unit(WARD)] and stale[0].pending is not None
    with pytest.raises(CommandError):
        call_command("backup_delivery_status")


def test_a_newer_delivered_copy_supersedes_older_pending_ones(brygga_key: Sshd) -> None:
    key = _unit_key()
    _register(WARD, brygga_key, key, sftp_port=1)
    involve(make_person(), unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    first = produce_snapshot(unit(WARD))
    deliver_pending()
    _register(WARD, brygga_key, key)
    second = produce_snapshot(unit(WARD))
    assert deliver_pending(timezone.now() + dt.timedelta(minutes=1)) == (1, 0)
    assert BackupDelivery.objects.get(snapshot=first).status == BackupDelivery.Status.SUPERSEDED
    assert BackupDelivery.objects.get(snapshot=second).status == BackupDelivery.Status.DELIVERED


def test_registering_a_destination_checks_every_field_and_needs_a_unit_admin(brygga_key: Sshd) -> None:
    with pytest.raises(DomainError) as refused:
        _register(
            WARD, brygga_key, _unit_key(), age_recipient="age1nope", sftp_host_key="nyckel", sftp_port="x"
        )
    assert {p.field for p in refused.value.problems} == {"age_recipient", "sftp_host_key", "sftp_port"}
    assert not BackupDestination.objects.exists()
    nurse = actor(Role.WARD_NURSE, OTHER_WARD)
    with pytest.raises(PermissionDenied):
        register_destination(nurse, str(_unit_key().to_public()), "h", "u", brygga_key.host_key_line)
    assert not BackupDestination.objects.exists()


def test_without_a_destination_nothing_is_queued() -> None:
    involve(make_person(), unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    produce_snapshot(unit(WARD))
    assert not BackupDelivery.objects.exists()
    call_command("backup_delivery_status")  # no destinations: nothing stale


def test_the_reserve_page_shows_the_age_of_the_latest_copy_and_warns_when_it_is_stale(  # type: ignore[no-untyped-def]
    brygga_key: Sshd, django_capture_on_commit_callbacks
) -> None:
    from django.test import Client

    _register(WARD, brygga_key, _unit_key(), sftp_port=1)
    involve(make_person(), unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")
    produce_snapshot(unit(WARD))
    deliver_pending()
    nurse = actor(Role.WARD_NURSE, WARD, username="reserv")
    client = Client()
    client.force_login(nurse.user)
    page = client.get("/dokument/reservrutin/").content.decode()
    assert 'role="alert"' in page and "1 försök misslyckades" in page
    _register(WARD, brygga_key, _unit_key())
    deliver_pending(timezone.now() + dt.timedelta(hours=1))
    page = client.get("/dokument/reservrutin/").content.decode()
    assert "Senaste kopian levererades" in page and 'role="alert"' not in page


def test_operations_register_a_destination_with_the_command(brygga_key: Sshd) -> None:
    admin = actor(Role.LOCAL_ADMIN, WARD, username="drift")
    call_command(
        "register_backup_destination",
        unit(WARD).hsa_id,
        "--age-recipient", str(_unit_key().to_public()),
        "--host", "127.0.0.1",
        "--port", str(brygga_key.port),
        "--user", brygga_key.user,
        "--directory", str(brygga_key.inbox),
        "--host-key-file", str(brygga_key.folder / "host_key.pub"),
        "--by", admin.user.username,
    )  # fmt: skip
    assert BackupDestination.objects.get().sftp_port == brygga_key.port
    with pytest.raises(CommandError):
        call_command(
            "register_backup_destination", unit(WARD).hsa_id, "--age-recipient", "x", "--host", "h",
            "--user", "u", "--host-key-file", str(brygga_key.folder / "host_key.pub"), "--by", "drift",
        )  # fmt: skip
