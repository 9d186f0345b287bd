"""Eye blinks: spontaneous blink timing and the lid-closure curve (AU43).

The timing rules and the lid's travel are the fields of :class:`BlinkConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlinkConfig:
    """Tuned constants of :func:`blink_curve` (times in seconds, shares and exponents unitless)."""

    first_min_s: float = 0.4
    """Earliest time (s) of the first blink."""
    first_max_s: float = 2.5
    """Latest time (s) of the first blink (sooner when the mean interval is shorter)."""
    end_margin_s: float = 0.1
    """No blink starts in this last stretch (s) of the clip."""
    pause_snap_s: float = 0.6
    """A blink in speech this close (s) to a pause moves to the pause's middle (people blink at phrase boundaries)."""
    min_separation_s: float = 1.0
    """Least time (s) between two blinks; one moved closer than this to the previous one is dropped."""
    min_interval_s: float = 1.2
    """Shortest drawn inter-blink interval (s)."""
    interval_shape: float = 4.0
    """Shape of the gamma distribution of the intervals (unitless; its scale is mean / shape, keeping the mean)."""
    closing_share: float = 0.35
    """Share of a blink's duration spent closing (unitless): blinks close fast (about 1/3) ..."""
    opening_share: float = 0.65
    """... and open slower (about 2/3; unitless share of the duration)."""
    lid_exponent: float = 1.5
    """Exponent on the sine-eased lid travel, closure = sin(pi/2 * progress) ** this (unitless)."""


BLINKS = BlinkConfig()
"""The default blink constants."""


def blink_curve(n_frames: int, fps: float, rng: np.random.Generator, rate_per_min: float = 17.0,
                speech: list[tuple[float, float]] | None = None, duration_s: float = 0.22,
                config: BlinkConfig = BLINKS) -> np.ndarray:
    """Lid closure per frame (0 open, 1 shut) with spontaneous blinks.

    Inter-blink intervals are gamma-distributed around ``60 / rate_per_min`` seconds (at least 1.2 s);
    a blink that falls in speech moves to the nearest pause within 0.6 s when there is one, since
    people tend to blink at phrase boundaries. Each blink closes fast and opens slower
    (≈ 1/3 closing, 2/3 opening; Kwon et al. 2013 report 100-400 ms).

    Args:
        n_frames: frames.
        fps: frames per second.
        rng: random generator (seeded for reproducible videos).
        rate_per_min: mean blinks per minute (people: 15-20 at rest).
        speech: voice-activity segments in seconds.
        duration_s: duration of one blink in seconds.
        config: tuned constants (:class:`BlinkConfig`).

    Returns:
        ``float32 (n_frames,)``.
    """
    c = config
    T = n_frames / fps
    mean = 60.0 / max(rate_per_min, 1.0)  # seconds per minute / blinks per minute
    times = []
    t = rng.uniform(c.first_min_s, min(mean, c.first_max_s))
    gaps = zip(speech[:-1], speech[1:]) if speech and len(speech) > 1 else []
    pauses = [(end, start) for (_, end), (start, _) in gaps]
    while t < T - c.end_margin_s:
        for a, b in pauses:
            if a - c.pause_snap_s <= t <= b + c.pause_snap_s and not a <= t <= b:
                t = (a + b) / 2
                break
        if not times or t - times[-1] >= c.min_separation_s:
            times.append(t)
        t += max(c.min_interval_s, rng.gamma(c.interval_shape, mean / c.interval_shape))
    return lid_closure((np.arange(n_frames) + 0.5) / fps, times, duration_s, config)


def lid_closure(t: np.ndarray, blink_times, duration_s: float = 0.22, config: BlinkConfig = BLINKS) -> np.ndarray:
    """Lid closure (0 open, 1 shut; float64 once a blink is in it) at times ``t`` (s, any shape) of blinks at ``blink_times`` (s):
    each closes over :attr:`BlinkConfig.closing_share` of ``duration_s`` and opens over the rest."""
    c = config
    curve = np.zeros(np.shape(t), np.float32)
    close, open_ = duration_s * c.closing_share, duration_s * c.opening_share
    for t0 in blink_times:
        x = t - t0
        p = np.where(x < 0, np.clip(1 + x / close, 0, 1), np.clip(1 - x / open_, 0, 1))
        curve = np.maximum(curve, np.sin(np.pi / 2 * p) ** c.lid_exponent)
    return curve
