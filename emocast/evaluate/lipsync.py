"""Lip-sync judge: mouth aperture from dlib's 68 landmarks against the input audio.

The CPU engine warps the portrait with mediapipe's face mesh; this judge measures the mouth with a
different model (dlib's iBUG 68-point shape predictor), so it does not grade the generator with its
own yardstick.

Figures (see :func:`judge_lip_sync`):

- **aperture**: mean vertical gap of the three inner-lip point pairs (61-67, 62-66, 63-65) divided by
  the outer-eye-corner distance (36-45), per frame. Closed lips read < :data:`CLOSED_BELOW`, clearly
  open lips > :data:`OPEN_ABOVE` (measured on a real HDTF talking-face clip: 5th-95th percentile
  0.01-0.23).
- **bilabial closure / open vowels**: with phoneme timings of the input audio, the share of p/b/m
  phones during which the lips close, and of open-vowel phones (AA AE AO AW AY) during which they open.
- **envelope correlation**: Pearson correlation of aperture with the speech loudness envelope at lag 0.
- **offset**: audio-visual offset in frames. For each lag a cross-validated ridge regression predicts
  the aperture from 24 log-mel bands of the audio shifted by that lag, and the lag whose prediction
  correlates best with the aperture wins (the linear audio-to-face mapping of Slaney & Covell,
  *FaceSync*, NIPS 2000, cross-correlated over lags as SyncNet does with its embeddings, Chung &
  Zisserman, ACCV-W 2016). A plain loudness envelope is a weak predictor of aperture on real speech
  (mouths open in pauses, close on loud /m/), so the spectrum is used instead.

  **Sign**: ``offset_frames > 0`` means the audio lags the video (a sound comes that many frames
  after the mouth movement that matches it); delaying the audio track by n frames adds n. (SyncNet's
  own "AV offset" uses the opposite sign.) A real talking face reads about +3 frames here: lips and
  jaw reach a vowel's opening before its sound peaks (anticipatory articulation), so a zero offset
  is not what natural speech gives on this measure; the judge has no lag of its own (a planted lag
  is recovered exactly, see the tests).
"""
from __future__ import annotations

import numpy as np

from . import dlib_face

JUDGE_NAME = "dlib 68-point inner-lip aperture vs audio (log-mel ridge cross-correlation)"
CLOSED_BELOW = 0.05
"""Aperture (inner-lip gap / outer-eye-corner distance) below which the lips count as closed."""
OPEN_ABOVE = 0.10
"""Aperture above which the lips count as open."""
FROZEN_RANGE = 0.02
"""A mouth whose aperture 5th-95th percentile range is below this never moves (flagged)."""
MAX_LAG_S = 0.6
"""Offsets are searched within +-0.6 s (15 frames at 25 fps, SyncNet's ``vshift``)."""
N_MELS = 24


def mouth_aperture(landmarks: np.ndarray, lip_pairs=dlib_face.INNER_LIP_PAIRS,
                   eye_corners=(dlib_face.RIGHT_EYE_OUTER, dlib_face.LEFT_EYE_OUTER)) -> np.ndarray:
    """Inner-lip aperture per frame.

    Args:
        landmarks: ``float32 (T, N, 2|3)`` landmarks in pixels (NaN rows where no face); dlib's 68 by
            default.
        lip_pairs: (upper, lower) inner-lip point pairs of that landmark set.
        eye_corners: its two outer eye corners.

    Returns:
        ``float32 (T,)``: mean gap of the inner-lip pairs / outer-eye-corner distance
        (dimensionless; NaN without a face).
    """
    lm = np.asarray(landmarks, np.float64)[..., :2]
    gaps = [np.linalg.norm(lm[:, a] - lm[:, b], axis=1) for a, b in lip_pairs]
    iod = np.linalg.norm(lm[:, eye_corners[0]] - lm[:, eye_corners[1]], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.mean(gaps, axis=0) / iod).astype(np.float32)


