"""Displacement fields that undo the portrait's own expression (open mouth, smile or frown)."""
from __future__ import annotations

import numpy as np

from ..face import topology as T
from ..face.model import FaceModel
from .basis import au_basis
from .units import AU_INDEX


def _outside(x: float, centre: float, spread: float) -> float:
    """0 while ``x`` is within ``centre +- spread``, rising to 1 at half a spread beyond it."""
    return float(np.clip((abs(x - centre) - spread) / (0.5 * spread), 0.0, 1.0))


def _lip_band_weight(u: np.ndarray, corners: tuple[np.ndarray, ...], sigma: float) -> list[np.ndarray]:
    """Falloff around each mouth corner that treats the lips as one band: Gaussian in the horizontal
    distance from the corner, and in the vertical distance from the lips' outer contours at that x
    (zero inside the lips). Upper and lower lip at the same x get the same weight, so moving a corner
    never shears one lip across the other, even when (in a broad smile) the lower lip hangs far below
    the corners. One ``(478,)`` weight per corner."""
    def contour_y(idx):
        p = u[idx]
        order = np.argsort(p[:, 0])
        return np.interp(u[:, 0], p[order, 0], p[order, 1])

    dy = np.maximum(0.0, np.maximum(contour_y(T.LIPS_OUTER_UPPER) - u[:, 1], u[:, 1] - contour_y(T.LIPS_OUTER_LOWER)))
    return [np.exp(-((u[:, 0] - c[0]) ** 2 + dy ** 2) / (2 * sigma ** 2)) for c in corners]


def neutral_corners_field(face: FaceModel, lift: float = 0.02, width: float = 0.78, amount: float = 1.0) -> np.ndarray:
    """Displacement that moves the portrait's mouth corners to a neutral lift and width.

    Undoes a smile (corners up and out) or a frown (corners down) geometrically, with AU12's falloff
    (sigma 0.12) so the cheeks follow, measured from the lips as a band (:func:`_lip_band_weight`):
    with a Gaussian around the corner point, a broad smile's upper lip, next to its corners, went
    down with them while the lower lip, hanging far below, stayed, and the lips folded over each
    other at the corners.

    Args:
        face: the analysed portrait.
        lift: neutral height of the corners above the lip midline (interocular units).
        width: neutral mouth width (interocular units).
        amount: 0..1, how much of the way to go.

    Returns:
        ``float32 (478, 2)`` in face-normalised units.
    """
    u = face.normalised(face.landmarks)
    d = np.zeros_like(u)
    mid = 0.5 * (u[T.LIP_INNER_TOP] + u[T.LIP_INNER_BOTTOM])
    rc, lc = u[T.MOUTH_CORNERS[0]], u[T.MOUTH_CORNERS[1]]
    cur_lift = mid[1] - 0.5 * (rc[1] + lc[1])
    cur_w = abs(lc[0] - rc[0])
    # Faces differ at rest: a lift or width within the normal spread is left alone; one clearly beyond
    # it (a smile, a frown) is brought to the middle.
    dy = (cur_lift - lift) * _outside(cur_lift, lift, 0.018) * amount  # positive: corners must go down
    # Narrow a widened (smiling) mouth; widen a pursed one a little (at most 0.04 each side).
    dx = max(-0.04, (cur_w - width) / 2) * _outside(cur_w, width, 0.05) * amount
    above_eyes = np.clip((0.5 * (u[T.RIGHT_IRIS_CENTRE, 1] + u[T.LEFT_IRIS_CENTRE, 1]) - 0.02 - u[:, 1]) / 0.08, 0, 1)
    for w, sgn in zip(_lip_band_weight(u, (rc, lc), 0.12), (1.0, -1.0)):
        d += (w * (1 - above_eyes))[:, None] * np.array([sgn * dx, dy])
    return d.astype(np.float32)


def close_mouth_field(face: FaceModel, basis: np.ndarray | None = None) -> np.ndarray:
    """Displacement that closes the portrait's own open mouth (neutral closed lips).

    Inner lips meet at their midline; the lip bodies and the jaw follow in proportion.

    Args:
        face: the analysed portrait.
        basis: its :func:`au_basis`, when the caller has it already.

    Returns:
        ``float32 (478, 2)`` in face-normalised units (zero for a closed mouth).
    """
    u = face.normalised(face.landmarks)
    d = np.zeros_like(u)
    gaps = [u[j] - u[i] for i, j in zip(T.LIPS_INNER_UPPER[1:-1], T.LIPS_INNER_LOWER[1:-1])]
    gap = float(np.mean([g[1] for g in gaps]))
    if gap <= 0.004:
        return d
    for i, j in zip(T.LIPS_INNER_UPPER[1:-1], T.LIPS_INNER_LOWER[1:-1]):
        g = u[j] - u[i]
        d[i] += g * 0.4
        d[j] -= g * 0.6
    up_rest = [i for i in T.UPPER_LIP if i not in T.LIPS_INNER_UPPER]
    lo_rest = [i for i in T.LOWER_LIP if i not in T.LIPS_INNER_LOWER]
    d[up_rest] += np.array([0.0, gap * 0.25])
    d[lo_rest] -= np.array([0.0, gap * 0.45])
    # The chin rises with the lower lip when the jaw was dropped.
    B = (au_basis(face) if basis is None else basis)[AU_INDEX["AU26"]]
    jaw_part = max(0.0, gap - 0.03) * 0.6 / 0.26
    body = np.ones(len(u), bool)
    body[T.LOWER_LIP] = False
    d[body] -= B[body] * jaw_part
    return d.astype(np.float32)
