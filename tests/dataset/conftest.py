"""Source videos for the dataset tests, made from the real fixtures (never copied into the project)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
VIDEO = FIXTURES / "video"
KATIE = VIDEO / "SadTalker_WDA_KatieHill_000.mp4"
D3 = VIDEO / "LivePortrait_d3.mp4"
SILENT = VIDEO / "EDTalk_expression_source.mp4"
SPEECH = FIXTURES / "speech" / "EDTalk_RD_Radio51_000.wav"
SHIFT_FRAMES = 8

pytestmark = pytest.mark.fixtures


def need_fixtures():
    if not KATIE.is_file():
        pytest.skip(f"needs the real test media in {FIXTURES}")


def still_video(path: Path, image: Path, seconds: float = 4.0, side: int = 384) -> Path:
    """A still portrait as a 25 fps video with real speech (a MEAD-like 'talking' clip without motion)."""
    import cv2

    from emocast.media import load_audio, load_image, write_video

    img = load_image(image)
    s = side / max(img.shape[:2])
    img = cv2.resize(img, (round(img.shape[1] * s) // 2 * 2, round(img.shape[0] * s) // 2 * 2), interpolation=cv2.INTER_AREA)
    n = int(seconds * 25)
    write_video(path, (img for _ in range(n)), load_audio(SPEECH)[: n * 640], fps=25)
    return path


def shifted_katie(path: Path, frames: int = SHIFT_FRAMES) -> Path:
    """The KatieHill clip with its audio delayed by ``frames`` frames (the video untouched)."""
    from emocast.media import read_video, write_video

    v, fps, audio = read_video(KATIE)
    write_video(path, v, np.r_[np.zeros(frames * 640, np.float32), audio][: len(audio)], fps=25)
    return path


def two_shots(path: Path) -> Path:
    """KatieHill followed by the first 4 s of d3 (another woman, another room): one cut."""
    from emocast.media import read_video, write_video

    a, _, wa = read_video(KATIE)
    b, _, wb = read_video(D3, max_frames=100)
    write_video(path, np.concatenate([a, b]), np.r_[wa[: len(a) * 640], wb[: len(b) * 640]], fps=25)
    return path


@pytest.fixture(scope="session")
def sources(tmp_path_factory):
    """Source videos made once per test session."""
    need_fixtures()
    d = tmp_path_factory.mktemp("sources")
    portraits = FIXTURES / "portraits"
    return {
        "katie": KATIE,
        "d3": D3,
        "silent": SILENT,
        "shifted": shifted_katie(d / "WDA_KatieHill_shifted.mp4"),
        "two_shots": two_shots(d / "two_shots.mp4"),
        "happy": still_video(d / "SadTalker_happy.mp4", portraits / "SadTalker_happy.png"),
        "sad": still_video(d / "SadTalker_sad.mp4", portraits / "SadTalker_sad.png"),
        "hallo": still_video(d / "hallo_7.mp4", portraits / "hallo_7.jpg"),
    }
