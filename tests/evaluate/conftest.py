"""Shared media for the judges' tests: skimage's astronaut always, ../shared/fixtures when present."""
from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO.parent / "shared" / "fixtures"
KATIE = FIXTURES / "video" / "SadTalker_WDA_KatieHill_000.mp4"


def pytest_configure(config):
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def need(path: Path) -> Path:
    """Skip the test when a fixture file is absent (a user's clone has no ../shared/fixtures)."""
    if not path.exists():
        pytest.skip(f"fixture {path} not present (../shared/fixtures is only in the development checkout)")
    return path


@pytest.fixture(scope="session")
def fx():
    """``fx("portraits/x.png")``: path of a fixture file, or skip the test when it is absent."""
    return lambda rel: need(FIXTURES / rel)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


@pytest.fixture(scope="session")
def wav_writer():
    """``wav_writer(path, wav)`` writes 16-bit 16 kHz WAV."""
    return write_wav


def write_wav(path, wav: np.ndarray, sr: int = 16000) -> str:
    """16-bit PCM mono WAV."""
    pcm = np.clip(np.round(np.asarray(wav) * 32767), -32768, 32767).astype("<i2")
    with wave.open(os.fspath(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return os.fspath(path)


@pytest.fixture(scope="session")
def tts_speech():
    """eSpeak NG speech at 16 kHz with exact phone timings: ``(wav, phones)``."""
    from scipy.signal import resample_poly

    from emocast.speech.tts import synthesize

    r = synthesize("Bob bought a map of the park.")
    wav = resample_poly(r.audio.astype(np.float64), 16000, r.sr).astype(np.float32)
    return wav, r.phones


@pytest.fixture(scope="session")
def katie():
    """The real talking-face clip: ``(frames, fps, audio16k, FaceTrack)`` (landmarks tracked once)."""
    from emocast.evaluate import dlib_face
    from emocast.media import read_video

    frames, fps, audio = read_video(need(KATIE))
    return frames, fps, audio, dlib_face.track(frames)
