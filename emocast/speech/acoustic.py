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
    rms = np.empty(n_frames, np.float64)
    for a in range(0, n_frames, ROWS_PER_BLOCK):  # blocks of frames: memory bounded on long audio
        b = min(a + ROWS_PER_BLOCK, n_frames)
        rms[a:b] = _window_rms(pad, a, b, hop, win)
    return _to_db(rms)


def _window_rms(padded: np.ndarray, a: int, b: int, hop: int, win: int) -> np.ndarray:
    """Hann-windowed RMS of frames ``a..b-1`` of ``padded`` (frame ``i`` starts at sample ``i * hop``)."""
    window = np.hanning(win)
    idx = np.arange(a, b)[:, None] * hop + np.arange(win)[None, :]
    seg = padded[idx] * window[None, :]
    return np.sqrt((seg ** 2).sum(1) / (window ** 2).sum() + 1e-12)


def _to_db(rms: np.ndarray) -> np.ndarray:
    return np.maximum(20 * np.log10(rms + 1e-10), -100.0).astype(np.float32)


def _level_range(db: np.ndarray | float, hi: float) -> tuple[float, float]:
    """``(lo, hi)`` of the loudness map: the noise floor ``lo`` (``db``'s 10th percentile, or ``db``
    itself when it is that percentile already) held 45-60 dB below the loud level ``hi``."""
    lo = min(float(np.percentile(db, 10)) if np.ndim(db) else float(db), hi - 45.0)
    return max(lo, hi - 60.0), hi


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
    lo, hi = _level_range(db, float(np.percentile(db, 98)))
    return np.clip((db_f - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)


def envelope_100hz(wav: np.ndarray, sr: int = 16000) -> np.ndarray:
    """:func:`loudness_envelope` at 100 Hz (10 ms hop)."""
    return loudness_envelope(wav, sr, fps=100.0)


class RunningLoudness:
    """:func:`envelope_100hz` on a stream, causally: the same 25 ms Hann-window levels at 10 ms hops,
    mapped to [0, 1] between a noise floor and a loud level read from the levels heard so far
    (the 10th and 98th percentiles of a histogram whose counts fade with ``memory_s``) instead of the
    whole clip's.

    Args:
        sr: sample rate in Hz (16000).
        memory_s: time constant (s) over which old levels fade from the histogram, so a speaker who
            gets louder or quieter is followed within about that long.
        prior_db: loud level (dBFS) assumed before any speech is heard ...
        prior_s: ... with the weight of this many seconds of levels (small: real speech takes over
            within a few seconds).

    Attributes:
        hops: levels computed so far (hop ``i`` is centred on sample ``160 i``).
    """

    BIN_DB = 0.5
    """Histogram bin width, dB."""

    def __init__(self, sr: int = 16000, memory_s: float = 30.0, prior_db: float = -20.0, prior_s: float = 0.1):
        self.hop, self.win = sr // 100, int(round(sr * 0.025))
        self._decay = float(np.exp(-0.01 / memory_s))
        self._hist = np.zeros(int(100 / self.BIN_DB) + 1, np.float64)
        self._hist[self._bin(prior_db)] = prior_s * 100
        self._hist[0] = prior_s * 100
        self._buf = np.zeros(self.win // 2, np.float64)  # the zero padding frame_rms_db puts before sample 0
        self._buf_start = -(self.win // 2)
        self.hops = 0

    def _bin(self, db: float) -> int:
        return int(np.clip(round((db + 100.0) / self.BIN_DB), 0, len(self._hist) - 1))

    def _percentile(self, q: float) -> float:
        c = np.cumsum(self._hist)
        return float(np.searchsorted(c, q / 100 * c[-1]) * self.BIN_DB - 100.0)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Loudness of the hops whose windows ``samples`` complete.

        Args:
            samples: ``float32 (n,)`` mono, following the previous push.

        Returns:
            ``float32 (k,)`` loudness in [0, 1] of the next ``k`` hops.
        """
        self._buf = np.concatenate([self._buf, np.asarray(samples, np.float64).reshape(-1)])
        # hop i needs samples up to 160 i + win/2 (exclusive of the window's far end: win samples from 160 i - win/2)
        first = self.hops
        last = (self._buf_start + len(self._buf) - self.win + self.win // 2) // self.hop  # inclusive
        if last < first:
            return np.zeros(0, np.float32)
        offset = first * self.hop - self.win // 2 - self._buf_start
        rms = _window_rms(self._buf[offset:], 0, last - first + 1, self.hop, self.win)
        out = np.zeros(len(rms), np.float32)
        for i, db in enumerate(_to_db(rms)):
            self._hist *= self._decay
            self._hist[self._bin(float(db))] += 1.0
            lo, hi = _level_range(self._percentile(10), self._percentile(98))
            out[i] = np.clip((db - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
        self.hops = last + 1
        keep = self.hops * self.hop - self.win // 2 - self._buf_start
        self._buf, self._buf_start = self._buf[keep:], self._buf_start + keep
        return out
