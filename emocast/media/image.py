"""Portrait decoding."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InputError

Image.MAX_IMAGE_PIXELS = 200_000_000  # 14k x 14k; larger is refused by Pillow as a decompression bomb


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read a portrait as 8-bit RGB.

    Handles JPEG, PNG, WebP, BMP, TIFF and anything else Pillow reads; applies the EXIF orientation;
    flattens alpha onto white; converts grayscale, palette, CMYK and 16-bit images.

    Args:
        path: image file.

    Returns:
        ``uint8`` array of shape ``(H, W, 3)``, RGB.

    Raises:
        InputError: the file is missing, empty, not an image, or has no pixels.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "image file not found")
    if os.path.getsize(path) == 0:
        raise InputError(path, "image file is empty")
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            im.load()
            arr = _to_rgb8(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InputError(path, f"cannot read image ({type(e).__name__})") from None
    except Image.DecompressionBombError:
        raise InputError(path, "image is too large to decode safely") from None
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InputError(path, "image has no pixels")
    return np.ascontiguousarray(arr)


def _to_rgb8(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im).astype(np.float64)
        hi = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        g = np.clip(a / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        a = np.asarray(rgba).astype(np.float32)
        alpha = a[..., 3:4] / 255.0
        rgb = a[..., :3] * alpha + 255.0 * (1.0 - alpha)
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return np.asarray(im.convert("RGB"))
