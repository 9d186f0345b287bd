"""Speech to mouth motion: phonemes -> viseme targets -> smooth per-frame mouth action units.

Each ARPAbet phone has a mouth target over the mouth AUs (jaw drop AU26, lips part AU25, stretch AU20,
pucker AU18, press AU24, upper lip raise AU10). Targets are laid out at 100 Hz, blended with a
Gaussian kernel (coarticulation: neighbouring phones shape each other; Cohen & Massaro 1993 in its
simplest form), scaled by loudness, then bilabials (p/b/m) force the lips shut and silence relaxes
them, so closures are never smoothed away. The tuned gains and limits are the fields of :class:`VisemeConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..speech.analyse import SpeechAnalysis
from ..speech.phonemes import BILABIALS

MOUTH_AUS = ("AU26", "AU25", "AU20", "AU18", "AU24", "AU10")

# phone -> (jaw AU26, lips part AU25, stretch AU20, pucker AU18, press AU24, upper lip AU10)
_T = {
    "SIL": (0, 0, 0, 0, 0, 0),
    "P": (0, 0, 0, 0, 0.5, 0), "B": (0, 0, 0, 0, 0.4, 0), "M": (0, 0, 0, 0, 0.3, 0),
    "F": (0.08, 0.35, 0.1, 0, 0, 0.45), "V": (0.08, 0.35, 0.1, 0, 0, 0.45),
    "TH": (0.2, 0.6, 0.15, 0, 0, 0.1), "DH": (0.2, 0.6, 0.15, 0, 0, 0.1),
    "T": (0.18, 0.6, 0.2, 0, 0, 0.05), "D": (0.2, 0.6, 0.2, 0, 0, 0.05), "N": (0.18, 0.55, 0.15, 0, 0, 0),
    "L": (0.25, 0.6, 0.1, 0, 0, 0), "S": (0.1, 0.55, 0.35, 0, 0, 0.1), "Z": (0.1, 0.55, 0.35, 0, 0, 0.1),
    "K": (0.3, 0.6, 0.1, 0, 0, 0), "G": (0.3, 0.6, 0.1, 0, 0, 0), "NG": (0.25, 0.5, 0.1, 0, 0, 0),
    "HH": (0.4, 0.7, 0, 0, 0, 0), "Y": (0.2, 0.6, 0.4, 0, 0, 0),
    "CH": (0.15, 0.55, 0, 0.6, 0, 0.15), "JH": (0.15, 0.55, 0, 0.6, 0, 0.15),
    "SH": (0.15, 0.55, 0, 0.65, 0, 0.15), "ZH": (0.15, 0.55, 0, 0.65, 0, 0.15),
    "R": (0.2, 0.45, 0, 0.5, 0, 0), "ER": (0.3, 0.55, 0, 0.45, 0, 0), "W": (0.1, 0.3, 0, 1.0, 0, 0),
    "AA": (0.95, 1, 0.1, 0, 0, 0.1), "AE": (0.8, 1, 0.35, 0, 0, 0.15), "AH": (0.6, 0.9, 0.1, 0, 0, 0.05),
    "AO": (0.75, 1, 0, 0.45, 0, 0), "AW": (0.8, 1, 0, 0.3, 0, 0.05), "AY": (0.8, 1, 0.2, 0, 0, 0.1),
    "EH": (0.5, 0.9, 0.4, 0, 0, 0.1), "EY": (0.45, 0.9, 0.45, 0, 0, 0.1), "IH": (0.3, 0.8, 0.5, 0, 0, 0.1),
    "IY": (0.25, 0.75, 0.65, 0, 0, 0.1), "OW": (0.55, 0.85, 0, 0.7, 0, 0), "OY": (0.6, 0.9, 0, 0.55, 0, 0),
    "UH": (0.3, 0.6, 0, 0.8, 0, 0), "UW": (0.25, 0.5, 0, 1.0, 0, 0),
}


def viseme_target(label: str) -> np.ndarray:
    """Mouth target ``float32 (6,)`` over :data:`MOUTH_AUS` for an ARPAbet phone (unknown ones: ``AH``)."""
    return np.asarray(_T.get(label, _T["AH"]), np.float32)


@dataclass(frozen=True)
class VisemeConfig:
    """Tuned constants of :func:`mouth_curves`.

    Activations are in AU units (0 rest, 1 full); loudness is the 0-1 envelope of
    :class:`~emocast.speech.analyse.SpeechAnalysis`; gains are unitless factors on an activation.
    """

    hop_s: float = 0.01
    """Time step (s) of the grid the phone targets are laid out on (100 Hz hops)."""
    jaw_gain_base: float = 0.45
    """Jaw (AU26) gain at silence (unitless): quiet speech barely moves the jaw."""
    jaw_gain_per_loudness: float = 0.9
    """Jaw (AU26) gain added per unit of loudness (unitless): loudness opens the jaw further."""
    jaw_gain_min: float = 0.3
    """Lowest jaw (AU26) gain (unitless)."""
    jaw_gain_max: float = 1.25
    """Highest jaw (AU26) gain (unitless)."""
    lips_gain_base: float = 0.6
    """Lips-part (AU25) gain at silence (unitless)."""
    lips_gain_per_loudness: float = 0.6
    """Lips-part (AU25) gain added per unit of loudness (unitless)."""
    lips_gain_min: float = 0.4
    """Lowest lips-part (AU25) gain (unitless)."""
    lips_gain_max: float = 1.1
    """Highest lips-part (AU25) gain (unitless)."""
    frame_subsamples: int = 4
    """Samples of the 100 Hz curves averaged per video frame, evenly spread over the frame's span (count)."""
    shut_spread_kernel: tuple[float, float, float] = (0.25, 0.5, 0.25)
    """Weights (unitless) over the previous, same and next frame that spread a bilabial closure to its neighbours."""
    shut_spread_gain: float = 0.6
    """How firmly (0-1, unitless) the spread closure shuts the frames next to a bilabial."""
    closure_press: float = 0.35
    """Least lip press (AU24 activation) on the frames a bilabial shuts."""
    max_activation: float = 1.2
    """Upper limit of the mouth activations (AU units)."""


