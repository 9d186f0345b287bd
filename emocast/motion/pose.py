"""Head motion: slow drift plus nods on stressed syllables, scaled by emotion and the user.

The drift's amplitudes and frequencies and the nods' shape are the fields of :class:`PoseConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PoseConfig:
    """Tuned constants of :func:`head_pose`.

    Angles are in degrees, frequencies in Hz, times in seconds; the nods' centres and widths are in
    units of :attr:`nod_time_s` after the loudness peak.
    """

    drift_amplitude_deg: tuple[float, float, float] = (2.0, 1.2, 0.8)
    """Drift amplitude (degrees) of yaw, pitch and roll, shared evenly by the drift sinusoids (about 2°)."""
    drift_hz: tuple[float, ...] = (0.11, 0.23, 0.41)
    """Base frequencies (Hz) of the drift sinusoids summed on each axis (slow: 0.1-0.5 Hz)."""
    drift_jitter_min: float = 0.8
    """Lowest random factor (unitless) on each drift frequency."""
    drift_jitter_max: float = 1.25
    """Highest random factor (unitless) on each drift frequency."""
    stress_loudness: float = 0.6
    """Loudness (envelope, 0-1) a loudness peak must exceed to count as a stressed syllable."""
    nod_min_gap_s: float = 0.35
    """Least time (s) between two nods; a stressed syllable closer to the last nod gets none."""
    nod_time_s: float = 0.25
    """Time unit (s) of a nod's shape (a nod lasts ~250 ms)."""
    nod_pitch_deg: float = 1.6
    """Pitch (degrees, chin down) of a nod on a peak of loudness 1."""
    nod_pitch_centre: float = 0.3
    """Centre of the nod's pitch bump after the peak (units of :attr:`nod_time_s`)."""
    nod_pitch_width: float = 0.45
    """Standard deviation of the nod's pitch bump (units of :attr:`nod_time_s`)."""
    nod_yaw_deg: float = 0.5
    """Yaw (degrees, to a random side) that goes with a nod on a peak of loudness 1."""
    nod_yaw_centre: float = 0.4
    """Centre of the nod's yaw bump after the peak (units of :attr:`nod_time_s`)."""
    nod_yaw_width: float = 0.6
    """Standard deviation of the nod's yaw bump (units of :attr:`nod_time_s`)."""


POSE = PoseConfig()
"""The default head-motion constants."""


def head_pose(n_frames: int, fps: float, envelope: np.ndarray, env_hop_s: float, rng: np.random.Generator,
              scale: float | np.ndarray = 1.0, speed: float | np.ndarray = 1.0,
              pitch_offset: float | np.ndarray = 0.0, config: PoseConfig = POSE) -> np.ndarray:
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
        config: tuned constants (:class:`PoseConfig`).

    Returns:
        ``float32 (n_frames, 3)``: yaw, pitch, roll in degrees (pitch positive = chin down).
    """
    c = config
    t = np.arange(n_frames) / fps
    sp = np.broadcast_to(np.asarray(speed, np.float32), (n_frames,))
    out = drift(np.cumsum(sp) / fps, *drift_sinusoids(rng, c), c)
    env = np.interp(t, np.arange(len(envelope)) * env_hop_s, envelope)
    # Stressed syllables: local maxima of loudness after a rise.
    d = np.diff(env, prepend=env[0])
    peaks = np.where((env > c.stress_loudness) & (np.roll(d, -1) <= 0) & (d > 0))[0]
    last = -np.inf
    for i in peaks:
        if t[i] - last < c.nod_min_gap_s:
            continue
        last = t[i]
        out += nod(t - t[i], env[i], rng.choice([-1, 1]), c)
    sc = np.broadcast_to(np.asarray(scale, np.float32), (n_frames,))
    out *= sc[:, None]
    out[:, 1] += np.broadcast_to(np.asarray(pitch_offset, np.float32), (n_frames,))
    return out.astype(np.float32)


def drift_sinusoids(rng: np.random.Generator, config: PoseConfig = POSE) -> tuple[np.ndarray, np.ndarray]:
    """Random frequencies (Hz) and phases (radians) of the drift sinusoids, each ``float64 (3, n)``
    (yaw, pitch, roll by :attr:`PoseConfig.drift_hz`), drawn in a fixed order from ``rng``."""
    c = config
    freqs = np.zeros((3, len(c.drift_hz)))
    phases = np.zeros_like(freqs)
    for ax in range(3):
        for j, f in enumerate(c.drift_hz):
            freqs[ax, j] = f * rng.uniform(c.drift_jitter_min, c.drift_jitter_max)
            phases[ax, j] = rng.uniform(0, 2 * np.pi)
    return freqs, phases


def drift(phase_t: np.ndarray, freqs: np.ndarray, phases: np.ndarray, config: PoseConfig = POSE) -> np.ndarray:
    """Slow head drift ``float32 (T, 3)`` in degrees at drift times ``phase_t (T,)`` (seconds, scaled by tempo)."""
    amps = config.drift_amplitude_deg
    out = np.zeros((len(phase_t), 3), np.float32)
    for ax in range(3):
        for f, ph in zip(freqs[ax], phases[ax]):
            out[:, ax] += amps[ax] / freqs.shape[1] * np.sin(2 * np.pi * float(f) * phase_t + float(ph))
    return out


def nod(dt: np.ndarray, loudness: float, side: int, config: PoseConfig = POSE) -> np.ndarray:
    """One nod, ``float64 (T, 3)`` degrees at times ``dt (T,)`` seconds after a stressed syllable of
    ``loudness`` (0-1): pitch down and back, with a little yaw to ``side`` (-1 or 1)."""
    c = config
    x = np.asarray(dt, np.float64) / c.nod_time_s
    out = np.zeros((len(x), 3))
    out[:, 1] = c.nod_pitch_deg * loudness * np.exp(-0.5 * ((x - c.nod_pitch_centre) / c.nod_pitch_width) ** 2)
    out[:, 0] = c.nod_yaw_deg * loudness * side * np.exp(-0.5 * ((x - c.nod_yaw_centre) / c.nod_yaw_width) ** 2)
    return out
