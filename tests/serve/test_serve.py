"""The web page's parts without a browser: settings, CLI, request folders, limits, read-out, renders.

Renders here use a stand-in generator (tests/serve/conftest.py), so they take well under a second;
the real generator is driven through the page in test_browser.py.
"""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from emocast.errors import InputError
from emocast.options import GenerateOptions
from emocast.serve import limits
from emocast.serve.config import MB, ServeConfig
from emocast.serve.workspace import Workspace, safe_name


def _has_parser() -> bool:
    try:
        from emocast.emotion import parse_emotion  # noqa: F401
    except ImportError:
        return False
    return True


needs_parser = pytest.mark.skipif(not _has_parser(), reason="emocast.emotion.parse_emotion not built yet")


def _png(path, colour, size=(48, 64)) -> str:
    from PIL import Image

    Image.fromarray(np.full((*size, 3), colour, np.uint8)).save(path)
    return str(path)


def _wav(path, seconds: float, sr: int = 16000) -> str:
    import wave

    t = np.arange(int(seconds * sr)) / sr
    pcm = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return str(path)


# --- settings and command line ---------------------------------------------------------------------

def test_config_defaults_bind_localhost_with_the_issue_limits():
    c = ServeConfig()
    assert c.host == "127.0.0.1" and c.is_local and c.port == 7860 and not c.share
    assert c.max_portrait_mb == 20 and c.max_audio_mb == 50 and c.max_upload_bytes == 50 * MB
    assert ServeConfig(host="localhost").is_local and ServeConfig(host="::1").is_local
    assert not ServeConfig(host="0.0.0.0").is_local and not ServeConfig(host="example.org").is_local
    for bad in (dict(port=0), dict(max_audio_seconds=0), dict(concurrency=0), dict(max_portrait_mb=-1)):
        with pytest.raises(ValueError):
            ServeConfig(**bad).validate()


def test_cli_registers_serve_with_its_options():
    from emocast.cli import build_parser
    from emocast.cli.serve import run

    a = build_parser().parse_args(["serve"])
    assert a.func is run and a.host == "127.0.0.1" and a.port == 7860 and a.share is False
    a = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--max-audio-seconds", "12.5"])
    assert (a.host, a.port, a.max_audio_seconds) == ("0.0.0.0", 9000, 12.5)


