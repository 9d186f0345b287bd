"""``emocast dataset`` on real videos: normalising, shots, sync repair, rejections, identities, resuming,
Ray Data, descriptions, and the CLI's inspection commands."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import wave

import numpy as np
import pytest

from emocast.dataset import DatasetConfig, build, read_manifest
from emocast.dataset.describe import describe_all, reads_as
from emocast.emotion.labels import MEAD_EMOTIONS

from .conftest import SHIFT_FRAMES

pytestmark = pytest.mark.fixtures


def _wav(path):
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32767


def by_source(folder, name):
    return [r for r in read_manifest(folder) if os.path.basename(r["source"]) == name]


@pytest.fixture(scope="module")
def videos(sources, tmp_path_factory):
    """The real videos and their variants built once, one process, default recipe."""
    root = tmp_path_factory.mktemp("videos")
    srcs = [sources[k] for k in ("katie", "shifted", "two_shots", "d3", "silent")]
    summary = build([str(s) for s in srcs], str(root), progress=False)
    return root, summary, srcs


@pytest.fixture(scope="module")
def stills(sources, tmp_path_factory):
    """Still portraits over speech (the sync filter off: a still mouth fails it), two local workers."""
    root = tmp_path_factory.mktemp("stills")
    srcs = [str(sources[k]) for k in ("happy", "sad", "hallo")]
    build(srcs, str(root), DatasetConfig(sync="off"), workers=2, progress=False)
    return root, srcs


def test_real_clip_one_shot_in_sync(videos):
    root, _, _ = videos
    [r] = by_source(root, "SadTalker_WDA_KatieHill_000.mp4")
    assert r["status"] == "ok" and r["shot"] == [0, 200]
    assert r["identity"] == "WDA_KatieHill" and r["corpus"] == "HDTF"
    assert abs(r["sync"]["offset_frames"]) <= 1.0 and r["sync"]["shift_frames"] == 0
    assert r["sync"]["method"] == "aperture-logmel"
    assert 3 * 25 <= r["n_frames"] <= 200 and r["n_samples"] == r["n_frames"] * 640


def test_shifted_audio_is_repaired(videos):
    root, _, _ = videos
    [r] = by_source(root, "WDA_KatieHill_shifted.mp4")
    assert r["status"] == "ok"
    assert abs(r["sync"]["offset_frames"] - SHIFT_FRAMES) <= 1.0
    assert r["sync"]["shift_frames"] == SHIFT_FRAMES and abs(r["sync"]["offset_after"]) <= 1.0
    # The repaired clip's audio is the source's own audio again: it matches the untouched clip's (both
    # went through AAC, so sample by sample they agree only closely).
    [k] = by_source(root, "SadTalker_WDA_KatieHill_000.mp4")
    a, b = (_wav(root / x["paths"]["audio"]) for x in (r, k))
    i0 = (r["start_frame"] - k["start_frame"]) * 640
    n = min(len(a), len(b) - i0) - SHIFT_FRAMES * 640
    assert n > 16000 and np.corrcoef(a[:n], b[i0:i0 + n])[0, 1] > 0.95
    # Its identity comes from the descriptor cluster it shares with the named clip.
    assert r["identity"] == "WDA_KatieHill" and r["identity_source"].startswith("dlib")


def test_shifted_audio_is_rejected_when_repair_is_off(sources, tmp_path):
    summary = build([str(sources["shifted"])], str(tmp_path), DatasetConfig(max_repair=4), progress=False)
    [r] = read_manifest(tmp_path)
    assert summary["clips"] == 0 and r["status"] == "rejected"
    assert "offset" in r["reason"] and "repair limit 4" in r["reason"]


def test_two_clips_give_two_shots(videos):
    root, _, _ = videos
    recs = by_source(root, "two_shots.mp4")
    shots = json.load(open(next((root / "work").glob("two_shots-*")) / ".shots.stamp.json"))["result"]["shots"]
    assert shots == [[0, 200], [200, 300]]
    assert all(r["end_frame"] <= 200 or r["start_frame"] >= 200 for r in recs)  # no clip crosses the cut


def test_30fps_source_comes_out_at_25fps(videos):
    root, _, _ = videos
    work = next((root / "work").glob("LivePortrait_d3-*"))
    info = json.load(open(work / ".normalise.stamp.json"))["result"]
    assert info["source_fps"] == 30.0 and info["n_frames"] == 295  # 11.8 s
    import av

    with av.open(str(work / "clip.mp4")) as c:
        assert c.streams.video[0].average_rate == 25
        assert sum(1 for _ in c.decode(video=0)) == 295
    with wave.open(str(work / "clip.wav")) as w:
        assert w.getframerate() == 16000 and w.getnframes() == 295 * 640


def test_video_without_audio_is_rejected_and_build_goes_on(videos):
    root, summary, srcs = videos
    [r] = by_source(root, "EDTalk_expression_source.mp4")
    assert r["status"] == "rejected" and r["reason"] == "no audio track"
    assert summary["clips"] >= 3
    assert {os.path.basename(r["source"]) for r in read_manifest(root)} == {os.path.basename(str(s)) for s in srcs}


def test_clip_files_agree(videos):
    """Every accepted clip's files agree with the manifest; landmarks sit on the face in the clip."""
    from emocast.dataset.report import validate
    from emocast.face.detect import detect_faces, mesh_landmarks
    from emocast.media.video import iter_frames
    from emocast.neural.masks import region_masks

    root, _, _ = videos
    assert validate(str(root), progress=False) == []
    r = by_source(root, "SadTalker_WDA_KatieHill_000.mp4")[0]
    lms = np.load(root / r["paths"]["landmarks"])
    k = r["n_frames"] // 2
    frame = next(f for _, f in iter_frames(root / r["paths"]["video"], k, k + 1))
    fresh = mesh_landmarks(frame, detect_faces(frame)[0].box)[:, :2]
    assert np.median(np.linalg.norm(fresh - lms[k], axis=1)) < 3.0  # px at 512
    with np.load(root / r["paths"]["masks"]) as z:
        # the neural engine's own masks of the clip's union face box
        x0, y0 = lms.reshape(-1, 2).min(0)
        assert z["face_box_image"].shape == (512, 512) and z["lip_0"].shape == (64 * 64,)
        union = z["face_box_image"]
    box = np.argwhere(union)
    assert box[:, 1].min() <= x0 + 1 and box[:, 0].min() <= y0 + 1
    assert region_masks(lms[k], (512, 512)).face_box_image.sum() <= union.sum() + 1


