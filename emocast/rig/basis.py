"""FACS action units as landmark displacement fields on MediaPipe's 478-point mesh.

Each action unit (Ekman & Friesen, FACS 1978) is a smooth displacement of the landmarks at full
activation, written in face-normalised units (1 = interocular distance, x to the image right, y down)
around the face's own anatomy (brows, lids, lip contours), so one table serves every face. Frame
displacements are linear blends of these fields (EMFACS-style prototypes in :mod:`emocast.emotion.aus`).
"""
from __future__ import annotations

import numpy as np

from ..face import topology as T
from ..face.model import FaceModel
from .units import AU_INDEX, AU_NAMES


def _g(u: np.ndarray, c: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-((u - c) ** 2).sum(-1) / (2 * sigma * sigma))


def _near(u: np.ndarray, idx, sigma: float) -> np.ndarray:
    """Gaussian falloff ``(n,)`` of each point's distance to the nearest of the points ``idx``."""
    d2 = ((u[:, None, :] - u[list(idx)][None, :, :]) ** 2).sum(-1).min(1)
    return np.exp(-d2 / (2 * sigma * sigma))


def _onehot(idx, n=T.N_LANDMARKS, w=1.0) -> np.ndarray:
    m = np.zeros(n, np.float32)
    m[list(idx)] = w
    return m


