"""Create the local certificate authority used by the local signer (demo and test installations)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from brygga.documents.signing import LocalCertificateAuthority


class Command(BaseCommand):
    help = "Create the local signing CA under BRYGGA_SIGNING_CA_DIR (not for production signatures)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Replace an existing CA")

    def handle(self, *args: object, **options: object) -> None:
        ca = LocalCertificateAuthority(settings.BRYGGA_SIGNING_CA_DIR)
        if ca.exists() and not options["force"]:
            self.stdout.write(f"Det finns redan en lokal CA i {ca.directory}.")
            return
        cert = ca.create()
        fingerprint = cert.fingerprint(hashes.SHA256())
        self.stdout.write(f"Lokal CA skapad i {ca.directory} (SHA-256 {fingerprint.hex()}).")
