"""Images found in a document: type sniffed from the bytes, size and count capped."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from webapp.text.extract.base import (
    MAX_ALT_CHARS,
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    MAX_IMAGES_TOTAL_BYTES,
    ImageAsset,
    megabytes,
)

_DATA_URI = re.compile(r"data:(?P<type>[\w/+.-]*)(?P<params>(?:;[^,;]*)*),(?P<data>.*)", re.S)


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes are, among those the app serves; None for any other."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_data_uri(uri: str) -> bytes | None:
    """The bytes of a base64 `data:` image, or None (too large, not base64, malformed)."""
    match = _DATA_URI.fullmatch(uri.strip())
    if not match or ";base64" not in match.group("params").lower():
        return None
    payload = re.sub(r"\s+", "", match.group("data"))
    if len(payload) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


class ImageCollector:
    """Gathers a document's images within the caps and says what it left out."""

    def __init__(self) -> None:
        self.images: dict[str, ImageAsset] = {}
        self.total = 0
        self.too_large = 0
        self.unsupported = 0
        self.over_count = 0
        self.unreachable = 0

    def add(self, data: bytes | None, alt: str = "") -> str | None:
        """Keep an image; its digest, or None when it is left out."""
        if data is None:
            self.unreachable += 1
            return None
        content_type = sniff_image(data)
        if content_type is None:
            self.unsupported += 1
            return None
        if len(data) > MAX_IMAGE_BYTES:
            self.too_large += 1
            return None
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.images:
            return digest
        if len(self.images) >= MAX_IMAGES or self.total + len(data) > MAX_IMAGES_TOTAL_BYTES:
            self.over_count += 1
            return None
        alt = " ".join(alt.split())[:MAX_ALT_CHARS]
        self.images[digest] = ImageAsset(digest, content_type, data, alt)
        self.total += len(data)
        return digest

    def missing(self) -> None:
        """An image the document refers to but whose bytes cannot be had."""
        self.unreachable += 1

    def assets(self) -> tuple[ImageAsset, ...]:
        return tuple(self.images.values())

    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.too_large:
            notes.append(
                f"{_images(self.too_large)} larger than {megabytes(MAX_IMAGE_BYTES)} "
                f"{_were(self.too_large)} left out."
            )
        if self.unsupported:
            notes.append(
                f"{_images(self.unsupported)} not in PNG, JPEG, GIF or WebP format "
                f"{_were(self.unsupported)} left out."
            )
        if self.over_count:
            notes.append(
                f"{_images(self.over_count)} past the limit of {MAX_IMAGES} images "
                f"({megabytes(MAX_IMAGES_TOTAL_BYTES)} in all) {_were(self.over_count)} left out."
            )
        if self.unreachable:
            notes.append(
                f"{_images(self.unreachable)} could not be copied and "
                f"{_were(self.unreachable)} left out."
            )
        return tuple(notes)


def _images(count: int) -> str:
    return "1 image" if count == 1 else f"{count} images"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"
