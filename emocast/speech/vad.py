"""Voice activity detection with silero-vad's ONNX model, run by onnxruntime (no torch).

The model file ships in the ``silero-vad`` package (``silero_vad/data/silero_vad.onnx``); importing
that package would import torch (about 1.3 s of start-up), so the model is run here directly, the way
silero-vad's ``OnnxWrapper`` runs it (512-sample windows with 64 samples of context and the
recurrent state carried over), and speech spans are taken from the per-window probabilities with
silero-vad's ``get_speech_timestamps`` rules (hysteresis between ``threshold`` and
``threshold - 0.15``, minimum speech and silence lengths, padding), for an unbounded span length.
tests/test_speech.py checks that the spans equal silero-vad's own on real speech.
"""
from __future__ import annotations

import functools
import os

import numpy as np

from ..assets import package_dir

WINDOW = 512
"""Samples per model window at 16 kHz (silero-vad's fixed window)."""
CONTEXT = 64
"""Samples of the previous window the model sees before each window."""


@functools.lru_cache(maxsize=1)
def _session():
    import onnxruntime

    path = os.path.join(package_dir("silero_vad", "the 'silero-vad' package is not installed (pip install silero-vad)"),
                        "data", "silero_vad.onnx")
    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"], sess_options=opts)


class SileroStream:
    """silero-vad run on a stream: push samples in chunks of any size, get one probability per
    complete 512-sample window, the same as :func:`speech_probabilities` on the whole signal.

    Attributes:
        windows: windows scored so far (window ``i`` covers samples ``[512 i, 512 (i + 1))``).
    """

    def __init__(self):
        self._sess = _session()
        self._state = np.zeros((2, 1, 128), np.float32)
        self._context = np.zeros((1, CONTEXT), np.float32)
        self._pending = np.zeros(0, np.float32)
        self._sr = np.array(16000, dtype=np.int64)
        self.windows = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Score the complete windows ``samples`` finish.

        Args:
            samples: ``float32 (n,)`` mono at 16 kHz, following the previous push.

        Returns:
            ``float32 (k,)`` probabilities of the ``k`` windows completed by this push.
        """
        x = np.concatenate([self._pending, np.asarray(samples, np.float32).reshape(-1)])
        k = len(x) // WINDOW
        out = np.zeros(k, np.float32)
        for i in range(k):
            chunk = np.concatenate([self._context, x[None, i * WINDOW:(i + 1) * WINDOW]], 1)
            prob, self._state = self._sess.run(None, {"input": chunk, "state": self._state, "sr": self._sr})
            out[i] = prob.reshape(-1)[0]
            self._context = chunk[:, -CONTEXT:]
        self._pending = x[k * WINDOW:]
        self.windows += k
        return out


def speech_probabilities(wav: np.ndarray) -> np.ndarray:
    """Probability of speech in each 512-sample window of 16 kHz audio, ``float32 (ceil(n / 512),)``
    (the last window zero-padded)."""
    x = np.ascontiguousarray(wav, dtype=np.float32).reshape(-1)
    padded = np.zeros(-(-len(x) // WINDOW) * WINDOW, np.float32)
    padded[:len(x)] = x
    return SileroStream().push(padded)


def spans_from_probabilities(probs: np.ndarray, n_samples: int, sr: int = 16000, threshold: float = 0.5,
                             min_speech_ms: int = 250, min_silence_ms: int = 100,
                             pad_ms: int = 30) -> list[tuple[float, float]]:
    """Speech spans in seconds (rounded to 0.1 s, as silero-vad returns them) from window probabilities.

    Speech starts at a window at or above ``threshold`` and ends once probabilities stay below
    ``threshold - 0.15`` for ``min_silence_ms``; spans shorter than ``min_speech_ms`` are dropped and
    the rest padded by ``pad_ms`` (or split the gap between two close spans). Durations are in
    milliseconds, converted to samples as silero-vad does.
    """
    min_speech, pad, min_silence = sr * min_speech_ms / 1000, sr * pad_ms / 1000, sr * min_silence_ms / 1000
    neg = max(threshold - 0.15, 0.01)
    spans: list[list[float]] = []
    triggered, start, temp_end = False, 0, 0
    for i, p in enumerate(float(v) for v in probs):
        cur = WINDOW * i
        if p >= threshold and temp_end:
            temp_end = 0
        if p >= threshold and not triggered:
            triggered, start = True, cur
            continue
        if p < neg and triggered:
            if not temp_end:
                temp_end = cur
            if cur - temp_end < min_silence:
                continue
            if temp_end - start > min_speech:
                spans.append([start, temp_end])
            triggered, temp_end = False, 0
    if triggered and n_samples - start > min_speech:
        spans.append([start, n_samples])
    for i, s in enumerate(spans):
        if i == 0:
            s[0] = int(max(0, s[0] - pad))
        if i != len(spans) - 1:
            gap = spans[i + 1][0] - s[1]
            if gap < 2 * pad:
                s[1] += int(gap // 2)
                spans[i + 1][0] = int(max(0, spans[i + 1][0] - gap // 2))
            else:
                s[1] = int(min(n_samples, s[1] + pad))
                spans[i + 1][0] = int(max(0, spans[i + 1][0] - pad))
        else:
            s[1] = int(min(n_samples, s[1] + pad))
    length = n_samples / sr
    return [(float(max(round(a / sr, 1), 0)), float(min(round(b / sr, 1), length))) for a, b in spans]


def speech_segments(wav: np.ndarray, sr: int = 16000, min_silence_s: float = 0.15) -> list[tuple[float, float]]:
    """Spans of speech.

    Args:
        wav: ``float32 (n,)`` mono waveform at 16 kHz.
        sr: sample rate in Hz (16000).
        min_silence_s: pauses shorter than this are bridged.

    Returns:
        ``[(start_s, end_s), ...]`` in time order, seconds (0.1 s resolution).

    Raises:
        ValueError: a sample rate other than 16 kHz.
    """
    if sr != 16000:
        raise ValueError(f"voice activity needs 16 kHz audio, got {sr} Hz")
    wav = np.asarray(wav, np.float32).reshape(-1)
    return spans_from_probabilities(speech_probabilities(wav), len(wav), sr, min_silence_ms=int(min_silence_s * 1000))


def activity(segments: list[tuple[float, float]], n_frames: int, fps: float) -> np.ndarray:
    """Per-frame voice activity (``float32 (n_frames,)``, 1 inside a speech segment, else 0)."""
    t = (np.arange(n_frames) + 0.5) / fps
    out = np.zeros(n_frames, np.float32)
    for a, b in segments:
        out[(t >= a) & (t < b)] = 1.0
    return out
