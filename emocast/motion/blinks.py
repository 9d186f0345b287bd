"""Eye blinks: spontaneous blink timing and the lid-closure curve (AU43)."""
from __future__ import annotations

import numpy as np


def blink_curve(n_frames: int, fps: float, rng: np.random.Generator, rate_per_min: float = 17.0,
                speech: list[tuple[float, float]] | None = None, duration_s: float = 0.22) -> np.ndarray:
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

    Returns:
        ``float32 (n_frames,)``.
    """
    T = n_frames / fps
    mean = 60.0 / max(rate_per_min, 1.0)
    times = []
    t = rng.uniform(0.4, min(mean, 2.5))
    pauses = [(b, c) for (_, b), (c, _) in zip(speech[:-1], speech[1:])] if speech and len(speech) > 1 else []
    while t < T - 0.1:
        for a, b in pauses:
            if a - 0.6 <= t <= b + 0.6 and not a <= t <= b:
                t = (a + b) / 2
                break
        if not times or t - times[-1] >= 1.0:
            times.append(t)
        t += max(1.2, rng.gamma(4.0, mean / 4.0))
    curve = np.zeros(n_frames, np.float32)
    ft = (np.arange(n_frames) + 0.5) / fps
    close, open_ = duration_s * 0.35, duration_s * 0.65
    for t0 in times:
        x = ft - t0
        c = np.where(x < 0, np.clip(1 + x / close, 0, 1), np.clip(1 - x / open_, 0, 1))
        curve = np.maximum(curve, np.sin(np.pi / 2 * c) ** 1.5)
    return curve