def fill_gaps(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN entries of a 1-D series (edges hold the nearest value)."""
    x = np.asarray(x, np.float64).copy()
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return x
    i = np.arange(len(x))
    x[~ok] = np.interp(i[~ok], i[ok], x[ok])
    return x


def log_mel_frames(wav: np.ndarray, n_frames: int, fps: float, sr: int = 16000, n_mels: int = N_MELS) -> np.ndarray:
    """Log-mel spectrum per video frame; frame ``i`` covers ``[i/fps, (i+1)/fps)`` (the convention of
    :func:`emocast.speech.acoustic.loudness_envelope` and of SyncNet's audio windows).

    Args:
        wav: ``float32`` mono waveform at ``sr`` Hz.
        n_frames: number of video frames.
        fps: video frame rate.

    Returns:
        ``float64 (n_frames, n_mels)`` log power in 24 triangular mel bands 80-7600 Hz (25 ms
        Hann windows every 10 ms whose centres fall in the frame's span, averaged; frames past the
        end of the audio read as silence).
    """
    wav = np.asarray(wav, np.float64)
    hop, win, nfft = sr // 100, int(0.025 * sr), 512
    total = int(np.ceil((n_frames / fps + 0.1) * sr))
    x = np.zeros(max(total, len(wav)) + nfft)
    x[: len(wav)] = wav
    n_stft = (len(x) - win) // hop + 1
    idx = np.arange(win)[None, :] + hop * np.arange(n_stft)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(win), nfft)) ** 2
    freqs = np.fft.rfftfreq(nfft, 1 / sr)
    mel = lambda f: 2595 * np.log10(1 + f / 700)  # noqa: E731
    imel = lambda m: 700 * (10 ** (m / 2595) - 1)  # noqa: E731
    edges = imel(np.linspace(mel(80), mel(7600), n_mels + 2))
    fb = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lo, c, hi = edges[i:i + 3]
        fb[i] = np.clip(np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)), 0, None)
    logmel = np.log(spec @ fb.T + 1e-10)
    centres = (np.arange(n_stft) * hop + win / 2) / sr
    out = np.empty((n_frames, n_mels))
    for i in range(n_frames):
        t0, t1 = i / fps, (i + 1) / fps
        sel = (centres >= t0) & (centres < t1)
        out[i] = logmel[sel].mean(0) if sel.any() else logmel[np.argmin(np.abs(centres - (i + 0.5) / fps))]
    return out


def _cv_ridge_corr(y: np.ndarray, X: np.ndarray, lam: float = 10.0, n_folds: int = 5) -> float:
    """Correlation of ``y`` with its cross-validated ridge prediction from ``X`` (contiguous folds)."""
    m = len(y)
    if m < 2 * n_folds or np.std(y) < 1e-9:
        return float("nan")
    pred = np.empty(m)
    for fold in np.array_split(np.arange(m), n_folds):
        train = np.ones(m, bool)
        train[fold] = False
        mu, sd = X[train].mean(0), X[train].std(0) + 1e-6
        Z = (X[train] - mu) / sd
        ym = y[train].mean()
        w = np.linalg.solve(Z.T @ Z + lam * np.eye(Z.shape[1]), Z.T @ (y[train] - ym))
        pred[fold] = ((X[fold] - mu) / sd) @ w + ym
    if np.std(pred) < 1e-12:
        return float("nan")
    return float(np.corrcoef(pred, y)[0, 1])


def av_offset(aperture: np.ndarray, audio_feats: np.ndarray, max_lag: int) -> tuple[float | None, np.ndarray]:
    """Audio-visual offset by cross-correlating the aperture with its audio prediction at each lag.

    Every lag is scored on the same video frames ``max_lag .. T-max_lag-1`` (frame ``t`` against
    audio features at ``t + lag``), so shifting the audio by n frames shifts the curve by exactly n.

    Args:
        aperture: ``(T,)`` mouth aperture per frame (no NaN).
        audio_feats: ``(T, F)`` audio features per frame (e.g. :func:`log_mel_frames`).
        max_lag: largest lag searched, frames (``T > 2*max_lag + 10`` is needed).

    Returns:
        ``(offset, curve)``: the best lag in frames, refined to a fraction of a frame by a parabola
        through the peak and its neighbours (positive = audio lags video), or ``None`` when no lag
        gives a finite correlation; ``curve`` is ``float64 (2*max_lag+1,)`` correlations for lags
        ``-max_lag..max_lag``.
    """
    y = np.asarray(aperture, np.float64)
    t = np.arange(max_lag, len(y) - max_lag)
    curve = np.array([_cv_ridge_corr(y[t], audio_feats[t + k]) for k in range(-max_lag, max_lag + 1)])
    if not np.isfinite(curve).any():
        return None, curve
    k = int(np.nanargmax(curve))
    frac = 0.0
    if 0 < k < len(curve) - 1 and np.isfinite(curve[k - 1:k + 2]).all():
        den = curve[k - 1] - 2 * curve[k] + curve[k + 1]
        if den < 0:
            frac = float(np.clip(0.5 * (curve[k - 1] - curve[k + 1]) / den, -0.5, 0.5))
    return k - max_lag + frac, curve


def phone_frames(start: float, end: float, fps: float, n: int) -> np.ndarray:
    """Frames (``int (k,)``, within ``0..n-1``) whose instant ``i/fps`` lies in ``[start, end)`` seconds; the
    nearest frame for a phone shorter than a frame."""
    i0, i1 = int(np.ceil(start * fps - 1e-6)), int(np.ceil(end * fps - 1e-6))
    idx = np.arange(max(i0, 0), min(i1, n))
    if idx.size == 0:
        c = int(round((start + end) / 2 * fps))
        idx = np.array([c]) if 0 <= c < n else idx
    return idx


def phone_scores(aperture: np.ndarray, phones, fps: float, bilabials, open_vowels) -> dict:
    """Lip shape on the phones that demand it.

    Args:
        aperture: ``(T,)`` per-frame aperture.
        phones: iterable of objects with ``.start``, ``.end`` (seconds) and ``.label`` (ARPAbet).
        fps: video frame rate.
        bilabials, open_vowels: sets of ARPAbet labels.

    Returns:
        dict: ``bilabial_closed`` (share of p/b/m phones whose smallest aperture is below
        :data:`CLOSED_BELOW`), ``n_bilabial``, ``open_vowel_open`` (share of open-vowel phones whose
        largest aperture is above :data:`OPEN_ABOVE`), ``n_open_vowel``; shares are ``None`` when
        there is no such phone.
    """
    n = len(aperture)
    closed, opened = [], []
    for ph in phones:
        lab = str(ph.label).upper().rstrip("012")
        if lab not in bilabials and lab not in open_vowels:
            continue
        idx = phone_frames(float(ph.start), float(ph.end), fps, n)
        vals = aperture[idx]
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            continue
        if lab in bilabials:
            closed.append(bool(vals.min() < CLOSED_BELOW))
        else:
            opened.append(bool(vals.max() > OPEN_ABOVE))
    return {
        "bilabial_closed": float(np.mean(closed)) if closed else None,
        "n_bilabial": len(closed),
        "open_vowel_open": float(np.mean(opened)) if opened else None,
        "n_open_vowel": len(opened),
    }


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    n = min(len(a), len(b))
    a, b = np.asarray(a[:n], np.float64), np.asarray(b[:n], np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) < 1e-9 or np.std(b[ok]) < 1e-9:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def judge_lip_sync(landmarks: np.ndarray, fps: float, wav: np.ndarray, sr: int = 16000,
                   phones=None, envelope: np.ndarray | None = None,
                   bilabials=frozenset({"P", "B", "M"}), open_vowels=frozenset({"AA", "AE", "AO", "AW", "AY"})) -> dict:
    """Lip-sync figures of a video against its intended audio.

    Args:
        landmarks: ``float32 (T, 68, 2)`` dlib landmarks per frame (NaN where no face).
        fps: video frame rate.
        wav: ``float32`` mono waveform of the *input* audio at ``sr`` Hz.
        phones: phoneme segments of ``wav`` (``.start``/``.end`` seconds, ``.label`` ARPAbet), or
            ``None`` to skip the phone figures.
        envelope: loudness envelope sampled at the video frame rate, ``(n,)``; ``None`` to skip the
            envelope correlation.

    Returns:
        dict with ``offset_frames`` (int or ``None``), ``offset_ms``, ``offset_sign``,
        ``sync_peak_corr`` / ``sync_confidence`` (peak and peak minus median of the lag curve),
        ``lag_curve``, ``envelope_correlation``, ``bilabial_closed``, ``n_bilabial``,
        ``open_vowel_open``, ``n_open_vowel``, ``mouth_moves`` (bool), ``frozen_mouth`` (bool, the
        flag), ``aperture_range`` (5th-95th percentile), ``aperture`` (per frame, ``None`` where no
        face), ``frames_with_face``, thresholds, ``judge``.
    """
    ap = mouth_aperture(landmarks)
    n = len(ap)
    ok = np.isfinite(ap)
    out: dict = {
        "judge": JUDGE_NAME,
        "offset_frames": None, "offset_ms": None,
        "offset_sign": "positive = audio lags video (sound comes after the mouth movement); "
                       "delaying the audio by n frames adds n",
        "offset_frames_subframe": None, "sync_peak_corr": None, "sync_confidence": None, "lag_curve": None,
        "envelope_correlation": None,
        "bilabial_closed": None, "n_bilabial": 0, "open_vowel_open": None, "n_open_vowel": 0,
        "frames": int(n), "frames_with_face": int(ok.sum()),
        "closed_below": CLOSED_BELOW, "open_above": OPEN_ABOVE, "frozen_range_below": FROZEN_RANGE,
        "aperture": [None if not np.isfinite(v) else round(float(v), 4) for v in ap],
    }
    if ok.sum() < max(3, n // 2):
        out.update(mouth_moves=None, frozen_mouth=None, aperture_range=None,
                   note="no face in most frames: lip sync not judged")
        return out
    apf = fill_gaps(ap)
    rng = float(np.percentile(apf, 95) - np.percentile(apf, 5))
    moves = rng >= FROZEN_RANGE
    out.update(mouth_moves=bool(moves), frozen_mouth=not moves, aperture_range=round(rng, 4))
    if envelope is not None:
        out["envelope_correlation"] = _pearson(apf, np.asarray(envelope))
    if phones is not None:
        out.update(phone_scores(apf, phones, fps, bilabials, open_vowels))
    max_lag = min(int(round(MAX_LAG_S * fps)), (n - 20) // 2)
    if moves and max_lag >= 1:
        feats = log_mel_frames(wav, n, fps, sr)
        off, curve = av_offset(apf, feats, max_lag)
        if off is not None:
            peak = float(np.nanmax(curve))
            out.update(offset_frames=int(np.nanargmax(curve)) - max_lag,  # the peak lag itself
                       offset_frames_subframe=round(off, 2), offset_ms=round(1000.0 * off / fps, 1),
                       sync_peak_corr=round(peak, 4),
                       sync_confidence=round(peak - float(np.nanmedian(curve)), 4),
                       lag_curve=[None if not np.isfinite(c) else round(float(c), 4) for c in curve])
    elif moves:
        out["note"] = "video too short to measure the offset"
    else:
        out["note"] = "the mouth never moves (aperture range below threshold): offset not measurable"
    return out