def test_cli_rejects_bad_settings_in_one_line(capsys):
    from emocast.cli import main

    assert main(["serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "emocast serve: error: --port must be 1-65535, got 70000"


# --- request folders ---------------------------------------------------------------------------------

def test_workspaces_are_separate_and_removed(tmp_path):
    src = _png(tmp_path / "me.png", 10)
    with Workspace(tmp_path / "req") as a, Workspace(tmp_path / "req") as b:
        assert a.path != b.path
        pa, pb = a.add(src, "../../etc/my photo!.png"), b.add(src)
        assert os.path.dirname(pa) == a.path and os.path.basename(pa) == "my_photo_.png"
        assert os.path.dirname(pb) == b.path and os.path.basename(pb) == "me.png"
        assert a.relative_message(f"{pa}: no face found") == "my_photo_.png: no face found"
        with pytest.raises(ValueError):
            a.file("../x.mp4")
    assert os.listdir(tmp_path / "req") == []


def test_safe_name_keeps_something_usable():
    assert safe_name("/x/y/my photo (1).JPG", "p.png") == "my_photo_1_.JPG"
    assert safe_name("...", "portrait.png") == "portrait.png"
    assert safe_name(None, "speech.wav") == "speech.wav"


# --- limits ------------------------------------------------------------------------------------------

def test_file_size_limit_names_the_users_file(tmp_path):
    p = tmp_path / "big.png"
    p.write_bytes(b"\0" * (MB + 1))
    with pytest.raises(InputError) as e:
        limits.check_file_size(str(p), 1, "portrait")
    assert str(e.value) == "big.png: portrait is 1.0 MB, larger than the 1 MB limit"
    limits.check_file_size(str(p), 2, "portrait")


def test_audio_length_limit(tmp_path):
    wav = _wav(tmp_path / "talk.wav", 1.5)
    assert limits.audio_seconds(wav) == pytest.approx(1.5, abs=0.01)
    with pytest.raises(InputError, match=r"^talk.wav: speech is 1.5 s long, longer than the 1 s limit$"):
        limits.check_audio_length(limits.audio_seconds(wav), 1, "talk.wav")
    with pytest.raises(InputError, match="cannot read audio|no audio stream"):
        limits.audio_seconds(_png(tmp_path / "x.png", 0))


def test_text_limits():
    assert 0.3 < limits.check_text("Hello there.", 100, 10) < 3
    with pytest.raises(InputError, match=r"^--text: text to speak has 13 characters, more than the 5 limit$"):
        limits.check_text("Hello there !", 5, 10)
    with pytest.raises(InputError, match=r"^--text: speech is .* longer than the 0.5 s limit$"):
        limits.check_text("This sentence takes more than half a second to say.", 100, 0.5)


# --- emotion read-out ---------------------------------------------------------------------------------

def test_readout_escapes_errors():
    from emocast.serve.readout import emotion_text, error_html

    assert "&lt;b&gt;" in error_html("--emotion: <b>")
    assert emotion_text("  happy ", "") == "happy"
    assert emotion_text("happy", "0-1: sad; 1-: happy") == "0-1: sad; 1-: happy"
    assert emotion_text("", None) == "neutral"


@needs_parser
def test_readout_shows_weights_and_intensity_as_parsed():
    from emocast.emotion import parse_emotion
    from emocast.serve.readout import emotion_readout

    seg = parse_emotion("happy", intensity=0.4)[0]
    html = emotion_readout("happy", "", 0.4)
    assert seg.describe() in html and "intensity" in html and "0.40" in html
    for name in ("neutral", "happy", "sad", "angry", "fear", "disgusted", "surprised", "contempt"):
        assert f">{name}<" in html


# --- renders with a stand-in generator ----------------------------------------------------------------

@needs_parser
def test_render_speaks_text_in_its_own_folder(tmp_path, stub_generate):
    from emocast.serve.render import RenderInputs, Renderer

    r = Renderer(ServeConfig(), str(tmp_path / "requests"), generate=stub_generate)
    portrait = _png(tmp_path / "me.png", (200, 30, 30))
    seen = []
    with r.workspace() as ws:
        res = r.run(ws, RenderInputs(portrait=portrait, text="Hi there.", options=GenerateOptions(emotion="happy", size=64)),
                    progress=lambda f, m: seen.append(f))
        call = stub_generate.calls[0]
        assert os.path.dirname(call["image"]) == ws.path and call["image"].endswith("me.png")
        assert call["text"] == "Hi there." and call["voice"] == "en-us" and call["audio"] is None
        assert res.video == call["output"] and os.path.basename(res.video) == "me-happy.mp4"
        assert res.frames == 10 and res.seconds == pytest.approx(0.4) and "64×64" in res.summary
        assert seen and 0.0 <= min(seen) and max(seen) < 1.0
    assert not os.path.exists(ws.path)


@needs_parser
def test_render_errors_are_one_line_and_name_the_users_file(tmp_path, stub_generate):
    from emocast.serve.render import RenderInputs, Renderer

    def no_face(image, **kw):
        raise InputError(image, "no face found")

    req = str(tmp_path / "requests")
    portrait = _png(tmp_path / "wall.png", 90)
    cases = [
        (Renderer(ServeConfig(), req, generate=no_face), RenderInputs(portrait=portrait, text="Hi."),
         "wall.png: no face found"),
        (Renderer(ServeConfig(), req, generate=stub_generate), RenderInputs(portrait=None, text="Hi."),
         "portrait: no portrait given: upload a photo or take a webcam snapshot"),
        (Renderer(ServeConfig(), req, generate=stub_generate), RenderInputs(portrait=portrait),
         "speech: no speech given: upload or record audio, or type text to speak"),
        (Renderer(ServeConfig(max_portrait_mb=0.0001), req, generate=stub_generate),
         RenderInputs(portrait=portrait, text="Hi."), "larger than the 0.0001 MB limit"),
        (Renderer(ServeConfig(max_audio_seconds=1), req, generate=stub_generate),
         RenderInputs(portrait=portrait, audio=_wav(tmp_path / "long.wav", 2.0)),
         "long.wav: speech is 2.0 s long, longer than the 1 s limit"),
    ]
    for renderer, inp, msg in cases:
        with renderer.workspace() as ws, pytest.raises(InputError) as e:
            renderer.run(ws, inp)
        assert msg in str(e.value) and "\n" not in str(e.value) and tmp_path.as_posix() not in str(e.value)
    assert stub_generate.calls == []
    assert os.listdir(req) == []


@needs_parser
def test_uploaded_audio_is_used_with_the_text_as_its_transcript(tmp_path, stub_generate):
    from emocast.serve.render import RenderInputs, Renderer

    r = Renderer(ServeConfig(), str(tmp_path / "requests"), generate=stub_generate)
    with r.workspace() as ws:
        r.run(ws, RenderInputs(portrait=_png(tmp_path / "me.png", 50), audio=_wav(tmp_path / "talk.wav", 0.5),
                               text="hello", options=GenerateOptions(emotion="sad", still=True, pose_scale=0.5,
                                                                     intensity=0.3)))
    c = stub_generate.calls[0]
    assert c["audio"].endswith("talk.wav") and c["transcript"] == "hello" and c["text"] is None
    assert (c["emotion"], c["still"], c["pose_scale"], c["intensity"]) == ("sad", True, 0.5, 0.3)


@needs_parser
def test_two_renders_at_once_keep_their_own_files(tmp_path, make_stub):
    from emocast.media import read_video
    from emocast.serve.render import RenderInputs, Renderer

    gen = make_stub(delay=0.6)
    r = Renderer(ServeConfig(), str(tmp_path / "requests"), generate=gen)
    colours = {"red": (220, 20, 20), "blue": (20, 20, 220)}
    got, errors, inside = {}, [], threading.Barrier(2)

    def one(name):
        try:
            with r.workspace() as ws:
                portrait = _png(tmp_path / f"{name}-src.png", colours[name])
                res = r.run(ws, RenderInputs(portrait=portrait, text="Hi.", options=GenerateOptions(emotion="happy", size=64)))
                inside.wait(timeout=10)  # both renders finished, neither folder removed yet
                frames, _, _ = read_video(res.video, with_audio=False)
                got[name] = (res.video, frames.reshape(-1, 3).mean(0))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(n,)) for n in colours]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert os.path.dirname(got["red"][0]) != os.path.dirname(got["blue"][0])
    for name, (_, mean) in got.items():
        assert np.abs(mean - colours[name]).max() < 12, (name, mean)
    assert os.listdir(tmp_path / "requests") == []