def test_rerun_does_nothing_and_one_deletion_rebuilds_one(videos, sources):
    root, _, srcs = videos
    before = (root / "manifest.jsonl").read_text()
    again = build([str(s) for s in srcs], str(root), progress=False)
    assert again["steps"]["ran"] == {} and sum(again["steps"]["skipped"].values()) > 10
    assert (root / "manifest.jsonl").read_text() == before
    clip = root / by_source(root, "SadTalker_WDA_KatieHill_000.mp4")[0]["paths"]["masks"]
    clip.unlink()
    third = build([str(s) for s in srcs], str(root), progress=False)
    assert third["steps"]["ran"] == {"masks": 1} and clip.is_file()
    assert (root / "manifest.jsonl").read_text() == before


def test_same_person_one_identity_other_person_another(stills):
    root, _ = stills
    ident = {os.path.basename(r["source"]): r["identity"] for r in read_manifest(root, accepted_only=True)}
    assert ident["SadTalker_happy.mp4"] == ident["SadTalker_sad.mp4"] != ident["hallo_7.mp4"]
    labels = {os.path.basename(r["source"]): r["emotion"]["label"] for r in read_manifest(root, accepted_only=True)}
    assert labels["SadTalker_happy.mp4"] == "happy" and labels["SadTalker_sad.mp4"] == "sad"
    table = json.load(open(root / "identities.json"))
    assert sorted(len(t["clips"]) for t in table.values()) == [1, 2]


def test_ray_gives_the_same_manifest(stills, tmp_path):
    pytest.importorskip("ray.data")
    root, srcs = stills
    build(srcs, str(tmp_path), DatasetConfig(sync="off"), workers=2, ray=True, progress=False)
    assert (tmp_path / "manifest.jsonl").read_text() == (root / "manifest.jsonl").read_text()


def test_descriptions_round_trip_for_every_label():
    d = describe_all(DatasetConfig())
    for label in MEAD_EMOTIONS:
        keys = [k for k in d["descriptions"] if k.split("/")[0] == label]
        assert keys and all(len(d["descriptions"][k]) >= 3 for k in keys), label
        for k in keys:
            assert all(reads_as(s) == label for s in d["descriptions"][k]), k


def test_llm_command_descriptions_are_filtered(tmp_path):
    script = tmp_path / "llm.py"
    script.write_text("import sys\nlabel = sys.argv[1]\n"
                      "print(f'1. She speaks to the camera, looking {label} about the news.')\n"
                      "print('2. He is smiling happily and laughing.')\n")
    cfg = DatasetConfig(describer=f"{sys.executable} {script} {{label}}", descriptions_per_level=5)
    d = describe_all(cfg)
    assert d["source"].startswith("command: ")
    assert "He is smiling happily and laughing." in d["dropped"]["sad/2"]
    assert "He is smiling happily and laughing." in d["descriptions"]["happy/2"]
    assert all(reads_as(s) == "sad" for s in d["descriptions"]["sad/2"])


def emocast(*args):
    return subprocess.run([sys.executable, "-m", "emocast", *map(str, args)], capture_output=True, text=True)


def test_cli_stats_validate_preview(stills, tmp_path):
    root, _ = stills
    r = emocast("dataset", "stats", root, "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["clips"] == 3 and s["identities"] == 2 and s["emotions"]["happy"]["clips"] == 1
    assert emocast("dataset", "validate", root, "-q").returncode == 0
    sheet = tmp_path / "sheet.png"
    r = emocast("dataset", "preview", root, "-o", sheet)
    assert r.returncode == 0, r.stderr
    from PIL import Image

    assert Image.open(sheet).size == (3 * 192, 192 + 30)


def test_cli_bad_input_is_one_line(tmp_path):
    r = emocast("dataset", "build", tmp_path / "nope.mp4", "-o", tmp_path / "out")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such file or folder" in r.stderr
    r = emocast("dataset", "stats", tmp_path)
    assert r.returncode == 2 and "not a dataset folder" in r.stderr and "Traceback" not in r.stderr
    r = emocast("dataset", "build", tmp_path, "-o", tmp_path / "out", "--labeller", "onnx:x.onnx")
    assert r.returncode == 2 and "--class-map" in r.stderr


def test_broken_clip_file_is_reported(stills, tmp_path):
    import shutil

    from emocast.dataset.report import validate

    root, _ = stills
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    a, b = read_manifest(copy, accepted_only=True)[:2]
    (copy / a["paths"]["emotion_probs"]).unlink()
    (copy / b["paths"]["audio"]).write_bytes(b"RIFF")
    problems = validate(str(copy), progress=False)
    assert len(problems) == 2
    assert problems[0] == f"{a['id']}: missing emotion_probs" and problems[1].startswith(f"{b['id']}: unreadable")
