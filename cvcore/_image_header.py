"""An image file's width and height from its header, without decoding it.

OpenCV has no header-only call, and decoding allocates the whole image, so a
memory cap (``cvcore.batch``'s ``max_pixels``) has to read the dimensions
itself. :func:`header_size` knows the containers OpenCV reads most often:
PNG (IHDR), JPEG (the first start-of-frame segment), BMP, TIFF (the first
IFD, which is the page OpenCV decodes), PNM (P1-P6) and WebP (VP8, VP8L,
VP8X); anything else, or a header too damaged to read, gives None and the
caller checks the decoded image instead.
"""
from __future__ import annotations

import struct

__all__ = ["header_size"]

# JPEG markers that start a frame and carry its size: SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# JPEG markers without a length field
_JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01, 0xD8}
# Segments a JPEG may carry before its frame (EXIF, ICC profiles...); more is not a JPEG we can trust
_JPEG_MAX_SEGMENTS = 512


def header_size(path):
    """``(width, height)`` read from the header of the image file at ``path``, or None when unknown.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from cvcore import io
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> io.imwrite(path, np.zeros((3, 5), np.uint8))
    >>> header_size(path)
    (5, 3)
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            for sniff, parse in _PARSERS:
                if sniff(head):
                    size = parse(fh, head)
                    return size if size is not None and size[0] > 0 and size[1] > 0 else None
    except (OSError, struct.error, ValueError):
        return None
    return None


def _png(fh, head):
    if head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def _jpeg(fh, head):
    fh.seek(2)
    for _ in range(_JPEG_MAX_SEGMENTS):
        byte = fh.read(1)
        if byte != b"\xff":
            return None
        marker = 0xFF
        while marker == 0xFF:  # fill bytes
            marker = fh.read(1)[0]
        if marker in _JPEG_STANDALONE:
            continue
        length = struct.unpack(">H", fh.read(2))[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">xHH", fh.read(5))
            return width, height
        if marker == 0xDA or length < 2:  # scan data before any frame header: not a JPEG we know
            return None
        fh.seek(length - 2, 1)
    return None


def _bmp(fh, head):
    dib = struct.unpack("<I", head[14:18])[0]
    if dib == 12:  # BITMAPCOREHEADER: 16-bit sizes
        return struct.unpack("<HH", head[18:22])
    width, height = struct.unpack("<ii", head[18:26])
    return width, abs(height)  # a negative height means rows top-down


def _tiff(fh, head):
    order = "<" if head[:2] == b"II" else ">"
    fh.seek(struct.unpack(order + "I", head[4:8])[0])
    count = struct.unpack(order + "H", fh.read(2))[0]
    entries = fh.read(12 * count)
    size = {}
    for i in range(0, len(entries) - 11, 12):
        tag, kind = struct.unpack(order + "HH", entries[i:i + 4])
        if tag in (256, 257) and kind in (3, 4):  # ImageWidth, ImageLength as SHORT or LONG (left-justified)
            fmt = order + ("H" if kind == 3 else "I")
            size[tag] = struct.unpack(fmt, entries[i + 8:i + 8 + struct.calcsize(fmt)])[0]
    return (size[256], size[257]) if len(size) == 2 else None


def _pnm(fh, head):
    fh.seek(2)
    data = fh.read(1024)
    tokens = []
    for line in data.split(b"\n"):
        tokens.extend(line.split(b"#", 1)[0].split())
        if len(tokens) >= 2:
            return int(tokens[0]), int(tokens[1])
    return None


def _webp(fh, head):
    chunk = head[12:16]
    if chunk == b"VP8 ":  # lossy: a key frame's 14-bit sizes after its start code
        if head[23:26] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # lossless: 14-bit (size - 1) fields packed after the signature byte
        bits = struct.unpack("<I", head[21:25])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit (size - 1) fields
        return (int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1)
    return None


_PARSERS = (
    (lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"), _png),
    (lambda h: h.startswith(b"\xff\xd8"), _jpeg),
    (lambda h: h.startswith(b"BM"), _bmp),
    (lambda h: h[:4] in (b"II*\x00", b"MM\x00*"), _tiff),
    (lambda h: len(h) > 2 and h[0:1] == b"P" and h[1:2] in b"123456" and h[2:3].isspace(), _pnm),
    (lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP", _webp),
)
