"""Face-region inputs of the neural engine from landmarks: the FaceLocator box image and the soft
full / face / lip masks of the emotive audio attention (paper Sec. 3.2.2).

Recipe (as the release builds them, from boxes, not mesh outlines):

* lip box = bounding box of the outer-lip landmarks, scaled 2.0x about its centre;
* face box = bounding box of the face-oval landmarks, scaled 1.2x; both in the portrait's own
  pixels, and a box that leaves the image is shifted back inside (:func:`expand_box`);
* at 64x64: ``face = blur51(face box)``, ``lip = blur31(lip box)`` (Gaussian, OpenCV's default
  sigma for the kernel size), each min-max stretched to [0, 1];
  ``full = 1 - face`` (background / pose), ``face = max(face - lip, 0)``;
* each mask is resized to every UNet level (64, 32, 16, 8 for 512 px) and flattened.

Landmarks are ``float32 (N, 2)`` pixel coordinates (x, y) in the input image. With MediaPipe's
468/478-point mesh the standard face-oval and outer-lip indices are used; any other ``N`` is
treated as a face outline (its bounding box), and the lip box is then taken from ``lip_landmarks``
or, if absent, guessed in the lower third of the face box.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: MediaPipe face mesh: outer lip contour (20 points).
MP_LIPS_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146]
#: MediaPipe face mesh: face oval / silhouette (36 points).
MP_FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
                152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]


@dataclass
class RegionMasks:
    """Face-region conditioning for one portrait.

    Attributes:
        face_box_image: ``float32 (size, size)`` 1 inside the face box, 0 outside (FaceLocator
            input after stacking to 3 channels).
        full / face / lip: lists over UNet levels of ``float32 (side*side,)`` soft masks in [0, 1];
            level 0 side = size / 8.
        face_box / lip_box: ``(x0, y0, x1, y1)`` in ``size``-pixel coordinates.
    """

    face_box_image: np.ndarray
    full: list
    face: list
    lip: list
    face_box: tuple
    lip_box: tuple


def expand_box(box, ratio: float, w: int, h: int) -> tuple[int, int, int, int]:
    """Scale a box ``(x0, y0, x1, y1)`` about its centre by ``ratio`` in an image ``w x h`` pixels, as
    the release's ``expand_region`` does (Hallo's preprocessing): the corners are rounded to pixels
    first, the centre and half-sides are floored, and a box that leaves the image is **shifted** back
    inside, keeping its size, instead of being cut by the border.

    Returns:
        ``(x0, y0, x1, y1)`` whole pixels.
    """
    x0, y0, x1, y1 = (float(np.round(v)) for v in box)

    def axis(lo, hi, limit):
        mid = (hi + lo) // 2
        half = ((hi - lo) * ratio) // 2
        lo, hi = mid - half, mid + half
        if lo < 0:
            hi, lo = hi - lo, 0.0
        if hi > limit:
            lo, hi = lo - (hi - limit), float(limit)
        return round(lo), round(hi)

    (x0, x1), (y0, y1) = axis(x0, x1, w), axis(y0, y1, h)
    return x0, y0, x1, y1


def _bbox(pts: np.ndarray):
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


def points_2d(landmarks: np.ndarray) -> np.ndarray:
    """``float32 (N, 2)`` pixel x, y of landmarks given as ``(N, 2)``, ``(N, 3)`` (MediaPipe's x, y, z:
    z is dropped) or a flat ``(2N,)`` array.

    Raises ``ValueError`` for any other shape.
    """
    lm = np.asarray(landmarks, np.float32)
    if lm.ndim == 2 and lm.shape[1] in (2, 3):
        return np.ascontiguousarray(lm[:, :2])
    if lm.ndim == 1 and lm.size % 2 == 0:
        return lm.reshape(-1, 2)
    raise ValueError(f"landmarks must be (N, 2) or (N, 3) pixel coordinates, got shape {lm.shape}")


def boxes_from_landmarks(landmarks: np.ndarray, lip_landmarks: np.ndarray | None = None):
    """Raw (unscaled) face and lip boxes ``(x0, y0, x1, y1)`` from landmarks, see module doc.

    Raises ``ValueError`` for fewer than 3 landmarks or non-finite values.
    """
    lm = points_2d(landmarks)
    if lm.shape[0] < 3 or not np.isfinite(lm).all():
        raise ValueError("landmarks must be a finite (N>=3, 2) array of pixel coordinates")
    if lm.shape[0] >= 468:
        return _bbox(lm[MP_FACE_OVAL]), _bbox(lm[MP_LIPS_OUTER])
    face = _bbox(lm)
    if lip_landmarks is not None:
        return face, _bbox(points_2d(lip_landmarks))
    x0, y0, x1, y1 = face
    w, h = x1 - x0, y1 - y0
    return face, (x0 + 0.3 * w, y0 + 0.68 * h, x1 - 0.3 * w, y0 + 0.85 * h)


def _box_image(box, w, h):
    img = np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = [int(round(v)) for v in box]
    img[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = 1.0
    return img


def _blur_stretch(img: np.ndarray, k: int) -> np.ndarray:
    b = cv2.GaussianBlur(img, (k, k), 0)
    lo, hi = float(b.min()), float(b.max())
    return (b - lo) / (hi - lo) if hi > lo else np.zeros_like(b)


def region_masks(landmarks: np.ndarray, image_hw: tuple[int, int], size: int = 512, levels: int = 4,
                 lip_landmarks: np.ndarray | None = None, face_ratio: float = 1.2, lip_ratio: float = 2.0,
                 mask_side: int = 64) -> RegionMasks:
    """Build the FaceLocator box image and the per-level full/face/lip masks.

    Args:
        landmarks: ``float32 (N, 2)`` pixel (x, y) coordinates in the original image.
        image_hw: (height, width) of the original image (the portrait is resized to ``size``
            square without cropping, so the coordinates are scaled per axis).
        size: generation size in pixels (512).
        levels: UNet resolution levels (4).
        lip_landmarks: optional ``(M, 2)`` lip points when ``landmarks`` is not a MediaPipe mesh.
        face_ratio / lip_ratio: box expansion factors (release 1.2 and 2.0).
        mask_side: side at which the soft masks are built and blurred (release: 64).

    Returns: :class:`RegionMasks`. Raises ``ValueError`` for bad landmarks.
    """
    h0, w0 = image_hw
    sx, sy = size / w0, size / h0
    face, lip = boxes_from_landmarks(landmarks, lip_landmarks)
    # Expanded in the portrait's own pixels, as the release draws its masks, then scaled to ``size``.
    face, lip = expand_box(face, face_ratio, w0, h0), expand_box(lip, lip_ratio, w0, h0)
    face = (face[0] * sx, face[1] * sy, face[2] * sx, face[3] * sy)
    lip = (lip[0] * sx, lip[1] * sy, lip[2] * sx, lip[3] * sy)
    face_img = _box_image(face, size, size)
    lip_img = _box_image(lip, size, size)
    small = (mask_side, mask_side)
    face_s = _blur_stretch(cv2.resize(face_img, small, interpolation=cv2.INTER_AREA), 51)
    lip_s = _blur_stretch(cv2.resize(lip_img, small, interpolation=cv2.INTER_AREA), 31)
    full_s = 1.0 - face_s
    face_only = np.clip(face_s - lip_s, 0.0, 1.0)
    lat = size // 8
    out = {"full": [], "face": [], "lip": []}
    for lvl in range(levels):
        side = max(1, lat >> lvl)
        for name, m in (("full", full_s), ("face", face_only), ("lip", lip_s)):
            r = cv2.resize(m, (side, side), interpolation=cv2.INTER_AREA if side < m.shape[0] else cv2.INTER_LINEAR)
            out[name].append(np.clip(r, 0, 1).astype(np.float32).reshape(-1))
    return RegionMasks(face_img, out["full"], out["face"], out["lip"], face, lip)


def default_landmarks(image_hw: tuple[int, int]) -> np.ndarray:
    """A centred face-outline guess (4 box corners) for when no face landmarks are available:
    a box covering the middle 50% width and 60% height of the image."""
    h, w = image_hw
    return np.array([[0.25 * w, 0.15 * h], [0.75 * w, 0.15 * h], [0.75 * w, 0.75 * h], [0.25 * w, 0.75 * h]],
                    np.float32)
