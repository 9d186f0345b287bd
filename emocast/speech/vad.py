"""Voice activity detection with silero-vad (ONNX model bundled in the ``silero-vad`` package)."""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=1)
def _model():
    from silero_vad import load_silero_vad

    return load_silero_vad(onnx=True)


def speech_segments(wav: np.ndarray, sr: int = 16000, min_silence_s: float = 0.15) -> list[tuple[float, float]]:
    """Spans of speech.

    Args:
        wav: ``float32 (n,)`` mono waveform at 16 kHz (8 kHz also accepted by silero-vad).
        sr: sample rate in Hz.
        min_silence_s: pauses shorter than this are bridged.

    Returns:
        ``[(start_s, end_s), ...]`` in time order.
    """
    import torch
    from silero_vad import get_speech_timestamps

    ts = get_speech_timestamps(torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32)), _model(),
                               sampling_rate=sr, min_silence_duration_ms=int(min_silence_s * 1000),
                               speech_pad_ms=30, return_seconds=True)
    return [(float(t["start"]), float(t["end"])) for t in ts]


def activity(segments: list[tuple[float, float]], n_frames: int, fps: float) -> np.ndarray:
    """Per-frame voice activity (``float32 (n_frames,)``, 1 inside a speech segment, else 0)."""
    t = (np.arange(n_frames) + 0.5) / fps
    out = np.zeros(n_frames, np.float32)
    for a, b in segments:
        out[(t >= a) & (t < b)] = 1.0
    return out