# --- the Gradio app over HTTP (no browser) -----------------------------------------------------------

@needs_parser
def test_gradio_app_renders_reports_errors_and_cleans_up(tmp_path, monkeypatch, make_stub):
    pytest.importorskip("gradio", reason="the serve extra is not installed (pip install 'emocast[serve]')")
    from gradio_client import Client, handle_file

    from emocast.serve import app

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "unused"))
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gen = make_stub(delay=0.8)
    cfg = ServeConfig(port=port, workdir=str(tmp_path / "work"), max_portrait_mb=0.05)
    demo, root = app.launch(cfg, generate=gen, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        args = dict(audio=None, text="Hello.", voice="en-us", emotion="happy", timeline="", fixed=False,
                    intensity=0.7, still=False, pose_scale=1.0, size=256, face_index=0)
        red, blue = _png(tmp_path / "red.png", (220, 20, 20)), _png(tmp_path / "blue.png", (20, 20, 220))
        jobs = [client.submit(portrait=handle_file(p), api_name="/render", **args) for p in (red, blue)]
        results = [j.result(timeout=60) for j in jobs]
        from emocast.media import read_video

        for (video, summary), colour in zip(results, [(220, 20, 20), (20, 20, 220)]):
            path = video["video"] if isinstance(video, dict) else video
            frames, _, _ = read_video(path, with_audio=False)
            assert np.abs(frames.reshape(-1, 3).mean(0) - colour).max() < 12
            assert "256×256 px" in summary
        assert os.path.basename(gen.calls[0]["output"]).endswith("-happy.mp4")
        assert os.path.dirname(gen.calls[0]["output"]) != os.path.dirname(gen.calls[1]["output"])
        a, b = gen.calls
        assert max(a["start"], b["start"]) < min(a["end"], b["end"]), "the two renders did not run at once"

        # uploaded (or recorded) speech goes to the generator from the request's own folder
        video, _ = client.predict(portrait=handle_file(red), api_name="/render",
                                  **dict(args, audio=handle_file(_wav(tmp_path / "hello.wav", 0.5))))
        assert gen.calls[-1]["audio"].endswith("hello.wav") and gen.calls[-1]["transcript"] == "Hello."

        big = tmp_path / "big.png"
        from PIL import Image

        Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)).save(big)
        with pytest.raises(Exception) as e:
            client.predict(portrait=handle_file(str(big)), api_name="/render", **args)
        assert "big.png: portrait is 0.1 MB, larger than the 0.05 MB limit" in str(e.value)
        assert "Traceback" not in str(e.value)
        broken = tmp_path / "broken.png"
        broken.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a picture")
        with pytest.raises(Exception) as e:
            client.predict(portrait=handle_file(str(broken)), api_name="/render", **args)
        assert "broken.png: cannot read image (UnidentifiedImageError)" in str(e.value)
        # building the page must not write into the package (Gradio stubs component subclasses)
        assert not [f for f in os.listdir(os.path.dirname(app.__file__)) if f.endswith(".pyi")]
        assert os.listdir(os.path.join(root, "requests")) == []
    finally:
        demo.close()
