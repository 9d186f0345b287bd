"""The second render process (:mod:`emocast.engines.workers`): the same frames as one process, its
errors reported as this process's, and no trouble for a calling script without a ``__main__`` guard."""
import subprocess
import sys

import numpy as np
import pytest

from emocast.api import load_portrait, prepare_speech, read_emotion
from emocast.engines.cpu import CPUEngine
from emocast.engines.workers import CHUNK_FRAMES, RenderWorker
from emocast.errors import InputError
from emocast.options import GenerateOptions
from tests.conftest import run_cli

OPTIONS = GenerateOptions(emotion="happy", size=384, render_processes=1)


def _frames(engine, wav):
    speech = prepare_speech(wav, None, OPTIONS)
    speech.wav, speech.audio = speech.wav[:16000 * 2], speech.audio[:speech.sr * 2]  # 2 s: 50 frames
    track, _ = read_emotion(OPTIONS, speech.duration, speech.n_frames(OPTIONS.fps))
    return list(engine.frames(speech, track))


def test_worker_renders_the_same_frames(astronaut_png, tts_wav):
    engine = CPUEngine()
    engine.prepare(load_portrait(str(astronaut_png), OPTIONS), OPTIONS)
    alone = _frames(engine, tts_wav)
    with RenderWorker() as worker:
        engine.share_with(worker)
        worker.ready()
        shared = _frames(engine, tts_wav)
        rendered = worker.rendered
    assert worker._proc.poll() is not None  # the process ended with the block
    assert len(shared) == len(alone) == 50
    # Built before the first frame, so the worker had chunks from the start; this process took others.
    assert 0 < rendered < 50 and (rendered % CHUNK_FRAMES == 0 or rendered % CHUNK_FRAMES == 50 % CHUNK_FRAMES)
    for i, (a, b) in enumerate(zip(alone, shared)):
        assert a.dtype == b.dtype == np.uint8 and np.array_equal(a, b), f"frame {i} differs"


@pytest.mark.parametrize("speech", ["text", "audio"])
def test_two_processes_make_the_same_video(astronaut_png, tts_wav, tmp_path, speech):
    """End to end with the face (and, for audio, the phones) found in the worker: the decoded videos are
    equal, pixel for pixel."""
    from emocast import generate
    from emocast.media import read_video

    given = {"text": "Pop a big map open."} if speech == "text" else {"audio": str(tts_wav)}
    videos = []
    for n in (1, 2):
        out = tmp_path / f"p{n}.mp4"
        info = generate(str(astronaut_png), **given, emotion="surprised", output=str(out), size=384,
                        render_processes=n).info
        assert any(f"phonemes from {'tts' if speech == 'text' else 'acoustic'}" in m for m in info.messages)
        videos.append(read_video(out)[0])
    assert videos[0].shape == videos[1].shape and len(videos[0]) > 20
    assert np.array_equal(videos[0], videos[1])


def test_worker_errors_are_this_process_errors(tmp_path):
    from emocast.api import prepare_speech as f

    bad = tmp_path / "speech.wav"
    bad.write_bytes(b"not a wav")
    with RenderWorker() as worker:
        with pytest.raises(InputError) as e:
            worker.submit(f, str(bad), None, OPTIONS).result()
    assert str(e.value).startswith(str(bad)) and "\n" not in str(e.value)


def test_bad_audio_with_two_processes_is_one_line(astronaut_png, tmp_path):
    bad = tmp_path / "speech.wav"
    bad.write_bytes(b"not a wav")
    out = tmp_path / "out.mp4"
    r = run_cli("generate", "--image", astronaut_png, "--audio", bad, "--render-processes", "2", "-o", out)
    assert r.returncode == 2
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith(f"emocast: error: {bad}") and "Traceback" not in r.stderr
    assert not out.exists()


def test_a_script_without_a_main_guard_works(astronaut_png, tmp_path):
    out = tmp_path / "out.mp4"
    script = tmp_path / "make.py"
    script.write_text("import emocast\n"
                      f"emocast.generate({str(astronaut_png)!r}, text='Hello there.', output={str(out)!r}, "
                      "size=384, render_processes=2)\n"
                      "print('done')\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("done") == 1 and out.stat().st_size > 1000
