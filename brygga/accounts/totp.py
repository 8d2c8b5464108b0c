"""The second factor of local accounts: TOTP (RFC 6238) with pyotp, the secret sealed at rest (ADR 0502).

The secret is stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256) under ``BRYGGA_TOTP_KEY`` (by default a
key derived from the secret key), so a copy of the database alone does not give the codes. A code is accepted
once: the time step it belongs to is remembered, and a code from that step or an earlier one is refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

STEP_SECONDS = 30
DRIFT_STEPS = 1  # one step of clock drift either way


def _fernet() -> Fernet:
    configured = settings.BRYGGA_TOTP_KEY
    if configured:
        return Fernet(configured.encode())
    digest = hashlib.sha256(b"brygga-totp-secret:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The secret, or None when it cannot be opened (another key, or not sealed)."""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step whose code this is (within the allowed drift), or None."""
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
