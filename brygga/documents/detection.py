"""File types are detected from the content (magic bytes), never from the file name or the browser's claim.
The allow-list is MedCom's attachment value set: PDF, PNG, JPEG, GIF, TIFF and BMP."""

from __future__ import annotations

import struct

# (media type, preferred extension)
PDF = ("application/pdf", "pdf")
PNG = ("image/png", "png")
JPEG = ("image/jpeg", "jpg")
GIF = ("image/gif", "gif")
TIFF = ("image/tiff", "tif")
BMP = ("image/bmp", "bmp")

ALLOWED_MEDIA_TYPES = [t[0] for t in (PDF, PNG, JPEG, GIF, TIFF, BMP)]
HEAD_BYTES = 32

_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}


def _is_bmp(head: bytes) -> bool:
    # "BM" alone is two letters many text files start with; also require a known DIB header size.
    if len(head) < 18 or head[:2] != b"BM":
        return False
    (dib_size,) = struct.unpack_from("<I", head, 14)
    return dib_size in _BMP_HEADER_SIZES


def detect(head: bytes) -> tuple[str, str] | None:
    """The (media type, extension) of a file from its first bytes, or None when it is not an allowed type."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if _is_bmp(head):
        return BMP
    return None