VISEMES = VisemeConfig()
"""The default viseme constants."""


def mouth_curves(speech: SpeechAnalysis, n_frames: int, fps: float, amplitude: np.ndarray | float = 1.0,
                 smooth_s: np.ndarray | float = 0.035, config: VisemeConfig = VISEMES) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame mouth action units from phone timings and loudness.

    Args:
        speech: the analysed audio.
        n_frames: number of video frames.
        fps: frames per second.
        amplitude: speech motion gain, scalar or ``(n_frames,)`` (emotion: anger > 1, sadness < 1).
        smooth_s: coarticulation kernel sigma in seconds, scalar or ``(n_frames,)`` (sadness slower);
            one kernel serves the clip, of the mean width.
        config: tuned constants (:class:`VisemeConfig`).

    Returns:
        ``(curves, shut)``: ``float32 (n_frames, 6)`` activations over :data:`MOUTH_AUS` (the AU25/AU26
        columns are 0 on frames whose centre falls in a bilabial phone) and ``float32 (n_frames,)``,
        how firmly the lips must be shut on each frame (1 on bilabials).
    """
    c = config
    n = int(np.ceil(n_frames / fps / c.hop_s)) + 1
    tgt, bil = phone_grid(speech.phones, n, c.hop_s)
    env = np.interp(np.arange(n) * c.hop_s, np.arange(len(speech.envelope)) * speech.hop_s, speech.envelope)
    sm = articulate(tgt, env, float(np.mean(smooth_s)), c)
    frames = np.arange(n_frames)
    idx = frame_hops(frames, fps, n, c)
    amp = np.broadcast_to(np.asarray(amplitude, np.float32), (n_frames,))
    out = sm[idx].mean(1) * amp[:, None]
    closed = bilabial_closed(bil, frames, idx, fps, c)
    shut = np.maximum(closed, np.convolve(closed.astype(np.float32), c.shut_spread_kernel, mode="same") * c.shut_spread_gain)
    return close_lips(out, closed, shut, c), shut.astype(np.float32)


def phone_grid(phones, n: int, hop: float, offset_hops: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mouth targets and bilabial flags of phones laid out on a grid of ``n`` hops of ``hop`` seconds.

    Args:
        phones: :class:`~emocast.speech.phonemes.Phone` list (times in seconds), or
            ``(first_hop, end_hop, label)`` spans in hops.
        n: grid length, hops.
        hop: hop length, seconds.
        offset_hops: hop index of the grid's first row (hop spans are shifted by it).

    Returns:
        ``(targets float32 (n, 6), bilabial float32 (n,))``.
    """
    tgt = np.zeros((n, len(MOUTH_AUS)), np.float32)
    bil = np.zeros(n, np.float32)
    for p in phones:
        if isinstance(p, tuple):
            (a, b, label) = p
            a, b = a - offset_hops, b - offset_hops
        else:
            a, b, label = int(round(p.start / hop)), int(round(p.end / hop)), p.label
        a, b = max(a, 0), min(max(b, a + 1), n)
        if b <= a:
            continue
        tgt[a:b] = viseme_target(label)
        if label in BILABIALS or isinstance(p, tuple):  # a later span relabels a hop; phones only add closures
            bil[a:b] = 1.0 if label in BILABIALS else 0.0
    return tgt, bil


