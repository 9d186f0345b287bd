"""Shared fixtures of the web-page tests: test pictures and a small stand-in generator."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest


@pytest.fixture(scope="session")
def astronaut_png(tmp_path_factory) -> str:
    """scikit-image's astronaut portrait (one clear face) as a PNG."""
    from PIL import Image
    from skimage import data

    path = tmp_path_factory.mktemp("pictures") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return str(path)


@pytest.fixture(scope="session")
def gradient_png(tmp_path_factory) -> str:
    """A plain colour gradient: a picture with no face."""
    from PIL import Image

    g = np.zeros((240, 320, 3), np.uint8)
    g[..., 0] = np.linspace(0, 255, 320, dtype=np.uint8)[None, :]
    g[..., 1] = np.linspace(0, 255, 240, dtype=np.uint8)[:, None]
    g[..., 2] = 128
    path = tmp_path_factory.mktemp("pictures") / "gradient.png"
    Image.fromarray(g).save(path)
    return str(path)


class StubGenerate:
    """Stands in for :func:`emocast.generate`: writes a short mp4 whose frames are the portrait's mean
    colour, after ``delay`` seconds, and records every call (so tests can check paths)."""

    def __init__(self, delay: float = 0.0, seconds: float = 0.4):
        self.delay = delay
        self.seconds = seconds
        self.calls: list[dict] = []

    def __call__(self, image, audio=None, text=None, emotion="neutral", output="out.mp4", *, progress=None,
                 size=64, fps=25, **kw):
        from emocast.media import load_image, write_video

        rec = dict(image=image, audio=audio, text=text, emotion=emotion, output=output, size=size, **kw)
        self.calls.append(rec)
        colour = load_image(image).reshape(-1, 3).mean(0).astype(np.uint8)
        n = max(1, round(self.seconds * fps))
        rec["start"] = time.monotonic()
        for i in range(n):
            if progress:
                progress(i / n, f"frame {i + 1} of {n}")
            time.sleep(self.delay / n)
        size = size or 64  # None: the portrait's own size in the real generator
        frame = np.broadcast_to(colour, (size, size, 3)).copy()
        assert os.path.isdir(os.path.dirname(output)), "the request folder vanished during the render"
        write_video(output, [frame] * n, fps=fps)
        rec["end"] = time.monotonic()
        return output


@pytest.fixture
def stub_generate():
    """A fresh :class:`StubGenerate`."""
    return StubGenerate()


@pytest.fixture
def make_stub():
    """The :class:`StubGenerate` class, to make stand-ins with other delays."""
    return StubGenerate
