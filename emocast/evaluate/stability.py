"""Stability judge: landmark jitter and background motion.

- **landmark jitter**: second temporal difference of the rigid dlib landmarks (brows, nose, eyes:
  points 17-47, which move with the head but not with speech), ``|x[t+1] - 2 x[t] + x[t-1]|`` in
  pixels, divided by the outer-eye-corner distance of the frame. Smooth head motion has a small
  second difference; frame-to-frame shaking (tracking noise, flicker in the warp) a large one.
  Reported as mean and 95th percentile, in units of the inter-ocular distance (x100 = percent).
- **background motion**: mean absolute grey-level change (0-255) between consecutive frames outside
  the head, where "head" is the union over all frames of a generous region around the face (the
  landmark box widened by half its width on each side, raised by 90% of its height for hair, down to
  the bottom of the frame for neck and shoulders). Also the largest mean change against the first
  frame (drift). A still photo that only the face moves in should give ~0 (codec noise ~0.5).
"""
from __future__ import annotations

import numpy as np

from . import dlib_face

JUDGE_NAME = "dlib 68-point landmark second differences; frame differences outside the head"


def landmark_jitter(landmarks: np.ndarray) -> dict:
    """Jitter of the rigid landmarks.

    Args:
        landmarks: ``float32 (T, 68, 2)`` pixels, NaN rows where no face.

    Returns:
        dict ``jitter_mean``, ``jitter_p95`` (second-difference magnitude / inter-ocular distance,
        dimensionless; ``None`` with fewer than 3 consecutive frames with a face) and ``jitter_px``
        (mean in pixels).
    """
    lm = np.asarray(landmarks, np.float64)[:, dlib_face.RIGID]
    iod = np.linalg.norm(np.asarray(landmarks, np.float64)[:, dlib_face.RIGHT_EYE_OUTER]
                         - np.asarray(landmarks, np.float64)[:, dlib_face.LEFT_EYE_OUTER], axis=1)
    if len(lm) < 3:
        return {"jitter_mean": None, "jitter_p95": None, "jitter_px": None}
    d2 = np.linalg.norm(lm[2:] - 2 * lm[1:-1] + lm[:-2], axis=2).mean(axis=1)  # (T-2,) px
    scale = iod[1:-1]
    ok = np.isfinite(d2) & np.isfinite(scale) & (scale > 0)
    if not ok.any():
        return {"jitter_mean": None, "jitter_p95": None, "jitter_px": None}
    rel = d2[ok] / scale[ok]
    return {"jitter_mean": round(float(rel.mean()), 5), "jitter_p95": round(float(np.percentile(rel, 95)), 5),
            "jitter_px": round(float(d2[ok].mean()), 3)}


def head_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """``bool (H, W)``: True inside the head region of any frame (see module docstring)."""
    h, w = shape
    mask = np.zeros((h, w), bool)
    lm = np.asarray(landmarks, np.float64)
    ok = np.isfinite(lm).all(axis=(1, 2))
    if not ok.any():
        return np.ones((h, w), bool)
    x0, y0 = lm[ok, :, 0].min(axis=1), lm[ok, :, 1].min(axis=1)
    x1, y1 = lm[ok, :, 0].max(axis=1), lm[ok, :, 1].max(axis=1)
    bw, bh = x1 - x0, y1 - y0
    for a, b, c, d in zip(x0 - 0.5 * bw, y0 - 0.9 * bh, x1 + 0.5 * bw, bw):
        mask[max(0, int(b)):, max(0, int(a)):min(w, int(np.ceil(c)) + 1)] = True
    return mask


def background_motion(frames: np.ndarray, landmarks: np.ndarray, min_area: float = 0.05) -> dict:
    """Motion outside the head.

    Args:
        frames: ``uint8 (T, H, W, 3)`` RGB.
        landmarks: ``float32 (T, 68, 2)`` dlib landmarks.
        min_area: below this share of the frame the background is too small to judge.

    Returns:
        dict ``background_motion`` (mean |grey difference| between consecutive frames, 0-255 scale),
        ``background_drift`` (largest mean |grey difference| against frame 0), ``background_area``
        (share of the frame judged); the two figures are ``None`` when too little background shows.
    """
    t, h, w = frames.shape[:3]
    bg = ~head_mask((h, w), landmarks)
    area = float(bg.mean())
    if area < min_area or t < 2:
        return {"background_motion": None, "background_drift": None, "background_area": round(area, 4)}
    wts = np.array([0.299, 0.587, 0.114], np.float32)
    first = prev = None
    diffs, drifts = [], []
    for f in frames:  # frame by frame: a whole video in float would not fit in memory
        g = f[bg].astype(np.float32) @ wts  # (n_bg,)
        if prev is None:
            first = g
        else:
            diffs.append(float(np.abs(g - prev).mean()))
            drifts.append(float(np.abs(g - first).mean()))
        prev = g
    motion, drift = float(np.mean(diffs)), float(np.max(drifts))
    return {"background_motion": round(motion, 3), "background_drift": round(drift, 3), "background_area": round(area, 4)}


def judge_stability(frames: np.ndarray, landmarks: np.ndarray) -> dict:
    """Landmark jitter and background motion of a video (see the module docstring).

    Args:
        frames: ``uint8 (T, H, W, 3)`` RGB.
        landmarks: ``float32 (T, 68, 2)`` dlib landmarks, NaN where no face.
    """
    out = {"judge": JUDGE_NAME}
    out.update(landmark_jitter(landmarks))
    out.update(background_motion(frames, landmarks))
    return out
