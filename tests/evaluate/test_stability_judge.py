"""Stability judge: landmark jitter and background motion."""
from __future__ import annotations

import numpy as np

from emocast.evaluate import dlib_face
from emocast.evaluate.stability import background_motion, head_mask, judge_stability, landmark_jitter


def test_jitter_zero_for_still_and_for_steady_motion_large_for_shaking():
    rng = np.random.default_rng(0)
    base = rng.uniform(100, 300, (68, 2)).astype(np.float32)
    base[dlib_face.LEFT_EYE_OUTER], base[dlib_face.RIGHT_EYE_OUTER] = (150, 200), (250, 200)  # 100 px apart
    still = np.repeat(base[None], 30, 0)
    assert landmark_jitter(still)["jitter_mean"] == 0
    steady = still + np.arange(30, dtype=np.float32)[:, None, None] * 2.0  # constant velocity: no 2nd difference
    assert landmark_jitter(steady)["jitter_mean"] < 1e-4
    shaking = still + rng.normal(0, 2.0, still.shape).astype(np.float32)
    j = landmark_jitter(shaking)
    # 2nd difference of iid N(0, 2) px noise: N(0, 2*sqrt(6)) per axis, 2-D norm mean
    # 2*sqrt(6)*sqrt(pi/2) = 6.1 px, over the 100 px eye distance: 0.061
    assert 0.05 < j["jitter_mean"] < 0.075 and j["jitter_p95"] > j["jitter_mean"]


def test_background_motion_sees_only_the_background(astronaut):
    m = dlib_face.get()
    face = m.detect(astronaut)
    lm = m.landmarks(astronaut, face.box)
    frames = np.repeat(astronaut[None], 6, 0).copy()
    lms = np.repeat(lm[None], 6, 0)
    mask = head_mask(astronaut.shape[:2], lms)
    assert mask[int(lm[30, 1]), int(lm[30, 0])]  # nose tip is inside the head
    assert not mask[5, 5] and not mask[20, 500]  # top corners are background
    still = background_motion(frames, lms)
    assert still["background_motion"] == 0 and still["background_area"] > 0.2
    face_moves = frames.copy()
    y0, x0 = lm[:, 1].min().astype(int), lm[:, 0].min().astype(int)
    face_moves[1::2, y0:y0 + 60, x0:x0 + 60] = 0  # flicker inside the face only
    assert background_motion(face_moves, lms)["background_motion"] == 0
    bg_moves = frames.copy()
    bg_moves[1::2, :60, :60] = 255 - bg_moves[1::2, :60, :60]  # flicker in the top-left corner
    r = background_motion(bg_moves, lms)
    assert r["background_motion"] > 1.0 and r["background_drift"] > 1.0
    full = judge_stability(bg_moves, lms)
    assert full["jitter_mean"] == 0 and full["background_motion"] == r["background_motion"]
