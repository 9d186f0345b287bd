"""`emocast evaluate` end to end on real media."""
from __future__ import annotations

import json

import numpy as np
import pytest

from emocast.cli import main


@pytest.fixture(scope="module")
def astronaut_case(tmp_path_factory, astronaut, tts_speech, wav_writer):
    """The astronaut repeated for the length of an eSpeak sentence: a video whose mouth never moves."""
    from PIL import Image

    from emocast.media import write_video

    d = tmp_path_factory.mktemp("astro")
    wav, _ = tts_speech
    img = d / "astronaut.png"
    Image.fromarray(astronaut).save(img)
    audio = wav_writer(d / "speech.wav", wav)
    n = int(np.ceil(len(wav) / 16000 * 25))
    video = write_video(d / "still.mp4", np.repeat(astronaut[None], n, 0), wav, fps=25)
    return d, str(img), audio, video


def test_evaluate_writes_table_and_json(astronaut_case, capsys):
    d, img, audio, video = astronaut_case
    out = d / "figures.json"
    rc = main(["evaluate", video, "--image", img, "--audio", audio, "--emotion", "happy",
               "--transcript", "Bob bought a map of the park.", "--json", str(out), "--quiet"])
    assert rc == 0
    table = capsys.readouterr().out
    assert "FROZEN MOUTH" in table and "happy" in table
    r = json.loads(out.read_text())
    assert {"emotion", "identity", "lip_sync", "stability"} <= set(r)
    assert "offset_frames" in r["lip_sync"]
    assert r["emotion"]["top_class"] == "happy" and r["emotion"]["accuracy"] == 1.0
    assert r["identity"]["same_person"] and r["identity"]["max_distance"] < 0.2
    assert r["lip_sync"]["frozen_mouth"] is True and r["lip_sync"]["offset_frames"] is None
    assert r["lip_sync"]["n_bilabial"] >= 3  # "Bob bought a map of the park": b, b, b, m, p, p
    assert r["lip_sync"]["phone_source"] == "aligned"
    assert r["stability"]["jitter_mean"] < 0.005  # a still picture barely jitters


def test_evaluate_real_clip_contempt_not_judged(katie, tmp_path, capsys):
    from emocast.evaluate import evaluate_arrays

    frames, fps, audio, _ = katie
    r = evaluate_arrays(frames[:75], fps, frames[0], audio[: 3 * 16000], emotion="contempt")
    assert r["emotion"]["judged"] is False and "not judged" in r["emotion"]["note"]
    assert r["lip_sync"]["mouth_moves"] and r["lip_sync"]["offset_frames"] is not None
    assert r["identity"]["same_person"]


@pytest.mark.parametrize("extra, message", [
    (["--emotion", "bored"], "--emotion"),
    (["--inception", "x.pt"], "--reference"),
    (["--syncnet", "/nonexistent/syncnet_v2.model"], "SyncNet weights file not found"),
])
def test_bad_input_exits_2(astronaut_case, extra, message, capsys):
    d, img, audio, video = astronaut_case
    assert main(["evaluate", video, "--image", img, "--audio", audio, "--quiet", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_video_exits_2(astronaut_case, capsys):
    d, img, audio, video = astronaut_case
    assert main(["evaluate", str(d / "nope.mp4"), "--image", img, "--audio", audio]) == 2
    assert "not found" in capsys.readouterr().err


def test_load_frames_full_and_within_budget(astronaut_case):
    from emocast.evaluate.core import load_frames
    from emocast.media import read_video

    d, img, audio, video = astronaut_case
    ref, fps_ref, _ = read_video(video, with_audio=False)
    full, fps, scale = load_frames(video)
    assert scale == 1.0 and fps == fps_ref and np.array_equal(full, ref)
    small, _, scale = load_frames(video, budget=ref.nbytes // 4)
    assert 0.45 < scale < 0.55 and len(small) == len(ref)
    assert small.nbytes <= ref.nbytes // 4 * 1.05
