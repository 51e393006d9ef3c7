"""Product pictures drawn in code (PNG, no network, no image library): the demo shop's
catalog needs images that every channel can show, and Messenger shows no SVG."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

Shape = Callable[[float, float], bool]  # x, y in 0..1 -> inside the garment?
SIZE = 320


def _shirt(x: float, y: float) -> bool:
    body = 0.28 <= x <= 0.72 and 0.22 <= y <= 0.88
    sleeves = 0.12 <= x <= 0.88 and 0.22 <= y <= 0.42 and abs(x - 0.5) - 0.22 <= (0.42 - y) * 1.3
    neck = (x - 0.5) ** 2 + (y - 0.2) ** 2 < 0.008
    return (body or sleeves) and not neck


def _dress(x: float, y: float) -> bool:
    if not 0.15 <= y <= 0.9:
        return False
    half = 0.1 + 0.05 * (y - 0.15) / 0.3 if y < 0.45 else 0.15 + 0.27 * (y - 0.45) / 0.45
    straps = 0.08 <= y <= 0.2 and (0.38 <= x <= 0.42 or 0.58 <= x <= 0.62)
    return abs(x - 0.5) <= half or straps


def _trousers(x: float, y: float) -> bool:
    waist = 0.28 <= x <= 0.72 and 0.12 <= y <= 0.3
    spread = (y - 0.3) * 0.12
    left = 0.28 - spread <= x <= 0.48 and 0.3 <= y <= 0.9
    right = 0.52 <= x <= 0.72 + spread and 0.3 <= y <= 0.9
    return waist or left or right


def _bag(x: float, y: float) -> bool:
    body = 0.22 <= x <= 0.78 and 0.38 <= y <= 0.85
    ring = 0.015 <= (x - 0.5) ** 2 + (y - 0.38) ** 2 <= 0.03 and y < 0.38
    return body or ring


def _hat(x: float, y: float) -> bool:
    crown = (x - 0.5) ** 2 / 0.06 + (y - 0.55) ** 2 / 0.06 <= 1 and y <= 0.55
    brim = (x - 0.5) ** 2 / 0.16 + (y - 0.57) ** 2 / 0.004 <= 1
    return crown or brim


SHAPES: dict[str, Shape] = {
    "shirt": _shirt,
    "dress": _dress,
    "trousers": _trousers,
    "bag": _bag,
    "hat": _hat,
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def garment_png(shape: str, colour: tuple[int, int, int], size: int = SIZE) -> bytes:
    """A garment of one colour on a light background, with a soft shadow line."""
    inside = SHAPES[shape]
    background = bytes((246, 243, 239))
    shade = bytes(max(0, c - 40) for c in colour)
    fill = bytes(colour)
    rows = []
    for py in range(size):
        y = py / size
        row = bytearray(b"\x00")  # filter type: none
        for px in range(size):
            x = px / size
            if inside(x, y):
                row += shade if not inside(x + 0.012, y + 0.012) else fill
            else:
                row += background
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
