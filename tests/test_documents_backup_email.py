"""Reserve copies by e-mail (issue 16, ADR 0406): the copy encrypted to the unit's age key goes as an
attachment to the unit's address through Django's e-mail backend, sent by the delivery job, logged and
retried like SFTP. Tested with Django's locmem backend and with a real SMTP server (aiosmtpd on 127.0.0.1)
that first refuses and then accepts. The unit administrator registers the destination in a web form
(DOK-RES-2 for bad input, nothing stored)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyrage
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from brygga.access.models import Involvement
from brygga.access.services import involve
from brygga.accounts.permissions import Role
from brygga.documents.backup import produce_all_snapshots, produce_snapshot
from brygga.documents.delivery import deliver_pending, delivery_status, register_destination
from brygga.documents.models import BackupDelivery, BackupDestination
from tests.factories import WARD, actor, make_person, unit

pytestmark = pytest.mark.django_db

UNIT_ADDRESS = "reserv@avdelning.example.se"
# A well-formed host key of no server that answers here (for an SFTP destination that fails).
NO_SUCH_SERVER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"


@pytest.fixture(autouse=True)
def files(isolated_documents: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.BRYGGA_BACKUP_EMAIL_FROM = "brygga@region.example.se"
    return isolated_documents


def _person_at_ward() -> None:
    person = make_person(given_name="Vera", family_name="Avdelningsdotter")
    involve(person, unit(WARD), Involvement.Kind.INPATIENT_CASE, "case:1")


def _admin():  # type: ignore[no-untyped-def]
    return actor(Role.LOCAL_ADMIN, WARD, username="enhetsadmin")


def test_a_copy_goes_by_e_mail_encrypted_to_the_units_key_and_says_nothing_about_the_persons(  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,
) -> None:
    key, other = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    register_destination(_admin(), str(key.to_public()), email=UNIT_ADDRESS)
    _person_at_ward()
    with django_capture_on_commit_callbacks(execute=True):
        produce_all_snapshots()
    [sent] = mail.outbox
    assert sent.to == [UNIT_ADDRESS] and sent.from_email == "brygga@region.example.se"
    assert "Avdelningsdotter" not in f"{sent.subject} {sent.body}"
    [(name, payload, mimetype)] = sent.attachments  # type: ignore[misc]
    delivery = BackupDelivery.objects.get()
    assert (
        name == delivery.remote_name and name.endswith(".pdf.age") and mimetype == "application/octet-stream"
    )
    assert delivery.channel == "email" and delivery.status == BackupDelivery.Status.DELIVERED
    with pytest.raises(pyrage.DecryptError):
        pyrage.decrypt(payload, [other])
    assert pyrage.decrypt(payload, [key]).startswith(b"%PDF")
    assert not delivery_status(unit(WARD)).stale


def test_with_both_ways_out_each_is_its_own_delivery_and_a_failing_one_does_not_hold_back_the_other() -> None:
    key = pyrage.x25519.Identity.generate()
    register_destination(
        _admin(),
        str(key.to_public()),
        sftp_host="127.0.0.1",
        sftp_port=1,  # nothing listens there
        sftp_user="brygga",
        sftp_host_key=NO_SUCH_SERVER_KEY,
        email=UNIT_ADDRESS,
    )
    _person_at_ward()
    produce_snapshot(unit(WARD))
    assert deliver_pending() == (1, 1)
    by_channel = {d.channel: d for d in BackupDelivery.objects.all()}
    assert by_channel["email"].status == BackupDelivery.Status.DELIVERED
    assert by_channel["sftp"].status == BackupDelivery.Status.PENDING and by_channel["sftp"].last_error
    assert len(mail.outbox) == 1


# --- a real SMTP server ------------------------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; ``refusing`` answers 550 to every recipient."""

    def __init__(self) -> None:
        self.refusing = False
        self.messages: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]  # noqa: N802
        if self.refusing:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def test_a_refusing_smtp_server_is_logged_and_retried_then_the_copy_arrives(  # type: ignore[no-untyped-def]
    settings, smtp: tuple[Mailbox, int], caplog
) -> None:
    box, port = smtp
    box.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    key = pyrage.x25519.Identity.generate()
    register_destination(_admin(), str(key.to_public()), email=UNIT_ADDRESS)
    _person_at_ward()
    snapshot = produce_snapshot(unit(WARD))
    now = timezone.now()
    box.refusing = True
    assert deliver_pending(now) == (0, 1)
    delivery = BackupDelivery.objects.get(snapshot=snapshot)
    assert delivery.status == BackupDelivery.Status.PENDING and delivery.attempts == 1
    assert "SMTPRecipientsRefused" in delivery.last_error and "not delivered by email" in caplog.text
    assert delivery.next_attempt_at == now + dt.timedelta(minutes=5) and box.messages == []
    box.refusing = False
    assert deliver_pending(now + dt.timedelta(minutes=6)) == (1, 0)
    [raw] = box.messages
    message: Any = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == UNIT_ADDRESS
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename().endswith(".pdf.age")
    assert pyrage.decrypt(attachment.get_content(), [key]).startswith(b"%PDF")


# --- the unit administrator's form -------------------------------------------------------------------------


def test_the_unit_admin_registers_the_destination_in_a_form_and_a_refusal_keeps_what_was_typed() -> None:
    client = Client()
    client.force_login(_admin().user)
    page = client.get("/dokument/reservrutin/mottagare")
    assert page.status_code == 200 and 'name="age_recipient"' in page.content.decode()
    refused = client.post(
        "/dokument/reservrutin/mottagare",
        {"age_recipient": "age1nope", "email": "inte-en-adress", "sftp_port": "22", "sftp_directory": "."},
    )
    body = refused.content.decode()
    assert refused.status_code == 400 and not BackupDestination.objects.exists()
    assert "Ange enhetens publika age-nyckel" in body and "Ange en giltig e-postadress" in body
    assert 'value="inte-en-adress"' in body and 'value="age1nope"' in body
    assert 'aria-invalid="true"' in body
    key = str(pyrage.x25519.Identity.generate().to_public())
    saved = client.post(
        "/dokument/reservrutin/mottagare",
        {"age_recipient": key, "email": UNIT_ADDRESS, "sftp_port": "22", "sftp_directory": "."},
    )
    assert saved.status_code == 302
    destination = BackupDestination.objects.get(unit=unit(WARD))
    assert destination.email == UNIT_ADDRESS and destination.channels == ["email"]
    assert destination.age_recipient == key and destination.updated_by.username == "enhetsadmin"
    again = client.get("/dokument/reservrutin/mottagare").content.decode()
    assert f'value="{UNIT_ADDRESS}"' in again


def test_dok_res_2_neither_a_server_nor_an_address_is_refused_and_others_may_not_register() -> None:
    client = Client()
    client.force_login(_admin().user)
    key = str(pyrage.x25519.Identity.generate().to_public())
    refused = client.post("/dokument/reservrutin/mottagare", {"age_recipient": key, "sftp_port": "22"})
    assert (
        refused.status_code == 400 and "Ange en SFTP-server eller en e-postadress" in refused.content.decode()
    )
    nurse = Client()
    nurse.force_login(actor(Role.WARD_NURSE, WARD, username="ssk").user)
    answer = nurse.post("/dokument/reservrutin/mottagare", {"age_recipient": key, "email": UNIT_ADDRESS})
    assert answer.status_code == 403
    assert not BackupDestination.objects.exists()
