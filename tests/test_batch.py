"""``emocast batch`` on real media: a job list with good and bad jobs, resuming after a kill, bad rows
reported up front, and the same table and outputs from a local Ray."""
from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import REPO, run_cli, write_wav

SIZE = 384  # the astronaut's face is 46 px wide at 256, under the 64 px floor


@pytest.fixture(scope="module")
def media(fixtures_dir, astronaut_png, tmp_path_factory):
    """Portraits (two fixtures, the astronaut, one with no face) and speech (1.6 s of a fixture clip,
    and a silent clip)."""
    from PIL import Image

    from emocast.media import load_audio

    d = tmp_path_factory.mktemp("batch-media")
    wav = load_audio(fixtures_dir / "speech" / "SadTalker_RD_Radio36_000.wav")[: int(1.6 * 16000)]
    write_wav(d / "speech.wav", wav, 16000)
    write_wav(d / "silent.wav", np.zeros(16000, np.float32), 16000)
    g = np.zeros((240, 320, 3), np.uint8)
    g[..., 0] = np.linspace(0, 255, 320, dtype=np.uint8)[None, :]
    Image.fromarray(g).save(d / "wall.png")
    return {"hallo": fixtures_dir / "portraits" / "hallo_7.jpg",
            "aragaki": fixtures_dir / "portraits" / "AniPortrait_Aragaki.png",
            "astronaut": astronaut_png, "wall": d / "wall.png", "speech": d / "speech.wav",
            "silent": d / "silent.wav"}


def _job_list(path, rows):
    keys = ["id", "portrait", "audio", "text", "emotion", "size"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in keys})
    return path


def _six(media):
    return [
        dict(id="hallo-sad", portrait=media["hallo"], text="Good morning to you.", emotion="sad", size=SIZE),
        dict(id="aragaki-angry", portrait=media["aragaki"], audio=media["speech"], emotion="angry", size=SIZE),
        dict(id="astro-happy", portrait=media["astronaut"], text="Hello there.", emotion="happy", size=SIZE),
        dict(id="wall", portrait=media["wall"], text="Nobody here.", emotion="happy", size=SIZE),
        dict(id="astro-fear", portrait=media["astronaut"], audio=media["speech"], emotion="fear", size=SIZE),
        dict(id="silence", portrait=media["astronaut"], audio=media["silent"], emotion="neutral", size=SIZE),
    ]


def _table(out):
    with sqlite3.connect(os.path.join(out, "jobs.sqlite")) as db:
        return {r[0]: r[1:] for r in db.execute("SELECT id, status, attempts, error, sha256 FROM jobs")}


def test_a_batch_makes_the_good_videos_and_reports_the_bad_ones(media, tmp_path):
    from emocast.media import read_video

    jobs = _job_list(tmp_path / "jobs.csv", _six(media))
    out = tmp_path / "out"
    r = run_cli("batch", jobs, "-o", out, "--quiet")
    assert r.returncode == 1, r.stderr
    t = _table(out)
    assert {k: v[0] for k, v in t.items()} == {"hallo-sad": "done", "aragaki-angry": "done", "astro-happy": "done",
                                               "wall": "failed", "astro-fear": "done", "silence": "failed"}
    assert "no face" in t["wall"][2] and "silent" in t["silence"][2]
    assert all("\n" not in (v[2] or "") for v in t.values())
    for jid in ("hallo-sad", "aragaki-angry", "astro-happy", "astro-fear"):
        frames, fps, audio = read_video(str(out / f"{jid}.mp4"))
        assert fps == 25 and len(frames) >= 15 and max(frames.shape[1:3]) == SIZE and audio is not None
        assert abs(len(frames) / fps - len(audio) / 16000) <= 0.1
    assert sorted(p for p in os.listdir(out) if p.endswith(".mp4")) == \
        sorted(f"{j}.mp4" for j in ("hallo-sad", "aragaki-angry", "astro-happy", "astro-fear"))
    assert "4 of 6 done, 2 failed" in r.stdout and "jobs.csv:5: wall:" in r.stderr

    # a rerun skips everything; --retry runs the failed ones again (and they fail again)
    r2 = run_cli("batch", jobs, "-o", out, "--quiet")
    assert r2.returncode == 1 and "this run: 0 jobs" in r2.stdout
    assert _table(out) == t
    r3 = run_cli("batch", jobs, "-o", out, "--quiet", "--retry")
    t3 = _table(out)
    assert "this run: 2 jobs" in r3.stdout and t3["wall"][1] == 2 and t3["hallo-sad"] == t["hallo-sad"]


