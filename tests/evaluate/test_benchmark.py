"""`emocast benchmark`: grid, tables, contact sheets, resume."""
from __future__ import annotations

import csv
import os

import numpy as np
import pytest

from emocast.cli import main
from emocast import benchmark as B
from emocast.options import GenerateOptions


@pytest.fixture(scope="module")
def speech_file(tmp_path_factory, tts_speech, wav_writer):
    wav, _ = tts_speech
    return wav_writer(tmp_path_factory.mktemp("speech") / "bob.wav", wav[: int(1.6 * 16000)])


class StillGenerator:
    """Stand-in for emocast.generate: the portrait, unmoving, for the audio's length. Counts calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, image, audio=None, output=None, options=None):
        from emocast.api import GenerationInfo, Generated
        from emocast.media import load_audio, load_image, write_video

        self.calls.append((os.path.basename(output), options.emotion))
        img = load_image(image)
        wav = load_audio(audio)
        n = int(np.ceil(len(wav) / 16000 * 25))
        write_video(output, np.repeat(img[None], n, 0), wav, fps=25)
        return Generated(output, GenerationInfo(timings={"render_s": 0.5}, n_frames=n))


def test_grid_tables_sheets_and_resume(tmp_path, speech_file, monkeypatch):
    report = tmp_path / "report"
    gen = StillGenerator()
    out = B.run_benchmark(["builtin:astronaut"], [speech_file], ["happy", "sadness", "contempt"], str(report),
                          options=GenerateOptions(size=256, intensity=1.0), max_seconds=1.2, progress=False, log=None, generate=gen)
    assert [c[1] for c in gen.calls] == ["happy", "sad", "contempt"]
    assert not out["failures"] and len(out["rows"]) == 3
    rows = {r["emotion"]: r for r in out["rows"]}
    # the still astronaut smiles: right for happy, wrong for sad, not judged for contempt
    assert rows["happy"]["emotion_top_match"] == 1.0 and rows["sad"]["emotion_top_match"] == 0.0
    assert rows["contempt"]["emotion_top_match"] is None
    assert all(r["frozen_mouth"] == 1.0 for r in out["rows"])  # a still picture is flagged
    assert abs(rows["happy"]["render_rtf"] - 0.5 / 1.2) < 0.05
    for name in ("report.md", "per_video.csv", "per_emotion.csv", "per_portrait.csv", "overall.csv", "overview.png"):
        assert (report / name).stat().st_size > 0, name
    with open(report / "per_emotion.csv") as f:
        per_emotion = list(csv.DictReader(f))
    assert [r["group"] for r in per_emotion] == ["happy", "sad", "contempt"]
    md = (report / "report.md").read_text()
    assert "## Per emotion" in md and "## Per portrait" in md and "## Overall" in md and "Render speed" in md
    from emocast.media import load_image

    sheet = load_image(report / "sheets" / "astronaut__happy.png")
    assert sheet.shape[1] == 9 * 200 and sheet.shape[0] > 200  # portrait + 8 frames

    # resume: nothing is generated or judged again
    calls = []
    import emocast.evaluate.core as core

    real = core.evaluate
    monkeypatch.setattr(core, "evaluate", lambda *a, **k: calls.append(a) or real(*a, **k))
    B.run_benchmark(["builtin:astronaut"], [speech_file], ["happy", "sad", "contempt"], str(report),
                    options=GenerateOptions(size=256, intensity=1.0), max_seconds=1.2, progress=False, log=None, generate=gen)
    assert len(gen.calls) == 3 and calls == []
    # an interrupted run: one result missing -> judged again, not regenerated
    os.remove(report / "results" / "astronaut__sad.json")
    B.run_benchmark(["builtin:astronaut"], [speech_file], ["happy", "sad", "contempt"], str(report),
                    options=GenerateOptions(size=256, intensity=1.0), max_seconds=1.2, progress=False, log=None, generate=gen)
    assert len(gen.calls) == 3 and len(calls) == 1
    # other settings -> everything is made again
    B.run_benchmark(["builtin:astronaut"], [speech_file], ["happy"], str(report),
                    options=GenerateOptions(size=320, intensity=1.0), max_seconds=1.2, progress=False, log=None, generate=gen)
    assert len(gen.calls) == 4


def test_failures_are_reported_not_fatal(tmp_path, speech_file):
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.fromarray(np.full((256, 256, 3), 120, np.uint8)).save(blank)

    def failing(image, **kw):
        from emocast.errors import InputError

        raise InputError(image, "no face found")

    out = B.run_benchmark([str(blank)], [speech_file], ["happy"], str(tmp_path / "r"), max_seconds=1.0,
                          progress=False, log=None, generate=failing)
    assert out["failures"] and "no face" in out["failures"][0][1]
    assert "## Failures" in (tmp_path / "r" / "report.md").read_text()


def test_bad_arguments_exit_2(tmp_path, speech_file, capsys):
    assert main(["benchmark", "--portraits", str(tmp_path / "none"), "--audio", speech_file, "-o", str(tmp_path / "r")]) == 2
    assert "portrait not found" in capsys.readouterr().err
    assert main(["benchmark", "--portraits", "builtin:astronaut", "--audio", speech_file, "--emotions", "bored",
                 "-o", str(tmp_path / "r")]) == 2


def test_real_generator_end_to_end(tmp_path, speech_file):
    """One real emocast.generate call through the benchmark (short clip, small size)."""
    out = B.run_benchmark(["builtin:astronaut"], [speech_file], ["surprised"], str(tmp_path / "r"),
                          options=GenerateOptions(size=512, intensity=1.0), max_seconds=1.2, progress=False, log=None)
    assert not out["failures"], out["failures"]
    row = out["rows"][0]
    assert row["identity_mean"] < 0.6  # still the astronaut
    assert row["frozen_mouth"] == 0.0  # the generator moves the mouth
    assert row["render_s"] and row["render_s"] > 0