def articulate(tgt: np.ndarray, env: np.ndarray, sigma_s: float, config: VisemeConfig = VISEMES,
               radius: int | None = None) -> np.ndarray:
    """Coarticulation (a Gaussian blend of the targets over time, edge-padded) and loudness gains.

    Args:
        tgt: ``float32 (n, 6)`` targets on the hop grid.
        env: ``(n,)`` loudness in [0, 1] on the same grid.
        sigma_s: kernel sigma, seconds.
        config: tuned constants.
        radius: kernel half-width in hops (default ``ceil(3 sigma)``).

    Returns:
        ``float32 (n, 6)`` smoothed activations, jaw and lips scaled by loudness.
    """
    c = config
    k = _gauss_kernel(sigma_s / c.hop_s, radius)
    sm = np.stack([np.convolve(np.pad(tgt[:, j], len(k) // 2, mode="edge"), k, mode="valid")
                   for j in range(tgt.shape[1])], 1)
    # Loudness opens the jaw further; quiet speech barely moves it.
    sm[:, 0] *= np.clip(c.jaw_gain_base + c.jaw_gain_per_loudness * env, c.jaw_gain_min, c.jaw_gain_max)
    sm[:, 1] *= np.clip(c.lips_gain_base + c.lips_gain_per_loudness * env, c.lips_gain_min, c.lips_gain_max)
    return sm


def frame_hops(frames: np.ndarray, fps: float, n: int, config: VisemeConfig = VISEMES) -> np.ndarray:
    """Grid hops averaged into each video frame: ``int (len(frames), frame_subsamples)``, evenly spread
    over the frame's span and clipped to ``[0, n)``."""
    m, hop = config.frame_subsamples, config.hop_s
    idx = (np.asarray(frames)[:, None] / fps / hop + np.arange(m)[None, :] * (1 / fps / hop / m)).astype(int)
    return np.clip(idx, 0, n - 1)


def bilabial_closed(bil: np.ndarray, frames: np.ndarray, idx: np.ndarray, fps: float,
                    config: VisemeConfig = VISEMES, offset: int = 0) -> np.ndarray:
    """Frames a bilabial shuts: its phone covers the frame's centre or most of its span, ``float32 (F,)``.

    Args:
        bil: ``(n,)`` bilabial flags on the hop grid, row 0 being hop ``offset``.
        frames: ``(F,)`` frame numbers.
        idx: ``int (F, m)`` their hops (:func:`frame_hops`, absolute).
        fps: frames per second.
    """
    centre = ((np.asarray(frames) + 0.5) / fps / config.hop_s).astype(int) - offset
    centre = np.clip(centre, 0, len(bil) - 1)
    return np.maximum(bil[centre], bil[np.clip(idx - offset, 0, len(bil) - 1)].mean(1) >= 0.5).astype(np.float32)


def close_lips(out: np.ndarray, closed: np.ndarray, shut: np.ndarray, config: VisemeConfig = VISEMES) -> np.ndarray:
    """Shut the lips: jaw and lips-part scaled by ``1 - shut``, the press at least
    :attr:`VisemeConfig.closure_press` on closed frames; clipped to ``[0, max_activation]``."""
    out = out.copy()
    out[:, 0] *= 1 - shut
    out[:, 1] *= 1 - shut
    out[:, 4] = np.maximum(out[:, 4], closed * config.closure_press)
    return np.clip(out, 0.0, config.max_activation).astype(np.float32)


def _gauss_kernel(sigma: float, radius: int | None = None) -> np.ndarray:
    sigma = max(sigma, 0.5)
    r = int(np.ceil(3 * sigma)) if radius is None else min(int(radius), int(np.ceil(3 * sigma)))
    x = np.arange(-r, r + 1)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)
