"""Head motion: slow drift plus nods on stressed syllables, scaled by emotion and the user."""
from __future__ import annotations

import numpy as np


def head_pose(n_frames: int, fps: float, envelope: np.ndarray, env_hop_s: float, rng: np.random.Generator,
              scale: float | np.ndarray = 1.0, speed: float | np.ndarray = 1.0,
              pitch_offset: float | np.ndarray = 0.0) -> np.ndarray:
    """Head rotation per frame.

    Drift: a sum of three sinusoids per axis with random phases (0.1-0.5 Hz), amplitude about 2°;
    speech rhythm: a nod (pitch down then back, ~250 ms) on each loudness peak that follows a
    rise, i.e. on stressed syllables, weighted by how loud it is.

    Args:
        n_frames: frames.
        fps: frames per second.
        envelope: loudness in [0, 1] at ``1/env_hop_s`` Hz.
        env_hop_s: envelope hop in seconds.
        rng: random generator.
        scale: overall amplitude (0 = still), scalar or per frame.
        speed: tempo multiplier of the drift (fear faster, sadness slower).
        pitch_offset: constant head pitch in degrees (sadness looks down: positive).

    Returns:
        ``float32 (n_frames, 3)``: yaw, pitch, roll in degrees (pitch positive = chin down).
    """
    t = np.arange(n_frames) / fps
    sp = np.broadcast_to(np.asarray(speed, np.float32), (n_frames,))
    phase_t = np.cumsum(sp) / fps
    out = np.zeros((n_frames, 3), np.float32)
    amps = (2.0, 1.2, 0.8)
    for ax in range(3):
        for f in (0.11, 0.23, 0.41):
            f2 = f * rng.uniform(0.8, 1.25)
            out[:, ax] += amps[ax] / 3 * np.sin(2 * np.pi * f2 * phase_t + rng.uniform(0, 2 * np.pi))
    env = np.interp(t, np.arange(len(envelope)) * env_hop_s, envelope)
    # Stressed syllables: local maxima of loudness after a rise.
    d = np.diff(env, prepend=env[0])
    peaks = np.where((env > 0.6) & (np.roll(d, -1) <= 0) & (d > 0))[0]
    last = -10.0
    for i in peaks:
        if t[i] - last < 0.35:
            continue
        last = t[i]
        x = (t - t[i]) / 0.25
        out[:, 1] += 1.6 * env[i] * np.exp(-0.5 * ((x - 0.3) / 0.45) ** 2)
        out[:, 0] += 0.5 * env[i] * rng.choice([-1, 1]) * np.exp(-0.5 * ((x - 0.4) / 0.6) ** 2)
    sc = np.broadcast_to(np.asarray(scale, np.float32), (n_frames,))
    out *= sc[:, None]
    out[:, 1] += np.broadcast_to(np.asarray(pitch_offset, np.float32), (n_frames,))
    return out.astype(np.float32)
