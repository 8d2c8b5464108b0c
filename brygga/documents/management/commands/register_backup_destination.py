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
        "keeps the secret key) and an SFTP server it administers, with that server's host key, and/or an "
        "e-mail address. The unit authorises brygga's public key (BRYGGA_BACKUP_SSH_KEY + .pub) for the SFTP "
        "user."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("unit_hsa_id")
        parser.add_argument("--age-recipient", required=True, help="age1… (the unit's public key)")
        parser.add_argument("--host", default="")
        parser.add_argument("--port", default="22")
        parser.add_argument("--user", default="", help="the SFTP account on the unit's server")
        parser.add_argument("--directory", default=".")
        parser.add_argument("--host-key-file", help="the server's host key (.pub or known_hosts)")
        parser.add_argument("--email", default="", help="the unit's address for copies by e-mail")
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
                Path(options["host_key_file"]).read_text() if options["host_key_file"] else "",
                options["port"],
                options["directory"],
                email=options["email"],
            )
        except DomainError as exc:
            raise CommandError("; ".join(f"{p.field}: {p.message}" for p in exc.problems)) from exc
        where = [f"{options['host']}:{options['directory']}"] if options["host"] else []
        where += [options["email"]] if options["email"] else []
        self.stdout.write(f"Reserve copies of {unit.name} go to {' and '.join(where)}.")
