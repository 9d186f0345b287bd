"""Lip-sync judge: dlib mouth aperture against the input audio."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from emocast.evaluate import dlib_face
from emocast.evaluate import lipsync as L

FPS = 25.0
HOP = 640  # samples per frame at 16 kHz, 25 fps


def shift_audio(wav: np.ndarray, frames: int) -> np.ndarray:
    """Delay (frames > 0) or advance (frames < 0) a waveform, keeping its length."""
    s = frames * HOP
    if s >= 0:
        return np.concatenate([np.zeros(s, np.float32), wav])[: len(wav)]
    return np.concatenate([wav[-s:], np.zeros(-s, np.float32)])


def landmarks_with_aperture(ap: np.ndarray, iod: float = 100.0) -> np.ndarray:
    """68 landmarks whose inner-lip gap is ``ap * iod`` (eyes ``iod`` apart)."""
    lm = np.zeros((len(ap), 68, 2), np.float32)
    lm[:, :, 0] = np.linspace(0, 200, 68)
    lm[:, 36] = (50, 100)
    lm[:, 45] = (50 + iod, 100)
    for up, lo in dlib_face.INNER_LIP_PAIRS:
        lm[:, lo, 0] = lm[:, up, 0]
        lm[:, up, 1] = 200.0
        lm[:, lo, 1] = 200.0 + ap * iod
    return lm


def test_aperture_is_gap_over_eye_distance():
    ap = np.array([0.0, 0.1, 0.3], np.float32)
    got = L.mouth_aperture(landmarks_with_aperture(ap, iod=80.0))
    np.testing.assert_allclose(got, ap, atol=1e-6)
    lm = landmarks_with_aperture(ap)
    lm[1] = np.nan
    assert np.isnan(L.mouth_aperture(lm)[1])


@pytest.mark.parametrize("lag", [-4, 0, 3, 7])
def test_synthetic_planted_lag_and_sign(lag):
    """Syllable-like bursts of noise; the mouth opens ``lag`` frames *before* each burst sounds."""
    rng = np.random.default_rng(1)
    n = 250
    amp = np.zeros(n)
    t = 5
    while t < n - 10:
        d = rng.integers(3, 8)
        amp[t:t + d] = rng.uniform(0.3, 1.0)
        t += d + rng.integers(1, 6)
    amp = np.convolve(amp, np.hanning(5) / np.hanning(5).sum(), "same")
    wav = (rng.standard_normal(n * HOP) * np.repeat(amp, HOP)).astype(np.float32) * 0.3
    ap = np.roll(amp, -lag) * 0.3  # video frame t shows what sounds at t + lag
    r = L.judge_lip_sync(landmarks_with_aperture(ap), FPS, wav)
    assert r["offset_frames"] == lag
    assert r["sync_peak_corr"] > 0.5 and r["mouth_moves"] and not r["frozen_mouth"]


def test_phone_scores():
    ap = np.array([0.0, 0.02, 0.2, 0.25, 0.2, 0.01, 0.12, 0.03], np.float32)
    ph = lambda a, b, lab: SimpleNamespace(start=a / FPS, end=b / FPS, label=lab)  # noqa: E731
    phones = [ph(0, 2, "M"), ph(2, 4, "AA"), ph(4, 5, "B"), ph(5, 6, "AE1"), ph(6, 7, "P"), ph(7, 8, "IY")]
    r = L.phone_scores(ap, phones, FPS, {"P", "B", "M"}, {"AA", "AE"})
    # M closes (0.0), B does not (0.2), P does not (0.12); AA opens (0.25), AE does not (0.01)
    assert r["n_bilabial"] == 3 and abs(r["bilabial_closed"] - 1 / 3) < 1e-9
    assert r["n_open_vowel"] == 2 and r["open_vowel_open"] == 0.5


def test_real_video_planted_offsets(katie):
    """Delaying the real clip's audio by 5 frames moves the offset by +5; advancing it, by -5."""
    frames, fps, audio, track = katie
    assert fps == FPS and track.found.mean() > 0.95
    base = L.judge_lip_sync(track.landmarks, fps, audio)
    late = L.judge_lip_sync(track.landmarks, fps, shift_audio(audio, 5))
    early = L.judge_lip_sync(track.landmarks, fps, shift_audio(audio, -5))
    print(f"untouched offset {base['offset_frames']} frames ({base['offset_frames_subframe']}), "
          f"peak r {base['sync_peak_corr']}, confidence {base['sync_confidence']}")
    assert late["offset_frames"] - base["offset_frames"] == 5
    assert early["offset_frames"] - base["offset_frames"] == -5
    # Real speech: the mouth shapes a sound before it is heard, so the untouched clip reads
    # slightly positive (audio after video), well inside SyncNet's +-15-frame search.
    assert 0 <= base["offset_frames"] <= 6
    assert base["sync_confidence"] > 0.3  # a clear peak, not noise


def test_frozen_mouth_is_flagged(katie, tmp_path):
    """The portrait (first frame) repeated and encoded as a video: the mouth never moves."""
    from emocast.media import read_video, write_video

    frames, fps, audio, track = katie
    path = write_video(tmp_path / "frozen.mp4", np.repeat(frames[:1], 50, axis=0), audio[: 2 * 16000], fps=25)
    still, fps2, _ = read_video(path, with_audio=False)
    tr = dlib_face.track(still)
    r = L.judge_lip_sync(tr.landmarks, fps2, audio[: 2 * 16000])
    assert r["frozen_mouth"] and not r["mouth_moves"] and r["offset_frames"] is None
    moving = L.judge_lip_sync(track.landmarks[:50], fps, audio[: 2 * 16000])
    assert not moving["frozen_mouth"] and moving["aperture_range"] > 10 * r["aperture_range"] + 0.02


def test_most_frames_without_face_are_not_judged():
    lm = np.full((40, 68, 2), np.nan, np.float32)
    r = L.judge_lip_sync(lm, FPS, np.zeros(40 * HOP, np.float32))
    assert r["offset_frames"] is None and r["mouth_moves"] is None and "no face" in r["note"]
