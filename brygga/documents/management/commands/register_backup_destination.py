from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from brygga.accounts.models import User
from brygga.core.errors import DomainError
from brygga.documents.delivery import save_destination
from brygga.organisations.models import Unit


class Command(BaseCommand):
    help = (
        "Register where a unit's reserve copies go: the unit's age public key (from `age-keygen`, the unit "
        "keeps the secret key) and an SFTP server it administers, with that server's host key. The unit "
        "authorises brygga's public key (BRYGGA_BACKUP_SSH_KEY + .pub) for the SFTP user."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("unit_hsa_id")
        parser.add_argument("--age-recipient", required=True, help="age1… (the unit's public key)")
        parser.add_argument("--host", required=True)
        parser.add_argument("--port", default="22")
        parser.add_argument("--user", required=True, help="the SFTP account on the unit's server")
        parser.add_argument("--directory", default=".")
        parser.add_argument(
            "--host-key-file", required=True, help="the server's host key (.pub or known_hosts)"
        )
        parser.add_argument("--by", required=True, help="the brygga user name recorded as registering it")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = Unit.objects.filter(hsa_id=options["unit_hsa_id"]).first()
        user = User.objects.filter(username=options["by"]).first()
        if unit is None or user is None:
            raise CommandError("Unknown unit HSA-id or user name.")
        try:
            save_destination(
                unit,
                user,
                options["age_recipient"],
                options["host"],
                options["user"],
                Path(options["host_key_file"]).read_text(),
                options["port"],
                options["directory"],
            )
        except DomainError as exc:
            raise CommandError("; ".join(f"{p.field}: {p.message}" for p in exc.problems)) from exc
        self.stdout.write(f"Reserve copies of {unit.name} go to {options['host']}:{options['directory']}.")
