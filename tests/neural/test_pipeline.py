"""Scheduler, CFG branches, the whole tiny pipeline to an mp4, weight loading errors, training hooks."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from emocast.errors import InputError
from emocast.neural import check_weights, generate_frames, tiny_config
from emocast.neural.pipeline import EmoCASTPipeline, make_scheduler
from emocast.neural.tiny import tiny_pipeline
from emocast.neural.weights import save_release_layout

SPEECH = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "speech"


def test_release_scheduler_settings():
    s = make_scheduler("ddim")
    s.set_timesteps(40)
    assert s.timesteps.tolist() == list(range(999, 0, -25))
    assert float(s.alphas_cumprod[-1]) == 0.0 and s.init_noise_sigma == 1.0
    assert s.config.prediction_type == "v_prediction" and s.config.beta_schedule == "linear"
    d = make_scheduler("dpm")
    d.set_timesteps(20)
    assert len(d.timesteps) == 20 and d.config.prediction_type == "v_prediction"
    with pytest.raises(ValueError):
        make_scheduler("euler?")


def test_cfg_branches_and_combination():
    b = EmoCASTPipeline.cfg_branches
    assert b(3.5, 3.5) == ["u", "c"] and b(1.0, 1.0) == ["c"]
    assert b(5.0, 3.5) == ["u", "n", "c"] and b(4.0, 1.0) == ["n", "c"]
    u, n, c = torch.tensor(1.0), torch.tensor(2.0), torch.tensor(4.0)
    comb = EmoCASTPipeline.combine
    assert comb({"u": u, "c": c}, 3.5, 3.5) == u + 3.5 * (c - u)          # the release formula
    assert comb({"u": u, "n": n, "c": c}, 5.0, 2.0) == u + 2.0 * (n - u) + 5.0 * (c - n)
    assert comb({"n": n, "c": c}, 4.0, 1.0) == n + 4.0 * (c - n)
    # equal scales: the three-branch formula reduces to the two-branch one
    assert comb({"u": u, "n": n, "c": c}, 3.5, 3.5) == comb({"u": u, "c": c}, 3.5, 3.5)


def _speech(seconds):
    wavs = sorted(SPEECH.glob("*.wav")) if SPEECH.is_dir() else []
    if not wavs:
        pytest.skip(f"speech fixtures not found in {SPEECH}")
    from emocast.media import load_audio
    a = load_audio(wavs[0])
    return a[: int(seconds * 16000)]


def test_missing_weights_give_one_line_error(tmp_path):
    (tmp_path / "emocast").mkdir()
    (tmp_path / "emocast" / "net.pth").write_bytes(b"")
    with pytest.raises(InputError) as e:
        check_weights(str(tmp_path))
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"{tmp_path}: missing: ")
    for part in ("sd-vae-ft-mse", "wav2vec2-base-960h", "clip-vit-large-patch14", "face_analysis"):
        assert part in msg
    assert "net.pth" not in msg
    with pytest.raises(InputError, match="missing"):
        next(generate_frames(np.zeros((8, 8, 3), np.uint8), np.zeros(1600, np.float32), "calm", str(tmp_path)))
    with pytest.raises(InputError, match="not found"):
        check_weights(str(tmp_path / "nope"))


def test_tiny_pipeline_end_to_end_mp4(tiny, tmp_path):
    """Release-layout folder with tiny random weights -> generate_frames -> mp4 (2 clips, emotion change)."""
    from skimage.data import astronaut

    from emocast.emotion.track import EmotionSegment, EmotionTrack
    from emocast.media import read_video, write_video

    folder = save_release_layout(str(tmp_path / "w"), **tiny)
    os.makedirs(tmp_path / "w" / "face_analysis" / "models")
    (tmp_path / "w" / "face_analysis" / "models" / "glintr100.onnx").write_bytes(b"")  # not used below
    audio = _speech(0.9)                                        # 23 frames -> two 16-frame clips
    w = np.eye(8, dtype=np.float32)
    track = EmotionTrack(np.zeros((23, 8), np.float32), np.ones(23, np.float32), 25.0,
                         [EmotionSegment(0, 0.64, "calm and content", w[0], 1.0, {"neutral": 0.9}),
                          EmotionSegment(0.64, float("inf"), "trembling with fear", w[1], 1.0, {"fear": 0.8})])
    seen = []
    orig = EmoCASTPipeline.encode_text

    def spy(self, prompts):
        seen.extend(prompts)
        return orig(self, prompts)

    EmoCASTPipeline.encode_text = spy
    try:
        img = astronaut()
        lm = np.array([[160, 40], [300, 40], [300, 220], [160, 220]], np.float32)  # astronaut's face box
        frames = generate_frames(img, audio, track, folder, steps=3, size=64, dtype="fp32", progress=False,
                                 landmarks=lm, face_embedding=np.ones(16, np.float32))
        out = write_video(str(tmp_path / "tiny.mp4"), frames, audio, fps=25)
    finally:
        EmoCASTPipeline.encode_text = orig
    assert seen == ["", "calm and content", "trembling with fear"]
    video, fps, _ = read_video(out)
    assert video.shape == (23, 64, 64, 3) and fps == 25
    assert video.std() > 1.0                                   # not a constant image


def test_dpm_sampler_split_guidance_and_offload_path():
    pipe = tiny_pipeline(sampler="dpm")
    pipe.enable_model_cpu_offload(device="cpu")                # exercises the offload code path
    img = (np.random.default_rng(0).random((80, 60, 3)) * 255).astype(np.uint8)
    audio = np.random.default_rng(1).standard_normal(4000).astype(np.float32) * 0.1
    out = pipe(img, audio, "happy", num_inference_steps=2, guidance_text=5.0, guidance_audio=2.0, clip_frames=8,
               size=64, progress=False)
    assert out.frames.shape == (7, 64, 64, 3) and out.frames.dtype == np.uint8


def test_bf16_forward():
    pipe = tiny_pipeline()
    pipe.to("cpu", torch.bfloat16)
    pipe.audio_encoder.to(torch.float32)
    out = pipe(np.full((64, 64, 3), 128, np.uint8), np.zeros(2000, np.float32), "sad", num_inference_steps=1,
               clip_frames=4, size=64, progress=False)
    assert out.frames.shape == (4, 64, 64, 3)


def test_gradient_checkpointing_and_freezing():
    from emocast.neural.attention import REGIONS, AudioConditioning
    from emocast.neural.net import build_net

    cfg = tiny_config()
    torch.manual_seed(0)
    net = build_net(cfg)
    for name, p in net.named_parameters():
        if "region_out" in name or ("motion_modules" in name and "proj_out" in name):
            torch.nn.init.normal_(p, std=0.02)
    n_audio = net.set_trainable(["audio_modules", "motion_modules"])
    assert 0 < n_audio < sum(p.numel() for p in net.parameters())
    assert not net.reference_unet.conv_in.weight.requires_grad
    assert net.set_trainable("emotion_audio") == sum(
        p.numel() for n, p in net.named_parameters() if "emo_audio_" in n)
    net.set_trainable(["denoising_unet"])
    D, h, F_ = cfg.cross_attention_dim, 8, 2
    torch.manual_seed(1)
    inputs = (torch.randn(1, 4, F_, h, h), 10, torch.randn(1, 81, D),
              AudioConditioning(torch.randn(1, F_, cfg.audio_tokens, D), torch.randn(1, 77, D),
                                {r: [torch.rand(1, (h >> lv) ** 2) for lv in range(4)] for r in REGIONS}))

    def grads():
        net.zero_grad()
        net.denoising_unet(*inputs).square().mean().backward()
        return net.denoising_unet.down_blocks[0].audio_modules[0].proj_in.weight.grad.clone()

    g0 = grads()
    net.enable_gradient_checkpointing()
    assert net.denoising_unet.down_blocks[0].gradient_checkpointing
    g1 = grads()
    assert torch.allclose(g0, g1, atol=1e-6) and g0.abs().sum() > 0


def test_text_encoder_is_called_with_the_padding_attention_mask():
    """As the release (text_encoder(input_ids, attention_mask)): the mask reaches CLIP, and the padding
    positions' states are those of a masked call, not of an unmasked one."""
    from emocast.neural.tiny import tiny_pipeline

    pipe = tiny_pipeline()
    seen = {}
    forward = pipe.text_encoder.forward

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return forward(*args, **kwargs)

    pipe.text_encoder.forward = spy
    try:
        out = pipe.encode_text(["The portrait is experiencing happiness."])
    finally:
        pipe.text_encoder.forward = forward
    mask = seen.get("attention_mask")
    assert mask is not None and 0 < int(mask.sum()) < mask.shape[1]
    tok = pipe.tokenizer(["The portrait is experiencing happiness."], padding="max_length", truncation=True,
                         max_length=pipe.tokenizer.model_max_length, return_tensors="pt")
    with torch.no_grad():
        unmasked = pipe.text_encoder(tok.input_ids).last_hidden_state
    n = int(mask.sum())
    assert torch.allclose(out[0, :n].float(), unmasked[0, :n].float(), atol=1e-5)  # causal: real tokens agree
    assert not torch.allclose(out[0, n:].float(), unmasked[0, n:].float(), atol=1e-4)  # padding differs


