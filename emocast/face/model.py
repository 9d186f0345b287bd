"""The analysed portrait: landmarks, face frame, current-expression estimate and region masks."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from . import topology as T


@dataclass
class FaceModel:
    """One analysed face of a portrait.

    Attributes:
        landmarks: ``float32 (478, 3)`` MediaPipe Face Mesh points in image pixels (z in the same scale).
        box: ``float32 (4,)`` tight landmark box ``(x0, y0, x1, y1)`` in pixels.
        image_size: ``(height, width)`` of the image the landmarks refer to.
        n_faces: number of faces found in the portrait.
        index: which of them this is (0 = largest).
        expression: the portrait's own expression as action-unit estimates in [0, 1] (see
            :func:`estimate_expression`), used to drive the face *from* its current expression.
    """

    landmarks: np.ndarray
    box: np.ndarray
    image_size: tuple[int, int]
    n_faces: int = 1
    index: int = 0
    expression: dict = field(default_factory=dict)

    @property
    def points(self) -> np.ndarray:
        """``float32 (478, 2)`` landmark x, y in pixels."""
        return self.landmarks[:, :2]

    @property
    def interocular(self) -> float:
        """Distance between the iris centres, pixels: the unit of face-normalised coordinates."""
        r, l = T.eye_centres(self.landmarks)
        return float(np.linalg.norm(l - r))

    def frame(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Face-aligned frame: ``(origin (2,), rotation (2, 2), scale)``.

        Origin is the midpoint of the eyes, rotation's columns are the face's x axis (subject's right
        eye to left eye, i.e. image left to right) and y axis (down), scale is :attr:`interocular`.
        ``u = R.T @ (p - origin) / scale`` gives face-normalised coordinates.
        """
        r, l = T.eye_centres(self.landmarks)
        x = (l - r) / max(np.linalg.norm(l - r), 1e-6)
        y = np.array([-x[1], x[0]])
        return (r + l) / 2, np.stack([x, y], axis=1).astype(np.float32), self.interocular

    def normalised(self, pts: np.ndarray | None = None) -> np.ndarray:
        """Points in face-normalised coordinates, ``float32 (N, 2)`` (default: all landmarks)."""
        o, R, s = self.frame()
        p = self.points if pts is None else pts[:, :2]
        return ((p - o) @ R / s).astype(np.float32)

    def to_pixels(self, u: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`normalised` for ``(N, 2)`` arrays (offsets: use ``u @ R.T * s``)."""
        o, R, s = self.frame()
        return (u @ R.T * s + o).astype(np.float32)

    def moved(self, offsets: np.ndarray) -> "FaceModel":
        """A copy whose landmarks are moved by face-normalised ``offsets`` ``(478, 2)``.

        Offsets are taken in this face's frame (:meth:`frame`); z is left as it is.
        """
        o, R, s = self.frame()
        lm = self.landmarks.astype(np.float64)
        lm[:, :2] += (np.asarray(offsets, np.float64) @ R.T) * s
        return replace(self, landmarks=lm.astype(np.float32))

    def region_mask(self, region: str, shape: tuple[int, int] | None = None, landmarks: np.ndarray | None = None,
                    feather: float = 0.0) -> np.ndarray:
        """Soft mask of a face region, as in the paper's three audio attentions (Sec. 3.2.2).

        Args:
            region: ``"lips"`` (mouth area), ``"expression"`` (eyes, brows, cheeks) or ``"pose"``
                (whole head).
            shape: ``(height, width)`` of the mask; default :attr:`image_size`.
            landmarks: landmarks to draw from (default the portrait's own).
            feather: Gaussian blur sigma in pixels.

        Returns:
            ``float32 (H, W)`` in [0, 1].
        """
        h, w = shape or self.image_size
        p = (self.points if landmarks is None else landmarks[:, :2]).astype(np.float32)
        m = np.zeros((h, w), np.uint8)
        if region == "lips":
            poly = p[T.LIPS_OUTER_RING]
            c = poly.mean(0)
            cv2.fillPoly(m, [np.round((poly - c) * 1.35 + c).astype(np.int32)], 1)
        elif region == "expression":
            for idx in (T.RIGHT_BROW + T.RIGHT_EYE_UPPER + T.RIGHT_EYE_LOWER + [T.CHEEKS[0]],
                        T.LEFT_BROW + T.LEFT_EYE_UPPER + T.LEFT_EYE_LOWER + [T.CHEEKS[1]]):
                hull = cv2.convexHull(p[idx])
                c = hull.reshape(-1, 2).mean(0)
                cv2.fillPoly(m, [np.round((hull.reshape(-1, 2) - c) * 1.2 + c).astype(np.int32)], 1)
        elif region == "pose":
            hull = cv2.convexHull(p[T.FACE_OVAL]).reshape(-1, 2)
            c = hull.mean(0)
            cv2.fillPoly(m, [np.round((hull - c) * 1.15 + c).astype(np.int32)], 1)
        else:
            raise ValueError(f"unknown region {region!r}")
        out = m.astype(np.float32)
        return cv2.GaussianBlur(out, (0, 0), feather) if feather > 0 else out


CHEEK_PATCHES = (50, 280, 101, 330)
"""Mesh points on the cheeks below the eyes (right, left) and beside the nose (right, left) where skin
is sampled besides :data:`~emocast.face.topology.CHEEKS`: away from hair, brows, lips and nostrils."""
SKIN_PATCH = 0.03
"""Half side of each skin sample patch, interocular units (a few pixels on a small face)."""
LID_MIDPOINTS = ((T.RIGHT_EYE_UPPER[3], T.RIGHT_EYE_LOWER[3]), (T.LEFT_EYE_UPPER[3], T.LEFT_EYE_LOWER[3]))
"""Middle points of the upper and lower lid of each eye (159/145, 386/374): the lid opening."""


def skin_colour(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The face's skin colour: median of patches on both cheeks, ``float32 (3,)`` in the image's channels.

    Args:
        image: ``uint8 (H, W, 3)``.
        landmarks: ``(478, 2+)`` landmarks in ``image`` pixels (a crop's pixels for a crop).
    """
    p = landmarks[:, :2]
    h, w = image.shape[:2]
    r = max(2, int(SKIN_PATCH * np.linalg.norm(p[T.RIGHT_IRIS_CENTRE] - p[T.LEFT_IRIS_CENTRE])))
    samples = []
    for i in T.CHEEKS + CHEEK_PATCHES:
        x, y = np.clip(p[i].astype(int), [r, r], [w - r - 1, h - r - 1])
        samples.append(image[y - r:y + r, x - r:x + r].reshape(-1, 3))
    return np.median(np.concatenate(samples), axis=0).astype(np.float32)


def expression_features(u: np.ndarray) -> dict:
    """Geometric expression features from face-normalised landmarks ``u`` ``(478, 2)``.

    Returns a dict of floats (unit: interocular distance): ``mouth_width``, ``corner_lift`` (how far the
    mouth corners sit above the lip midline, positive = up), ``lip_gap`` (inner-lip opening),
    ``brow_height`` (brow above the eye centres), ``eye_open`` (mean lid opening).
    """
    lc, rc = u[T.MOUTH_CORNERS[0]], u[T.MOUTH_CORNERS[1]]
    mid_y = 0.5 * (u[T.LIP_INNER_TOP, 1] + u[T.LIP_INNER_BOTTOM, 1])
    brow = np.concatenate([u[T.RIGHT_BROW], u[T.LEFT_BROW]])[:, 1].mean()
    eyes_y = 0.5 * (u[T.RIGHT_IRIS_CENTRE, 1] + u[T.LEFT_IRIS_CENTRE, 1])
    (r_up, r_lo), (l_up, l_lo) = LID_MIDPOINTS
    eo = 0.5 * ((u[r_lo, 1] - u[r_up, 1]) + (u[l_lo, 1] - u[l_up, 1]))
    return {
        "mouth_width": float(np.linalg.norm(lc - rc)),
        "corner_lift": float(mid_y - 0.5 * (lc[1] + rc[1])),
        "lip_gap": float(max(0.0, u[T.LIP_INNER_BOTTOM, 1] - u[T.LIP_INNER_TOP, 1])),
        "brow_height": float(eyes_y - brow),
        "eye_open": float(eo),
    }


# Population values of the features on neutral faces and the change that one full AU makes; set
# on the fixture portraits (neutral-looking faces: EDTalk frame, Mona Lisa, Aragaki).
_NEUTRAL = {"mouth_width": 0.78, "corner_lift": 0.02, "lip_gap": 0.0, "brow_height": 0.27, "eye_open": 0.12}


def estimate_expression(u: np.ndarray) -> dict:
    """Estimate the action units the portrait already shows, each in [0, 1].

    A feature-based estimate against population neutral values (no per-person neutral exists):
    AU12 from mouth widening and corner lift, AU15 from corners below the midline, AU25/AU26 from the
    lip gap, AU1+2 from raised brows, AU4 from lowered brows. Used so a smiling portrait asked to be
    sad first loses its smile (DESIGN.md, "drive from the current expression").

    Args:
        u: ``(478, 2)`` face-normalised landmarks.

    Returns:
        dict AU name (``"AU12"``, ...) -> activation in [0, 1].
    """
    f = expression_features(u)
    d = {k: f[k] - _NEUTRAL[k] for k in f}
    au12 = np.clip(0.5 * d["mouth_width"] / 0.20 + 0.5 * d["corner_lift"] / 0.08, 0, 1)
    au15 = np.clip(-d["corner_lift"] / 0.08, 0, 1)
    au25 = np.clip(f["lip_gap"] / 0.06, 0, 1)
    au26 = np.clip((f["lip_gap"] - 0.06) / 0.25, 0, 1)
    # Brow height varies a lot between people: trust it only halfway.
    au1 = 0.5 * np.clip(d["brow_height"] / 0.12, 0, 1)
    au4 = 0.5 * np.clip(-d["brow_height"] / 0.12, 0, 1)
    return {k: float(v) for k, v in dict(AU12=au12, AU15=au15, AU25=au25, AU26=au26, AU1=au1, AU2=au1, AU4=au4).items()}
