"""Step 5 of a segment: the lip-sync filter (paper Sec. 3.3 filters ETTH with SyncNet).

With SyncNet weights (``cfg.syncnet``) the offset and LSE-C come from SyncNet
(:mod:`emocast.evaluate.syncnet`); without them from the package's own judge: the Face Mesh inner-lip
aperture cross-correlated with the audio's log-mel frames at every lag
(:func:`emocast.evaluate.lipsync.av_offset`). A small constant offset is repaired by shifting the audio;
a larger one, or a weak sync peak, rejects the segment.
"""
from __future__ import annotations

import functools
import os

import numpy as np

from ..evaluate.lipsync import FROZEN_RANGE, MAX_LAG_S, av_offset, log_mel_frames
from ..media.audio import load_audio
from .config import DatasetConfig
from .normalise import CLIP_AUDIO, CLIP_VIDEO
from .track import mesh_aperture, segment_landmarks

OWN_JUDGE = "aperture-logmel"
SYNCNET = "syncnet"


def segment_audio(wav: np.ndarray, start: int, end: int, shift: int, cfg: DatasetConfig) -> np.ndarray:
    """Samples of frames ``[start, end)`` with the audio taken ``shift`` frames later (positive ``shift``:
    the source's audio lagged its video); silence where that runs past the clip."""
    spf = cfg.sample_rate // cfg.fps
    a, b = (start + shift) * spf, (end + shift) * spf
    out = np.zeros(b - a, np.float32)
    lo, hi = max(a, 0), min(b, len(wav))
    if hi > lo:
        out[lo - a:hi - a] = wav[lo:hi]
    return out


def own_offset(aperture: np.ndarray, wav: np.ndarray, cfg: DatasetConfig) -> tuple[float | None, float]:
    """``(offset_frames, confidence)`` from the package's judge, less its reading on in-sync speech
    (``cfg.judge_lead_frames``): positive offset = audio lags video; confidence = peak minus median of the lag curve (``nan`` when the mouth does not move)."""
    n = len(aperture)
    max_lag = int(min(round(MAX_LAG_S * cfg.fps), (n - 11) // 2))
    if max_lag < 2 or not np.isfinite(aperture).all():
        return None, float("nan")
    if np.percentile(aperture, 95) - np.percentile(aperture, 5) < FROZEN_RANGE:
        return None, float("nan")  # a still mouth: landmark jitter would correlate with anything
    feats = log_mel_frames(wav, n, cfg.fps, cfg.sample_rate)
    offset, curve = av_offset(aperture, feats, max_lag)
    if offset is None:
        return None, float("nan")
    return float(offset) - cfg.judge_lead_frames, float(np.nanmax(curve) - np.nanmedian(curve))


@functools.cache
def _syncnet(path: str):
    from ..evaluate.syncnet import load_syncnet

    return load_syncnet(path)


def syncnet_offset(folder: str, start: int, end: int, lms: np.ndarray, wav: np.ndarray,
                   cfg: DatasetConfig) -> tuple[float | None, float]:
    """``(offset_frames, lse_c)`` from SyncNet, offset in this module's sign (audio lags video > 0)."""
    from ..evaluate.syncnet import face_crops, lse
    from ..media.video import iter_frames

    frames = np.stack([f for _, f in iter_frames(os.path.join(folder, CLIP_VIDEO), start, end)])
    pts = lms[..., :2]
    boxes = np.stack([pts[..., 0].min(1), pts[..., 1].min(1), pts[..., 0].max(1), pts[..., 1].max(1)], 1)
    r = lse(_syncnet(cfg.syncnet), face_crops(frames, boxes), wav, cfg.sample_rate)
    return -float(r["syncnet_offset"]), float(r["lse_c"])


def measure(folder: str, start: int, end: int, shift: int, cfg: DatasetConfig) -> tuple[float | None, float]:
    """Offset and confidence of frames ``[start, end)`` with the audio shifted by ``shift`` frames."""
    wav = load_audio(os.path.join(folder, CLIP_AUDIO), sr=cfg.sample_rate, check_silence=False)
    seg = segment_audio(wav, start, end, shift, cfg)
    lms = segment_landmarks(folder, start, end)
    if cfg.syncnet:
        return syncnet_offset(folder, start, end, lms, seg, cfg)
    return own_offset(mesh_aperture(lms), seg, cfg)


def sync_filter(folder: str, start: int, end: int, cfg: DatasetConfig) -> dict:
    """Judge a segment's lip sync and decide: keep, repair (shift the audio) or reject.

    Returns:
        ``{"method", "offset_frames", "confidence", "shift_frames", "offset_after"}`` plus
        ``"rejected": reason`` when the segment fails; ``method`` is ``"off"`` when the filter is off.
    """
    if cfg.sync == "off":
        return {"method": "off", "offset_frames": None, "confidence": None, "shift_frames": 0}
    method = SYNCNET if cfg.syncnet else OWN_JUDGE
    offset, conf = measure(folder, start, end, 0, cfg)
    out = {"method": method, "offset_frames": None if offset is None else round(offset, 2),
           "confidence": None if not np.isfinite(conf) else round(conf, 4), "shift_frames": 0}
    if offset is None or not np.isfinite(conf):
        out["rejected"] = "lip sync: the mouth does not move with the audio"
    elif conf < cfg.min_sync_confidence:
        out["rejected"] = f"lip sync: weak audio-visual correlation (confidence {conf:.3f} < {cfg.min_sync_confidence:g})"
    elif abs(offset) > cfg.max_repair and abs(offset) > cfg.sync_tolerance:
        out["rejected"] = f"lip sync: audio-visual offset {offset:+.1f} frames (repair limit {cfg.max_repair:g})"
    elif abs(offset) > cfg.sync_tolerance:
        out["shift_frames"] = int(round(offset))
        after, _ = measure(folder, start, end, out["shift_frames"], cfg)
        out["offset_after"] = None if after is None else round(after, 2)
    return out
