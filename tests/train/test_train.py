"""Training the tiny network on a real clip: the loss falls, only the stage's parts change, a resumed run
equals an unbroken one, checkpointing keeps the gradients, two gloo processes run, and the export loads
strictly and generates."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from emocast.train.config import load

pytestmark = pytest.mark.fixtures


def tiny(stage, **kw):
    return load("tiny", stage).replace(**kw).validate()


def metrics(run):
    return [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]


def net_state(weights_dir):
    from emocast.train.model import load_components

    return {k: v.clone() for k, v in load_components(str(weights_dir)).net.state_dict().items()}


def run_and_export(stage, steps, data, weights, tmp_path):
    from emocast.train.export import export
    from emocast.train.loop import train

    run = tmp_path / f"s{stage}"
    r = train(str(data), str(weights), str(run), tiny(stage, phase_steps=(steps, 0, 0), eval_every=steps // 3,
                                                      save_every=0), cpu=True, progress=False)
    out = export(str(run), str(tmp_path / f"export{stage}"))
    return r, run, out


def changed_keys(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


def test_stage1_overfits_and_changes_only_its_parts(katie_dataset, tiny_weights, tmp_path):
    r, run, out = run_and_export(1, 200, katie_dataset, tiny_weights, tmp_path)
    evals = [m["eval_loss"] for m in metrics(run) if "eval_loss" in m]
    print("stage 1 eval losses", evals, r)
    assert evals[0] > 0 and evals[-1] < 0.5 * evals[0]
    before, after = net_state(tiny_weights), net_state(out)
    changed = changed_keys(before, after)
    assert any(k.startswith("reference_unet.") for k in changed)
    assert any(k.startswith("face_locator.") for k in changed) and any("to_k_ip" in k for k in changed)
    assert not any("motion_modules" in k or "audio_modules" in k or k.startswith("audio_proj.") for k in changed)


def test_stage2_overfits_and_changes_only_its_parts(katie_dataset, tiny_weights, tmp_path):
    r, run, out = run_and_export(2, 150, katie_dataset, tiny_weights, tmp_path)
    evals = [m["eval_loss"] for m in metrics(run) if "eval_loss" in m]
    print("stage 2 eval losses", evals, r)
    assert evals[-1] < 0.8 * evals[0]
    changed = changed_keys(net_state(tiny_weights), net_state(out))
    assert changed and all("motion_modules" in k or "audio_modules" in k or k.startswith("audio_proj.")
                           for k in changed)
    assert any("emo_audio" in k for k in changed)


def test_preview_videos(katie_dataset, tiny_weights, tmp_path):
    from emocast.media import read_video
    from emocast.train.loop import train

    run = tmp_path / "p"
    train(str(katie_dataset), str(tiny_weights), str(run), tiny(1, phase_steps=(2, 0, 0), preview_every=2,
                                                                eval_every=0, save_every=0), cpu=True, progress=False)
    frames, fps, audio = read_video(run / "previews" / "step_000002.mp4")
    assert frames.shape == (16, 64, 64, 3) and fps == 25 and audio is not None


def test_resume_equals_unbroken_run(katie_dataset, tiny_weights, tmp_path):
    from safetensors.torch import load_file

    from emocast.train.loop import train

    cfg = tiny(2, phase_steps=(4, 0, 0), eval_every=0, save_every=0)
    train(str(katie_dataset), str(tiny_weights), str(tmp_path / "a"), cfg, cpu=True, progress=False)
    first = train(str(katie_dataset), str(tiny_weights), str(tmp_path / "b"), cfg, cpu=True, progress=False,
                  max_steps=2)
    rest = train(str(katie_dataset), str(tiny_weights), str(tmp_path / "b"), cfg, cpu=True, progress=False,
                 resume="latest")
    assert first["steps"] == 2 and rest["steps"] == 2 and rest["total_steps"] == 4
    a, b = (load_file(str(tmp_path / x / "trainable.safetensors")) for x in "ab")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_gradient_checkpointing_gives_the_same_gradients(katie_dataset, tiny_weights):
    from emocast.train.loop import EVAL_INDEX, Phase
    from emocast.train.model import NetLoss, load_components, noise_schedule, set_stage

    cfg = tiny(2)
    comp = load_components(str(tiny_weights))
    set_stage(comp.net, cfg)
    phase = Phase(str(katie_dataset), comp, cfg, 1, noise_schedule(), "cpu", 4)
    x = phase.inputs([phase.set.sample(EVAL_INDEX + 3)], [400], dropout=False)
    grads = []
    for ckpt in (False, True):
        if ckpt:
            comp.net.enable_gradient_checkpointing()
        comp.net.zero_grad(set_to_none=True)
        NetLoss(comp.net, 2)(x).backward()
        comp.net.bank.clear()
        grads.append({k: p.grad.clone() for k, p in comp.net.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 10
    for k in grads[0]:
        torch.testing.assert_close(grads[0][k], grads[1][k], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("stage", [1, 2])
def test_two_gloo_processes(katie_dataset, tiny_weights, tmp_path, stage):
    """accelerate launch --cpu --num_processes 2: two DDP steps, no unused-parameter error."""
    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "emocast", "train", "--stage", str(stage), "--preset", "tiny", "--data", str(katie_dataset),
           "--weights", str(tiny_weights), "-o", str(run), "--steps", "2", "--cpu"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert r.returncode == 0, r.stderr[-3000:]
    assert "unused" not in r.stderr.lower()
    assert [m["step"] for m in metrics(run) if "loss" in m] == [1]
    assert (run / "trainable.safetensors").is_file()


def test_emotion_aware_sampling_takes_a_neutral_reference(tmp_path):
    """Every emotional sample gets a neutral frame of the same identity, or the recorded fallback."""
    from emocast.dataset.manifest import SCHEMA_VERSION, write_manifest
    from emocast.train.data import TrainingSet

    def rec(cid, identity, label, reference, neutral=()):
        (tmp_path / cid).mkdir()
        for f in ("video.mp4", "landmarks.npy"):
            (tmp_path / cid / f).write_bytes(b"")
        return {"schema_version": SCHEMA_VERSION, "id": cid, "status": "ok", "corpus": "MEAD", "identity": identity,
                "n_frames": 50, "fps": 25, "size": 512, "split": "train", "descriptions": [f"{label}/2"],
                "paths": {"video": f"{cid}/video.mp4", "landmarks": f"{cid}/landmarks.npy"},
                "emotion": {"label": label, "level": 2, "neutral_frames": list(neutral)}, "reference": reference}

    write_manifest(str(tmp_path / "manifest.jsonl"), [
        rec("a-neutral", "A", "neutral", {"from": "same identity", "clips": []}, neutral=[3, 7]),
        rec("a-angry", "A", "angry", {"from": "same identity", "clips": ["a-neutral"]}),
        rec("b-fear", "B", "fear", {"from": "fallback: own first frame", "frames": {"b-fear": [0]}})])
    (tmp_path / "descriptions.json").write_text(json.dumps({"descriptions": {
        "neutral/1": ["calm"], "angry/2": ["a person talking with clearly angry emotion"], "fear/2": ["afraid"]}}))
    ds = TrainingSet(str(tmp_path), tiny(1), 2, 16, 4)
    seen = set()
    for i in range(300):
        p = ds.plan(i)
        seen.add(p["clip"])
        if p["clip"] == "a-angry":
            assert (p["reference_clip"], p["reference_from"]) == ("a-neutral", "same identity")
            assert p["reference_frame"] in (3, 7)
            assert p["text"] == "a person talking with clearly angry emotion"
        if p["clip"] == "b-fear":
            assert (p["reference_clip"], p["reference_frame"]) == ("b-fear", 0)
            assert p["reference_from"].startswith("fallback")
    assert seen == {"a-neutral", "a-angry", "b-fear"}
    assert ds.plan(17) == ds.plan(17)  # the plan is a function of the index


def test_export_loads_strictly_and_generates(katie_dataset, tiny_weights, tmp_path):
    from emocast.neural.convert import load_release_checkpoint
    from emocast.neural.net import build_net
    from emocast.neural.weights import net_config_for

    _, run, out = run_and_export(1, 6, katie_dataset, tiny_weights, tmp_path)
    net_pth = os.path.join(out, "emocast", "net.pth")
    net = build_net(net_config_for(net_pth))
    load_release_checkpoint(net, net_pth)  # strict
    video = tmp_path / "out.mp4"
    _portrait(tmp_path / "face.png")
    r = subprocess.run([sys.executable, "-m", "emocast", "generate", "--engine", "neural", "--weights", out,
                        "--image", str(tmp_path / "face.png"), "--text", "Hi.", "--emotion", "happy",
                        "--size", "128", "-o", str(video), "-q"], capture_output=True, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert r.returncode == 0, r.stderr[-2000:]
    from emocast.media import read_video

    frames, fps, _ = read_video(video)
    assert fps == 25 and frames.shape[1:] == (128, 128, 3) and len(frames) > 5


def _portrait(path):
    from PIL import Image
    from skimage.data import astronaut

    Image.fromarray(astronaut()[40:200, 145:305]).save(path)  # the face fills the frame


def test_train_errors_are_one_line(tiny_weights, tmp_path):
    def emocast(*a):
        return subprocess.run([sys.executable, "-m", "emocast", *map(str, a)], capture_output=True, text=True)

    r = emocast("train", "--stage", "1", "--preset", "tiny", "--data", tmp_path, "--weights", tiny_weights,
                "-o", tmp_path / "run")
    assert r.returncode == 2 and "not a dataset folder" in r.stderr and "Traceback" not in r.stderr
    r = emocast("train", "--stage", "1", "--data", tmp_path, "--weights", tmp_path / "nope", "-o", tmp_path / "r")
    assert r.returncode == 2 and "weights folder not found" in r.stderr
    import shutil

    bad = tmp_path / "bad-weights"
    shutil.copytree(tiny_weights, bad)
    cfg = json.loads((bad / "emocast" / "config.json").read_text())
    cfg["cross_attention_dim"] = 48
    (bad / "emocast" / "config.json").write_text(json.dumps(cfg))
    r = emocast("train", "--stage", "1", "--preset", "tiny", "--data", tmp_path, "--weights", bad, "-o", tmp_path / "r2")
    assert r.returncode == 2 and "does not match the network config" in r.stderr and r.stderr.count("\n") == 1
    r = emocast("train", "export", tmp_path, "-o", tmp_path / "x")
    assert r.returncode == 2 and "not a training run folder" in r.stderr
    r = emocast("train", "--stage", "2", "--preset", "tiny", "--data", tmp_path, "--weights", tiny_weights,
                "-o", tmp_path / "run", "--resume", "latest")
    assert r.returncode == 2