def test_reference_pass_without_cfg_uses_the_conditional_context_for_every_slot():
    """Guidance <= 1: one pass over [r, m1, m2], all with the conditional context (the release's
    (1, 81, 768) context repeated); with CFG the release's [r, m1, m2] x 2 against [u, c, u, c, u, c]."""
    lat = torch.arange(3.0).view(3, 1, 1, 1).expand(3, 4, 2, 2)
    ctx = {k: torch.full((1, 5, 8), float(i)) for i, k in enumerate("unc")}
    latents, context, rows = EmoCASTPipeline.reference_inputs(lat, ctx, EmoCASTPipeline.cfg_branches(1.0, 1.0))
    assert latents.shape[0] == 3 and rows == [0]
    assert torch.equal(context[:, 0, 0], torch.tensor([2.0, 2.0, 2.0]))  # c, c, c
    latents, context, rows = EmoCASTPipeline.reference_inputs(lat, ctx, EmoCASTPipeline.cfg_branches(3.5, 3.5))
    assert torch.equal(latents[:, 0, 0, 0], torch.tensor([0.0, 1, 2, 0, 1, 2])) and rows == [0, 1]
    assert torch.equal(context[:, 0, 0], torch.tensor([0.0, 2, 0, 2, 0, 2]))  # u, c, u, c, u, c
