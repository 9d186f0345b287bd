"""Acoustic features of speech: loudness envelope and pitch, at video frame rate or 100 Hz."""
from __future__ import annotations

import numpy as np


ROWS_PER_BLOCK = 2048
"""Analysis frames computed at once by :func:`frame_rms_db` (about 6 MB of float64 temporaries at
16 kHz), so 10 minutes of audio need no more memory than 20 seconds."""


def frame_rms_db(wav: np.ndarray, sr: int = 16000, hop_s: float = 0.01, win_s: float = 0.025) -> np.ndarray:
    """Short-time RMS level.

    Args:
        wav: ``float32 (n,)`` mono waveform.
        sr: sample rate in Hz.
        hop_s: hop between frames in seconds; frame ``i`` is centred at ``i * hop_s``.
        win_s: analysis window in seconds.

    Returns:
        ``float32 (ceil(n / (sr*hop_s)),)`` level in dBFS (floor -100).
    """
    hop = max(1, int(round(sr * hop_s)))
    win = max(hop, int(round(sr * win_s)))
    n_frames = int(np.ceil(len(wav) / hop))
    pad = np.pad(wav.astype(np.float64), (win // 2, win))
    window = np.hanning(win)
    rms = np.empty(n_frames, np.float64)
    for a in range(0, n_frames, ROWS_PER_BLOCK):  # blocks of frames: memory bounded on long audio
        b = min(a + ROWS_PER_BLOCK, n_frames)
        idx = np.arange(a, b)[:, None] * hop + np.arange(win)[None, :]
        seg = pad[idx] * window[None, :]
        rms[a:b] = np.sqrt((seg ** 2).sum(1) / (window ** 2).sum() + 1e-12)
    return np.maximum(20 * np.log10(rms + 1e-10), -100.0).astype(np.float32)


def loudness_envelope(wav: np.ndarray, sr: int = 16000, fps: float = 25.0) -> np.ndarray:
    """Speech loudness per video frame, normalised to [0, 1].

    The RMS level in dB is mapped linearly from the noise floor (10th percentile, at least 45 dB
    below the loud level) to the loud level (98th percentile); frame ``i`` covers
    ``[i/fps, (i+1)/fps)``.

    Args:
        wav: ``float32 (n,)`` mono waveform.
        sr: sample rate in Hz.
        fps: frames per second.

    Returns:
        ``float32 (n_frames,)`` with ``n_frames = ceil(len(wav) / sr * fps)``.
    """
    db = frame_rms_db(wav, sr, hop_s=0.01)
    n_frames = int(np.ceil(len(wav) / sr * fps))
    t = (np.arange(n_frames) + 0.5) / fps
    db_f = np.interp(t, np.arange(len(db)) * 0.01, db)
    hi = float(np.percentile(db, 98))
    lo = min(float(np.percentile(db, 10)), hi - 45.0)
    lo = max(lo, hi - 60.0)
    return np.clip((db_f - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)


def envelope_100hz(wav: np.ndarray, sr: int = 16000) -> np.ndarray:
    """:func:`loudness_envelope` at 100 Hz (10 ms hop)."""
    return loudness_envelope(wav, sr, fps=100.0)
