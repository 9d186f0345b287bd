"""Speech to mouth motion: phonemes -> viseme targets -> smooth per-frame mouth action units.

Each ARPAbet phone has a mouth target over the mouth AUs (jaw drop AU26, lips part AU25, stretch AU20,
pucker AU18, press AU24, upper lip raise AU10). Targets are laid out at 100 Hz, blended with a
Gaussian kernel (coarticulation: neighbouring phones shape each other; Cohen & Massaro 1993 in its
simplest form), scaled by loudness, then bilabials (p/b/m) force the lips shut and silence relaxes
them, so closures are never smoothed away.
"""
from __future__ import annotations

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


def mouth_curves(speech: SpeechAnalysis, n_frames: int, fps: float, amplitude: np.ndarray | float = 1.0,
                 smooth_s: np.ndarray | float = 0.035) -> np.ndarray:
    """Per-frame mouth action units from phone timings and loudness.

    Args:
        speech: the analysed audio.
        n_frames: number of video frames.
        fps: frames per second.
        amplitude: speech motion gain, scalar or ``(n_frames,)`` (emotion: anger > 1, sadness < 1).
        smooth_s: coarticulation kernel sigma in seconds, scalar or ``(n_frames,)`` (sadness slower);
            one kernel serves the clip, of the mean width.

    Returns:
        ``(curves, shut)``: ``float32 (n_frames, 6)`` activations over :data:`MOUTH_AUS` (the AU25/AU26
        columns are 0 on frames whose centre falls in a bilabial phone) and ``float32 (n_frames,)``,
        how firmly the lips must be shut on each frame (1 on bilabials).
    """
    hop = 0.01
    n = int(np.ceil(n_frames / fps / hop)) + 1
    tgt = np.zeros((n, len(MOUTH_AUS)), np.float32)
    bil = np.zeros(n, np.float32)
    t100 = np.arange(n) * hop
    for p in speech.phones:
        a, b = int(round(p.start / hop)), int(round(p.end / hop))
        a, b = max(a, 0), min(max(b, a + 1), n)
        tgt[a:b] = viseme_target(p.label)
        if p.label in BILABIALS:
            bil[a:b] = 1.0
    env = np.interp(t100, np.arange(len(speech.envelope)) * speech.hop_s, speech.envelope)
    # Coarticulation: a Gaussian blend of the targets.
    k = _gauss_kernel(float(np.mean(smooth_s)) / hop)
    sm = np.stack([np.convolve(np.pad(tgt[:, j], len(k) // 2, mode="edge"), k, mode="valid") for j in range(tgt.shape[1])], 1)
    # Loudness opens the jaw further; quiet speech barely moves it.
    gain = np.clip(0.45 + 0.9 * env, 0.3, 1.25)
    sm[:, 0] *= gain
    sm[:, 1] *= np.clip(0.6 + 0.6 * env, 0.4, 1.1)
    # Per video frame: average over the frame's span.
    idx = (np.arange(n_frames)[:, None] / fps / hop + np.arange(4)[None, :] * (1 / fps / hop / 4)).astype(int)
    idx = np.clip(idx, 0, n - 1)
    out = sm[idx].mean(1)
    amp = np.broadcast_to(np.asarray(amplitude, np.float32), (n_frames,))
    out *= amp[:, None]
    # Bilabials shut the lips on the frames they cover (sampled at the frame centre and its span).
    centre = np.clip(((np.arange(n_frames) + 0.5) / fps / hop).astype(int), 0, n - 1)
    closed = np.maximum(bil[centre], bil[idx].mean(1) >= 0.5)
    soft = np.convolve(closed.astype(np.float32), [0.25, 0.5, 0.25], mode="same")
    shut = np.maximum(closed, soft * 0.6)
    out[:, 0] *= 1 - shut
    out[:, 1] *= 1 - shut
    out[:, 4] = np.maximum(out[:, 4], closed * 0.35)
    return np.clip(out, 0.0, 1.2).astype(np.float32), shut.astype(np.float32)


def _gauss_kernel(sigma: float) -> np.ndarray:
    sigma = max(sigma, 0.5)
    r = int(np.ceil(3 * sigma))
    x = np.arange(-r, r + 1)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)
