"""Eyeballs behind widened lids: the iris keeps its round shape and white shows above it.

The mesh warp moves the eyelids with their landmarks and stretches whatever lies between them, so a
raised upper lid (AU5, surprise and fear) used to pull the iris into a tall oval. Here each eye's
eyeball is rebuilt once from the portrait (sclera colour, the iris as seen, its hidden top completed
from its lower half by mirror symmetry) and, on frames where the lids open wider than in the portrait,
painted into the new opening unstretched, centred on the tracked iris, under a soft shadow of the
upper lid. The band just under the upper lid keeps the warped lid margin and lashes.

Method: the same "interior drawn afresh behind the moving lids" idea as the mouth
(:mod:`emocast.render.mouth`); sclera exposure above the iris is the upper-lid raiser's (AU5)
appearance change in FACS (Ekman & Friesen 1978).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import topology as T
from .raster import clip_box, composite, polygon_mask

_EYES = (
    (T.RIGHT_EYE_CORNERS, T.RIGHT_EYE_UPPER, T.RIGHT_EYE_LOWER),
    (T.LEFT_EYE_CORNERS, T.LEFT_EYE_UPPER, T.LEFT_EYE_LOWER),
)


def eye_ring(points: np.ndarray, corners, upper, lower) -> np.ndarray:
    """Closed eye-opening contour ``(16, 2)``: corner, upper lid, other corner, lower lid back."""
    idx = [corners[0], *upper, corners[1], *lower[::-1]]
    return points[idx, :2]


def _area(poly: np.ndarray) -> float:
    return float(cv2.contourArea(poly.astype(np.float32)))


@dataclass
class _Eyeball:
    contour: tuple  # (corners, upper lid, lower lid) landmark indices of this eye's opening
    iris: list[int]  # its iris landmarks (centre first)
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the texture in the portrait
    texture: np.ndarray  # float32 (h, w, 3) eyeball, sclera + iris
    centre: np.ndarray  # iris centre in the portrait, pixels
    radius: float  # iris radius, pixels
    area: float  # source opening area, pixels²


class Eyes:
    """Per-portrait eyeball textures; :meth:`draw` paints them into widened eye openings.

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait.
        landmarks: ``(478, 2+)`` MediaPipe landmarks of the portrait, pixels (iris points 468-477).
    """

    def __init__(self, image: np.ndarray, landmarks: np.ndarray):
        self.eyes: list[_Eyeball] = []
        p = np.asarray(landmarks, np.float64)[:, :2]
        for contour in _EYES:
            ring = eye_ring(p, *contour)
            # MediaPipe's "right"/"left" iris naming differs between versions: take the nearer one.
            iris_idx = min((T.RIGHT_IRIS, T.LEFT_IRIS), key=lambda q: float(np.linalg.norm(p[q[0]] - ring.mean(0))))
            c = p[iris_idx[0]]
            r = float(np.mean(np.linalg.norm(p[iris_idx[1:]] - c, axis=1)))
            eye_w = float(np.linalg.norm(ring[0] - ring[8]))
            if r < 1.5 or eye_w < 6 or _area(ring) < 4:
                continue
            m = 0.25 * eye_w + 2 * r
            x0, y0 = np.floor(np.minimum(ring.min(0), c - r) - m).astype(int)
            x1, y1 = np.ceil(np.maximum(ring.max(0), c + r) + m).astype(int)
            x0, y0, x1, y1 = clip_box(x0, y0, x1, y1, image.shape)
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            self.eyes.append(_Eyeball(contour, iris_idx, (x0, y0, x1, y1), self._texture(image, ring, c, r, (x0, y0, x1, y1)),
                                      c, r, _area(ring)))

    @staticmethod
    def _texture(image, ring, c, r, box) -> np.ndarray:
        x0, y0, x1, y1 = box
        src = image[y0:y1, x0:x1].astype(np.float32)
        h, w = src.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        xs += x0 + 0.5
        ys += y0 + 0.5
        opening = polygon_mask((h, w), ring, (x0, y0))
        # What the portrait shows of the eyeball: the opening less a margin under the upper lid, whose
        # lashes and shadow belong to the lid.
        upper = polygon_mask((h, w), np.concatenate([ring[:9], ring[8:9] + [0, -4 * r], ring[0:1] + [0, -4 * r]]), (x0, y0))
        shadow_band = cv2.dilate((upper > 0.5).astype(np.uint8), np.ones((max(3, int(0.35 * r) * 2 + 1),) * 2, np.uint8))
        seen = opening * (1 - shadow_band.astype(np.float32))
        seen = cv2.erode(seen, np.ones((3, 3), np.uint8))
        d = np.hypot(xs - c[0], ys - c[1])
        in_iris = d < r
        # Sclera brightness: the whitest visible pixels (bright, unsaturated); its colour is not taken from
        # them (lashes, lids and compression blur tint a few pixels) but from the light on the face.
        white = (seen > 0.9) & (d > 1.2 * r)
        sat = src.max(-1) - src.min(-1)
        score = src.mean(-1) - 1.5 * sat
        if white.sum() >= 6:
            cut = np.quantile(score[white], 0.6)
            sclera = np.median(src[white & (score >= cut)], axis=0)
        else:
            sclera = np.full(3, 190.0)
        # ... tinted by the light falling on the face (warm light makes warm whites).
        around = src[opening < 0.05]
        tint = around.mean(0) / max(float(around.mean()), 1.0) if len(around) else np.ones(3)
        # Whites are rarely darker than the skin around them in the same light (small, shadowed or
        # blurred eyes give too few clean pixels).
        skin_lum = float(np.median(around.mean(-1))) if len(around) else 150.0
        sclera = max(0.92 * float(sclera.mean()), 0.85 * skin_lum) * (0.5 + 0.5 * tint)
        sclera = np.clip(sclera, 0, 255)
        # A ball lit from the front: darker towards the corners.
        eye_cx = float(ring[:, 0].mean())
        half = max(float(np.ptp(ring[:, 0])) / 2, 1.0)
        ball = sclera[None, None, :] * (0.8 + 0.2 * np.clip(1 - ((xs - eye_cx) / half) ** 2, 0, 1))[..., None]
        # The iris as seen, its hidden part mirrored from below the centre (irises are near radially
        # symmetric); what neither shows gets the iris' mean colour.
        iris_seen = in_iris & (seen > 0.9)
        mean_iris = src[iris_seen].mean(0) if iris_seen.sum() >= 3 else np.array([70.0, 55.0, 45.0])
        my = np.clip(np.round(2 * c[1] - ys - y0 - 0.5), 0, h - 1).astype(int)
        mx = np.clip(np.round(xs - x0 - 0.5), 0, w - 1).astype(int)
        mirror_ok = (seen[my, mx] > 0.9)[..., None]
        iris_col = np.where(seen[..., None] > 0.9, src, np.where(mirror_ok, src[my, mx], mean_iris[None, None, :]))
        a_iris = np.clip(r + 0.5 - d, 0, 1)[..., None]
        tex = ball * (1 - a_iris) + iris_col * a_iris
        # Where the eyeball was seen, keep it as it was (sclera veins, reflections, shading).
        a_seen = cv2.GaussianBlur(seen, (0, 0), 0.7)[..., None]
        return tex * (1 - a_seen) + src * a_seen

    def draw(self, frame: np.ndarray, landmarks: np.ndarray) -> None:
        """Paint eyeballs into the eye openings of ``frame`` that are wider than the portrait's, in place.

        Args:
            frame: ``uint8 (H, W, 3)`` RGB, the warped portrait.
            landmarks: ``(478, 2)`` target landmarks of this frame, pixels.
        """
        p = np.asarray(landmarks, np.float64)[:, :2]
        for eye in self.eyes:
            ring = eye_ring(p, *eye.contour)
            # Fade in with the widening, so there is no pop between frames.
            k = float(np.clip((_area(ring) / eye.area - 1.06) / 0.12, 0, 1))
            if k <= 0:
                continue
            shift = p[eye.iris[0]] - eye.centre
            x0, y0 = np.floor(ring.min(0) - 2).astype(int)
            x1, y1 = np.ceil(ring.max(0) + 2).astype(int)
            x0, y0, x1, y1 = clip_box(x0, y0, x1, y1, frame.shape)
            if x1 - x0 < 3 or y1 - y0 < 3:
                continue
            h, w = y1 - y0, x1 - x0
            # The eyeball texture, moved with the iris (a translation: the ball turns with the head).
            M = np.float32([[1, 0, x0 - eye.box[0] - shift[0]], [0, 1, y0 - eye.box[1] - shift[1]]])
            ball = cv2.warpAffine(eye.texture, M, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE)
            opening = polygon_mask((h, w), ring, (x0, y0))
            ys = np.arange(h, dtype=np.float32)[:, None] + y0 + 0.5
            xs = np.arange(w, dtype=np.float32)[None, :] + x0 + 0.5
            lid = np.interp(xs[0], *_upper_curve(ring))[None, :]
            below_lid = ys - lid  # pixels under the upper lid line
            # Keep the warped lid margin (lashes) in a thin band; shade the ball under the lid.
            band = 0.3 * eye.radius
            a = opening * np.clip((below_lid - 0.5 * band) / band, 0, 1)
            # Soft edge: the lower lid's rim and the corners stay the warped portrait's.
            a = cv2.GaussianBlur(cv2.erode(a, np.ones((3, 3), np.uint8)), (0, 0), max(0.7, 0.12 * eye.radius)) * k
            # The lids shade the ball along the whole rim, the upper one most.
            rim = cv2.distanceTransform((opening > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
            shade = (1.0 - 0.22 * np.exp(-np.clip(below_lid, 0, None) / (0.5 * eye.radius))) \
                * (1.0 - 0.2 * np.exp(-rim / (0.35 * eye.radius)))
            ball = ball * shade[..., None]
            composite(frame, (x0, y0, x1, y1), ball, a[..., None])


def _upper_curve(ring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of the upper lid line (corner to corner), sorted by x, for interpolation."""
    up = ring[:9]
    order = np.argsort(up[:, 0])
    return up[order, 0], up[order, 1]
