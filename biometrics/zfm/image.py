"""The module's native image format: 256 x 288 pixels, 4 bits each, two pixels per byte (left one in
the high nibble), rows top to bottom."""

from __future__ import annotations

import numpy as np

from biometrics.errors import ImageFormatError
from biometrics.zfm.codes import IMAGE_HEIGHT, IMAGE_WIDTH

PACKED_SIZE = IMAGE_WIDTH * IMAGE_HEIGHT // 2


def unpack_image(data: bytes, width: int = IMAGE_WIDTH, height: int = IMAGE_HEIGHT) -> np.ndarray:
    """4-bit packed bytes -> uint8 image, each nibble scaled by 17 so 0x0 is 0 and 0xF is 255."""
    if len(data) != width * height // 2:
        raise ImageFormatError(
            f"the module sent {len(data)} image bytes, expected {width * height // 2} for {width}x{height} "
            "at 4 bits per pixel; the upload was cut short, capture again"
        )
    packed = np.frombuffer(data, dtype=np.uint8)
    pixels = np.empty(packed.size * 2, dtype=np.uint8)
    pixels[0::2] = packed >> 4
    pixels[1::2] = packed & 0x0F
    return (pixels * 17).reshape(height, width)


def pack_image(pixels: np.ndarray) -> bytes:
    """uint8 image of even width -> 4-bit packed bytes (rounding each pixel to the nearest level)."""
    if pixels.ndim != 2 or pixels.dtype != np.uint8 or pixels.shape[1] % 2:
        raise ImageFormatError("a ZFM image must be a 2-D uint8 array of even width")
    levels = ((pixels.astype(np.uint16) + 8) // 17).astype(np.uint8)
    return ((levels[:, 0::2] << 4) | levels[:, 1::2]).tobytes()


def fit_to_sensor(pixels: np.ndarray, width: int = IMAGE_WIDTH, height: int = IMAGE_HEIGHT) -> np.ndarray:
    """Centre-crop (or pad with white) an image to the sensor window, as a smaller glass would see it."""
    out = np.full((height, width), 255, dtype=np.uint8)
    h, w = pixels.shape
    sy, sx = max(0, (h - height) // 2), max(0, (w - width) // 2)
    dy, dx = max(0, (height - h) // 2), max(0, (width - w) // 2)
    ch, cw = min(h, height), min(w, width)
    out[dy : dy + ch, dx : dx + cw] = pixels[sy : sy + ch, sx : sx + cw]
    return out
