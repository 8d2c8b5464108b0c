"""Virus scanning through ClamAV's daemon (clamd) with the INSTREAM command, over a unix socket or TCP.

Protocol: send ``zINSTREAM\\0``, then the file as chunks each prefixed with its length as a 4-byte big-endian
integer, then a zero-length chunk. clamd answers ``stream: OK\\0`` or ``stream: <signature> FOUND\\0`` (or an
``… ERROR`` line, e.g. when the file exceeds its StreamMaxLength). When a scanner is configured but cannot be
reached, does not answer within ``BRYGGA_CLAMAV_TIMEOUT`` or answers anything else, the upload is refused:
nothing is accepted unscanned by accident. Outside debug (``BRYGGA_REQUIRE_VIRUS_SCAN``) an attachment is
refused unless a scanner said clean, so a missing configuration fails closed too (ADR 0402)."""

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
    return bool(settings.BRYGGA_CLAMAV_SOCKET or settings.BRYGGA_CLAMAV_HOST)


def scan_required() -> bool:
    return bool(settings.BRYGGA_REQUIRE_VIRUS_SCAN)


def _connect(timeout: float, host: str | None, port: int | None, path: str | None) -> socket.socket:
    path = path if path is not None else (None if host else settings.BRYGGA_CLAMAV_SOCKET)
    if path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        return sock
    host = host or settings.BRYGGA_CLAMAV_HOST
    port = port or settings.BRYGGA_CLAMAV_PORT
    return socket.create_connection((host, port), timeout=timeout)


def scan_stream(
    chunks: Iterable[bytes], host: str | None = None, port: int | None = None, path: str | None = None
) -> ScanResult:
    """Scan the chunks with clamd. Raises ScannerUnavailable for anything but a clean or FOUND answer,
    including a time-out (the timeout applies to the connection and to every send and receive)."""
    try:
        with _connect(settings.BRYGGA_CLAMAV_TIMEOUT, host, port, path) as sock:
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
    except OSError as exc:  # includes socket.timeout
        raise ScannerUnavailable(str(exc) or exc.__class__.__name__) from exc
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith(" OK") or answer == "OK":
        return ScanResult(clean=True)
    if answer.endswith(" FOUND"):
        signature = answer.removeprefix("stream:").removesuffix("FOUND").strip()
        return ScanResult(clean=False, signature=signature)
    raise ScannerUnavailable(answer or "empty reply")