def test_a_killed_batch_resumes_without_redoing_finished_jobs(media, tmp_path):
    rows = [j for j in _six(media) if j["id"] not in ("wall", "silence")]
    jobs = _job_list(tmp_path / "jobs.csv", rows)
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "emocast", "batch", str(jobs), "-o", str(out), "--quiet"],
                         cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    done = {}
    while time.monotonic() < deadline and p.poll() is None:
        if (out / "jobs.sqlite").exists():
            done = {k: v for k, v in _table(out).items() if v[0] == "done"}
            if len(done) >= 2:
                break
        time.sleep(0.2)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert len(done) >= 2, "the batch did not finish two jobs"
    done = {k: v for k, v in _table(out).items() if v[0] == "done"}
    assert len(done) < len(rows), "the batch finished before it could be killed"
    # no partial outputs: every mp4 there is a finished job's
    assert sorted(n for n in os.listdir(out) if n.endswith(".mp4") and not n.startswith(".")) == \
        sorted(f"{k}.mp4" for k in done)
    r = run_cli("batch", jobs, "-o", out, "--quiet")
    assert r.returncode == 0, r.stderr
    t = _table(out)
    assert all(v[0] == "done" for v in t.values())
    for k, v in done.items():
        assert t[k] == v, k  # not redone: same attempts and output hash
    assert f"this run: {len(rows) - len(done)} jobs" in r.stdout
    assert not [n for n in os.listdir(out) if n.startswith(".emocast-")]


def test_bad_rows_are_all_reported_by_line_before_anything_runs(media, tmp_path):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("portrait,text,audio,emotion,intensity,colour\n"
                    f"{media['astronaut']},Hello.,,happy,5,\n"
                    f"{media['astronaut']},Hi.,,happy:-1,,\n"
                    f"missing.png,Hi.,,sad,,\n"
                    f"{media['astronaut']},Hi.,{media['speech']},sad,,\n"
                    f"{media['astronaut']},Fine.,,happy,0.5,\n"
                    f"{media['astronaut']},Hi.,,sad,,red\n")
    r = run_cli("batch", jobs, "-o", tmp_path / "out")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert [ln.split(":")[3] for ln in lines] == ["2", "3", "4", "5", "7"], lines
    assert "--intensity: 5 is outside 0..1" in lines[0] and "negative" in lines[1]
    assert "portrait not found" in lines[2] and "exactly one of audio and text" in lines[3]
    assert "unknown column colour" in lines[4]
    assert not (tmp_path / "out" / "jobs.sqlite").exists()


def test_ray_gives_the_same_table_and_outputs(media, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'emocast[ray]')")
    import emocast

    rows = [j for j in _six(media) if j["id"] in ("astro-happy", "wall", "aragaki-angry")]
    jobs = _job_list(tmp_path / "jobs.csv", rows)
    local = emocast.batch(str(jobs), str(tmp_path / "local"))
    on_ray = emocast.batch(str(jobs), str(tmp_path / "ray"), ray=True, workers=2)
    strip = lambda res: [(r.id, r.status, r.attempts, r.error, r.sha256) for r in res.rows]  # noqa: E731
    assert strip(local) == strip(on_ray)
    assert [r.status for r in on_ray.rows] == ["done", "done", "failed"]
