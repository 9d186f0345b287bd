"""Small raster helpers shared by the parts drawn over the warped frame (mouth interior, eyeballs)."""
from __future__ import annotations

import cv2
import numpy as np


def clip_box(x0: int, y0: int, x1: int, y1: int, shape: tuple) -> tuple[int, int, int, int]:
    """A pixel box ``(x0, y0, x1, y1)`` (end exclusive) clipped to an image of ``shape`` ``(H, W, ...)``."""
    H, W = shape[:2]
    return max(int(x0), 0), max(int(y0), 0), min(int(x1), W), min(int(y1), H)


def polygon_mask(shape: tuple[int, int], poly: np.ndarray, offset=(0, 0)) -> np.ndarray:
    """Anti-aliased mask ``float32 (h, w)`` in 0..1 of the polygon ``poly`` ``(n, 2)`` (pixels, minus
    ``offset``), rasterised at 1/16-pixel precision."""
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round((np.asarray(poly) - offset) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    return m.astype(np.float32) / 255.0


def composite(frame: np.ndarray, box: tuple[int, int, int, int], colour: np.ndarray, alpha: np.ndarray) -> None:
    """Blend ``colour`` ``float (h, w, 3)`` over ``frame[box]`` with ``alpha`` ``(h, w, 1)`` in 0..1, in place."""
    x0, y0, x1, y1 = box
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = np.clip(roi * (1 - alpha) + colour * alpha + 0.5, 0, 255).astype(np.uint8)
