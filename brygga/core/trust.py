"""Trust roots configured for the installation (``BRYGGA_SIGNING_TRUST_ROOTS``): the time-stamping
authority's and a signing service's CA. In core because both the documents (PAdES) and the access log (its
seals' RFC 3161 stamps) validate against them."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.conf import settings


def extra_trust_roots() -> list[asn1_x509.Certificate]:
    """Roots from ``BRYGGA_SIGNING_TRUST_ROOTS`` (PEM files, each may hold several certificates)."""
    roots = []
    for path in settings.BRYGGA_SIGNING_TRUST_ROOTS:
        data = Path(path).read_bytes()
        for _type, _headers, der in pem.unarmor(data, multiple=True):
            roots.append(asn1_x509.Certificate.load(der))
    return roots
