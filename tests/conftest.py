"""Shared test media: the astronaut portrait and TTS speech (always), ../shared/fixtures (when present)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"

os.environ.setdefault("GLOG_minloglevel", "3")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_configure(config):
    import torch

    torch.set_num_threads(1)


SLOW_SOURCE = ("run_cli(", "subprocess.", "sync_playwright")
"""Text in a test's source that makes it slow: it runs the CLI or another process, or drives a browser."""
SLOW_FIXTURES = {"page", "server", "live_server", "talking"}
"""Fixtures that start a server, a browser or a whole generation (``talking``) for the test."""


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` the end-to-end tests (:data:`SLOW_SOURCE`, :data:`SLOW_FIXTURES`), so that
    ``pytest -m "not slow"`` runs the quick suite."""
    import inspect

    for item in items:
        try:
            src = inspect.getsource(item.function)
        except (AttributeError, OSError, TypeError):
            continue
        if any(m in src for m in SLOW_SOURCE) or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"real test media not found at {FIXTURES} (it ships beside the repo only in development)")
    return FIXTURES


@pytest.fixture(scope="session")
def astronaut_png(tmp_path_factory) -> Path:
    import skimage.data
    from PIL import Image

    p = tmp_path_factory.mktemp("media") / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(p)
    return p


SENTENCE = "Bob bought a big map. Father calls, mama pops by. My mom bakes apple pie."


@pytest.fixture(scope="session")
def tts_wav(tmp_path_factory) -> Path:
    """A TTS sentence rich in bilabials and open vowels, saved as a WAV (eSpeak NG's 22.05 kHz)."""
    from emocast.speech.tts import synthesize

    r = synthesize(SENTENCE)
    p = tmp_path_factory.mktemp("media") / "sentence.wav"
    write_wav(p, r.audio, r.sr)
    return p


def write_wav(path, wav: np.ndarray, sr: int) -> None:
    """Write a mono 16-bit PCM WAV with PyAV."""
    import av

    with av.open(str(path), "w", format="wav") as c:
        s = c.add_stream("pcm_s16le", rate=sr)
        s.layout = "mono"
        f = av.AudioFrame.from_ndarray((np.clip(wav, -1, 1) * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono")
        f.sample_rate = sr
        for pkt in s.encode(f):
            c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)


def run_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """Run ``python -m emocast ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "emocast", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)
