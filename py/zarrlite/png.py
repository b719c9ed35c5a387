"""PNG bytes from 8-bit images with numpy and zlib alone (no Pillow: the offline Pyodide has none), and
the HTML <img> that shows them inline."""

from __future__ import annotations

import base64
import html
import struct
import zlib

import numpy as np

from .errors import ZarrliteError

_PNG_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}   # channels -> gray, gray+alpha, RGB, RGBA


def png_bytes(image: np.ndarray, level: int = 6) -> bytes:
    """Encode an 8-bit image, (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA, as PNG bytes.

    An RGBA image whose alpha is all 255 is written as RGB. Rows are unfiltered (filter type 0)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ZarrliteError(f"png: 8-bit (uint8) pixels are needed, got {img.dtype}")
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in _PNG_COLOR_TYPE or 0 in img.shape[:2]:
        raise ZarrliteError(f"png: an image of shape (H, W), (H, W, 3) or (H, W, 4) is needed, got {image.shape}")
    if img.shape[2] == 4 and bool((img[:, :, 3] == 255).all()):
        img = img[:, :, :3]
    height, width, channels = img.shape
    rows = np.zeros((height, 1 + width * channels), np.uint8)   # a leading 0 per row: filter "none"
    rows[:, 1:] = img.reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPE[channels], 0, 0, 0)
    return b"".join([b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", header),
                     _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), level)), _png_chunk(b"IEND", b"")])


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def img_tag(png: bytes, title: str = "", max_css: int | None = None) -> str:
    """An inline <img> of PNG bytes, drawn with sharp pixels."""
    style = "image-rendering:pixelated;border:1px solid #ccc"
    if max_css:
        style += f";max-width:{max_css}px;max-height:{max_css}px"
    return (f'<img class="zarrlite-image" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
            f'title="{html.escape(title)}" style="{style}"/>')