def au_basis(face: FaceModel) -> np.ndarray:
    """Displacement of every landmark for each action unit at full activation.

    Args:
        face: the analysed portrait.

    Returns:
        ``float32 (n_AU, 478, 2)`` in face-normalised units, order :data:`AU_NAMES`.
    """
    u = face.normalised(face.landmarks)
    n = len(u)
    B = np.zeros((len(AU_NAMES), n, 2), np.float32)
    mouth = 0.5 * (u[13] + u[14])
    rc, lc = u[T.MOUTH_CORNERS[0]], u[T.MOUTH_CORNERS[1]]
    eye_y = 0.5 * (u[468, 1] + u[473, 1])
    chin = u[T.CHIN]
    face_h = float(chin[1] - eye_y)
    above_eyes = np.clip((eye_y - 0.02 - u[:, 1]) / 0.08, 0, 1)
    upper = _onehot(T.UPPER_LIP)
    lower = _onehot(T.LOWER_LIP)
    inner_up = _onehot(T.LIPS_INNER_UPPER[1:-1])
    inner_lo = _onehot(T.LIPS_INNER_LOWER[1:-1])
    # Lower face below the lip line, fading towards the ears: what the jaw carries.
    below = 1.0 / (1.0 + np.exp(-(u[:, 1] - mouth[1]) / 0.03))
    below = np.where(upper > 0, 0.0, below)
    below = np.where(lower > 0, 1.0, below)
    jaw_w = below * np.clip(1.0 - (np.abs(u[:, 0]) / 0.95) ** 2, 0, 1) * np.clip((u[:, 1] - eye_y) / (face_h * 0.9), 0, 1)
    # Lips part most in the middle and taper to the corners, where they stay joined: the opening is a
    # lens, not a slot with square ends.
    across = np.abs(u[:, 0] - mouth[0]) / (0.5 * abs(lc[0] - rc[0]) + 1e-6)  # 0 mid-mouth, 1 at a corner
    lens = np.clip(1.0 - across ** 2, 0.06, 1.0) ** 0.8  # pointed ends, like a real lip opening; 0.1 at the corners
    jaw_w = np.where(lower > 0, lens, jaw_w)
    jaw_w[T.CHIN] = 1.0
    # Soft tissue next to a lip goes with it: without this falloff the skin just under the lower lip
    # (or over the upper lip) lags behind a lip that moves, and the thin mesh triangles between them fold.
    skin = 1.0 - upper - lower
    under_lip = _near(u, T.LOWER_LIP, 0.05) * skin * (u[:, 1] > mouth[1])
    over_lip = _near(u, T.UPPER_LIP, 0.04) * skin * (u[:, 1] < mouth[1])
    jaw_w = np.maximum(jaw_w, under_lip * lens)

    def put(name, d):
        B[AU_INDEX[name]] += d.astype(np.float32)

    brows_r, brows_l = u[T.RIGHT_BROW].mean(0), u[T.LEFT_BROW].mean(0)
    inner_r, inner_l = u[T.RIGHT_BROW_INNER].mean(0), u[T.LEFT_BROW_INNER].mean(0)
    outer_r, outer_l = u[T.RIGHT_BROW_OUTER].mean(0), u[T.LEFT_BROW_OUTER].mean(0)
    up = np.array([0.0, -1.0])
    # AU1 inner brow raiser, AU2 outer brow raiser: brows and forehead above the eyes.
    w = (_g(u, inner_r, 0.16) + _g(u, inner_l, 0.16)) * above_eyes
    put("AU1", w[:, None] * up * 0.11)
    w = (_g(u, outer_r, 0.18) + _g(u, outer_l, 0.18)) * above_eyes
    put("AU2", w[:, None] * up * 0.10)
    # AU4 brow lowerer: brows down and together, strongest at the inner ends.
    w = (_g(u, inner_r, 0.2) + _g(u, inner_l, 0.2) + 0.5 * (_g(u, brows_r, 0.2) + _g(u, brows_l, 0.2))) * above_eyes
    inward = np.stack([-np.sign(u[:, 0]), np.zeros(n)], 1)
    put("AU4", w[:, None] * (np.array([0.0, 0.08]) + inward * 0.045))
    lids_up = _onehot(T.RIGHT_EYE_UPPER + T.LEFT_EYE_UPPER)
    lids_up_outer = _onehot(T.RIGHT_LID_UPPER_OUTER + T.LEFT_LID_UPPER_OUTER)
    lids_lo = _onehot(T.RIGHT_EYE_LOWER + T.LEFT_EYE_LOWER)
    put("AU4", (0.25 * lids_up + 0.3 * lids_up_outer)[:, None] * np.array([0.0, 0.025]))
    # AU5 upper lid raiser (eyes widen), AU7 lid tightener (narrow from below).
    put("AU5", (lids_up + 0.5 * lids_up_outer)[:, None] * up * 0.04)
    put("AU5", lids_lo[:, None] * np.array([0.0, 0.008]))
    put("AU7", lids_lo[:, None] * up * 0.022 + lids_up[:, None] * np.array([0.0, 0.012]))
    # AU6 cheek raiser: cheeks and lower lids up (the "Duchenne" squint).
    cr, cl = u[T.CHEEKS[0]], u[T.CHEEKS[1]]
    w = _g(u, cr + [0, -0.1], 0.2) + _g(u, cl + [0, -0.1], 0.2)
    w = w * (1 - above_eyes) * (1 - upper - lower)
    put("AU6", w[:, None] * up * 0.045 + lids_lo[:, None] * up * 0.02)
    # AU9 nose wrinkler: nose wings and upper lip up, inner brows down.
    ar, al = u[T.NOSE_ALAE[0]], u[T.NOSE_ALAE[1]]
    w = _g(u, ar, 0.09) + _g(u, al, 0.09) + 0.4 * _g(u, u[T.NOSE_TIP], 0.08)
    put("AU9", w[:, None] * up * 0.035 + upper[:, None] * up * 0.025)
    w = (_g(u, inner_r, 0.14) + _g(u, inner_l, 0.14)) * above_eyes
    put("AU9", w[:, None] * np.array([0.0, 0.03]))
    # AU10 upper lip raiser: upper lip up, most at its middle third (bares the upper teeth).
    w = (upper + 0.7 * over_lip) * np.clip(1.0 - (across / 1.1) ** 2, 0.2, 1)
    put("AU10", w[:, None] * up * 0.06 + (_g(u, ar, 0.07) + _g(u, al, 0.07))[:, None] * up * 0.015)
    # AU12 lip corner puller: corners up and out along the zygomatic line; AU12R/AU14R right side only.
    for name, side_sel, vec in (("AU12", None, np.array([0.09, -0.09])), ("AU12R", "R", np.array([0.08, -0.06])),
                                ("AU14R", "R", np.array([0.035, 0.0]))):
        for c, sgn, side in ((rc, -1.0, "R"), (lc, 1.0, "L")):
            if side_sel and side != side_sel:
                continue
            w = _g(u, c, 0.13) * (1 - above_eyes)
            put(name, w[:, None] * np.array([sgn * vec[0], vec[1]]))
    # AU15 lip corner depressor.
    w = (_g(u, rc, 0.12) + _g(u, lc, 0.12)) * (1 - above_eyes)
    put("AU15", w[:, None] * np.array([0.0, 0.09]) + (w * np.sign(u[:, 0] - mouth[0]))[:, None] * [0.012, 0])
    # AU16 lower lip depressor: lower lip middle down (shows lower teeth).
    w = (lower + 0.8 * under_lip) * np.clip(1.0 - across ** 2, 0.15, 1)
    put("AU16", w[:, None] * np.array([0.0, 0.045]))
    # AU17 chin raiser: chin and lower lip up (pout).
    w = np.maximum(_g(u, chin + [0, -0.12], 0.2) * below, lower * 0.7)
    put("AU17", w[:, None] * up * 0.035)
    # AU18 lip pucker: corners towards the middle, lips thrust (slightly fuller).
    w = _g(u, rc, 0.12) - _g(u, lc, 0.12)
    put("AU18", w[:, None] * np.array([0.10, 0.0]))
    put("AU18", (upper[:, None] * up * 0.008) + (lower[:, None] * np.array([0, 0.012])))
    # AU20 lip stretcher: corners out horizontally and a little down.
    w = (_g(u, rc, 0.13) + _g(u, lc, 0.13)) * (1 - above_eyes)
    put("AU20", w[:, None] * np.array([0.0, 0.02]) + (w * np.sign(u[:, 0] - mouth[0]))[:, None] * [0.085, 0])
    # AU23 lip tightener / AU24 lip pressor: lips thinner (outer contours move to the lip line).
    outer_up = _onehot(T.LIPS_OUTER_UPPER[1:-1])
    outer_lo = _onehot(T.LIPS_OUTER_LOWER[1:-1])
    put("AU23", outer_up[:, None] * np.array([0, 0.016]) + outer_lo[:, None] * np.array([0, -0.016]))
    put("AU23", (_g(u, rc, 0.08) - _g(u, lc, 0.08))[:, None] * np.array([0.02, 0.0]))
    put("AU24", (outer_up + 0.5 * (upper - outer_up - inner_up).clip(0))[:, None] * np.array([0, 0.02]))
    put("AU24", (outer_lo + 0.5 * (lower - outer_lo - inner_lo).clip(0))[:, None] * np.array([0, -0.022]))
    # AU25 lips part: inner lips separate, the lower one more; the upper lip's middle rises too, so the
    # opening is an almond, not the flat-topped crescent of a smile.
    taper = lens[:, None]
    upper_body = (upper - inner_up).clip(0) + 0.5 * over_lip  # the upper lip outside its inner edge, and skin above
    put("AU25", taper * (inner_up[:, None] * up * 0.03 + inner_lo[:, None] * np.array([0, 0.04])))
    put("AU25", taper * upper_body[:, None] * up * 0.012)
    put("AU25", taper * ((lower - inner_lo).clip(0) + 0.8 * under_lip)[:, None] * np.array([0, 0.025]))
    # AU26 jaw drop: the lower face rotates down with the jaw.
    put("AU26", jaw_w[:, None] * np.array([0.0, 0.26]))
    # ... while the upper lip's middle lifts off the teeth, so a wide opening is an oval, not the
    # flat-topped D of a laugh.
    put("AU26", taper * (inner_up[:, None] * 0.05 + upper_body[:, None] * 0.02) * up)
    # ... and the relaxed lips round a little: the corners move in as the jaw opens.
    w = (_g(u, rc, 0.1) + _g(u, lc, 0.1)) * (1 - above_eyes)
    put("AU26", (w * -np.sign(u[:, 0] - mouth[0]))[:, None] * [0.015, 0])
    # AU43 eyes closed: upper lids onto the lower lids, lid skin follows part way.
    for upper_idx, lower_idx, outer_idx in ((T.RIGHT_EYE_UPPER, T.RIGHT_EYE_LOWER, T.RIGHT_LID_UPPER_OUTER),
                                            (T.LEFT_EYE_UPPER, T.LEFT_EYE_LOWER, T.LEFT_LID_UPPER_OUTER)):
        for i, j, k in zip(upper_idx, lower_idx, outer_idx):
            gap = u[j] - u[i]
            B[AU_INDEX["AU43"], i] += gap * 0.92
            B[AU_INDEX["AU43"], k] += gap * 0.45
            B[AU_INDEX["AU43"], j] -= gap * 0.06
    return B
