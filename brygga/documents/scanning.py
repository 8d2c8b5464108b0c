"""Virus scanning through ClamAV's daemon (clamd) with the INSTREAM command over TCP.

Protocol: send ``zINSTREAM\\0``, then the file as chunks each prefixed with its length as a 4-byte big-endian
integer, then a zero-length chunk. clamd answers ``stream: OK\\0`` or ``stream: <signature> FOUND\\0`` (or an
``… ERROR`` line, e.g. when the file exceeds its StreamMaxLength). When a scanner is configured but cannot be
reached or answers anything else, the upload is refused: nothing is accepted unscanned by accident."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

CHUNK = 64 * 1024


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str = ""


class ScannerUnavailable(Exception):
    """The scanner is configured but did not give a usable answer."""


def scanner_configured() -> bool:
    return bool(settings.BRYGGA_CLAMAV_HOST)


def scan_stream(chunks: Iterable[bytes], host: str | None = None, port: int | None = None) -> ScanResult:
    host = host or settings.BRYGGA_CLAMAV_HOST
    port = port or settings.BRYGGA_CLAMAV_PORT
    try:
        with socket.create_connection((host, port), timeout=settings.BRYGGA_CLAMAV_TIMEOUT) as sock:
            sock.sendall(b"zINSTREAM\0")
            for chunk in chunks:
                for start in range(0, len(chunk), CHUNK):
                    part = chunk[start : start + CHUNK]
                    sock.sendall(struct.pack(">I", len(part)) + part)
            sock.sendall(struct.pack(">I", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                data = sock.recv(4096)
                if not data:
                    break
                reply += data
    except OSError as exc:
        raise ScannerUnavailable(str(exc)) from exc
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith(" OK") or answer == "OK":
        return ScanResult(clean=True)
    if answer.endswith(" FOUND"):
        signature = answer.removeprefix("stream:").removesuffix("FOUND").strip()
        return ScanResult(clean=False, signature=signature)
    raise ScannerUnavailable(answer or "empty reply")
