"""Where uploaded product images live. The embedded shape keeps them on disk under the data
dir; another store (S3, a CDN) only has to implement ImageStore."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from chatcart.catalog.errors import ImageRejected, ImageTooLarge
from chatcart.kit.crypto import random_token

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MEDIA_PREFIX = "/media/"
# Raster formats only, told by their first bytes (never by the name or the browser's
# claim): an uploaded SVG served from our origin could run script.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


def image_kind(data: bytes) -> str:
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise ImageRejected("only PNG, JPEG, GIF and WebP images can be uploaded")


class ImageStore(Protocol):
    async def save(self, workspace_id: int, data: bytes) -> str:
        """Keep the bytes; return the key to find them again."""

    async def load(self, key: str) -> tuple[bytes, str] | None:
        """(bytes, content type), or None for an unknown key."""

    async def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str: ...


class DiskImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path | None:
        # Keys are "<workspace>/<random>.<ext>": anything else is not ours (no ../ escapes).
        parts = key.split("/")
        if len(parts) != 2 or not parts[0].isdigit():
            return None
        name, _, ext = parts[1].partition(".")
        if not name.replace("-", "").replace("_", "").isalnum() or ext not in CONTENT_TYPES:
            return None
        return self.root / parts[0] / parts[1]

    async def save(self, workspace_id: int, data: bytes) -> str:
        key = f"{workspace_id}/{random_token(16)}.{image_kind(data)}"
        path = self._path(key)
        assert path is not None

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".part")
            temporary.write_bytes(data)
            temporary.replace(path)

        await asyncio.to_thread(write)
        return key

    async def load(self, key: str) -> tuple[bytes, str] | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None
        return data, CONTENT_TYPES[path.suffix.lstrip(".")]

    async def delete(self, key: str) -> None:
        path = self._path(key)
        if path is not None:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    def url(self, key: str) -> str:
        return MEDIA_PREFIX + key


def disk_store(data_dir: Path) -> DiskImageStore:
    return DiskImageStore(data_dir / "media")
