"""The network's training forward pass and objective (paper Sec. 3.4; the release's sampling schedule).

One schedule for training and sampling: the release's DDIM settings
(:data:`emocast.neural.pipeline.SCHEDULER_CONFIG`: 1000 steps, linear betas 0.00085-0.012, zero terminal SNR,
v-prediction) drive a ``DDPMScheduler`` for ``add_noise`` / ``get_velocity``. The loss is the v-prediction
MSE per sample, weighted by min-SNR-gamma (``min(SNR, gamma) / (SNR + 1)`` for v targets), with a noise
offset. Classifier-free dropout is per sample for each branch the pipeline guides with: the emotion text
(-> the empty prompt, the pipeline's ``"n"`` branch), the reference (-> plain self-attention, a zero face
embedding and a zero face locator) and the audio (-> zero audio tokens), as its ``"u"`` branch builds them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError
from .config import STAGE1_FROZEN, STAGE1_PARTS, STAGE2_PARTS, TrainConfig
from .data import REGIONS, Sample


@dataclass
class Components:
    """The trainable network and its frozen encoders, and the inference pipeline around them (whose
    ``encode_images`` / ``encode_text`` training uses too, so both see the same latents and tokens)."""

    net: torch.nn.Module
    vae: torch.nn.Module
    text_encoder: torch.nn.Module
    tokenizer: object
    audio_encoder: torch.nn.Module
    weights_dir: str

    def __post_init__(self):
        from ..neural.pipeline import EmoCASTPipeline

        self.pipeline = EmoCASTPipeline.from_net(self.net, self.vae, self.text_encoder, self.tokenizer,
                                                 self.audio_encoder)


def load_components(weights_dir: str) -> Components:
    """The network (``emocast/net.pth``, strictly) and the VAE, CLIP text and wav2vec2 encoders of a weights
    folder in the release's layout (the ArcFace model is not needed to train).

    Raises:
        InputError: a missing folder or part, or a ``net.pth`` that does not match its config.
    """
    from diffusers import AutoencoderKL
    from transformers import CLIPTextModel, CLIPTokenizer, Wav2Vec2Model

    from ..neural.convert import load_release_checkpoint
    from ..neural.net import build_net
    from ..neural.weights import locate, net_config_for

    if not os.path.isdir(weights_dir):
        raise InputError(weights_dir, "weights folder not found (expected the release's pretrained_models layout)")
    parts, missing = locate(weights_dir)
    missing = [m for m in missing if not m.startswith("face_analysis")]
    if missing:
        raise InputError(weights_dir, "missing: " + ", ".join(missing))
    net = build_net(net_config_for(parts["net"]), device="meta")
    try:
        load_release_checkpoint(net, parts["net"], dtype=torch.float32)
    except (RuntimeError, ValueError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(parts["net"], f"does not match the network config beside it ({first[:160]})") from None
    kw = dict(local_files_only=True)
    vae = AutoencoderKL.from_pretrained(parts["vae"], **kw).eval().requires_grad_(False)
    text = CLIPTextModel.from_pretrained(parts["clip"], **kw).eval().requires_grad_(False)
    tok = CLIPTokenizer.from_pretrained(parts["clip"], **kw)
    w2v = Wav2Vec2Model.from_pretrained(parts["wav2vec"], **kw).eval().requires_grad_(False)
    return Components(net, vae, text, tok, w2v, weights_dir)


def set_stage(net, cfg: TrainConfig) -> int:
    """Freeze all but the stage's parts; bypass the temporal modules in stage 1. Returns trainable count.

    Stage 2 trains only the motion modules that run (plain blocks skip theirs unless
    ``run_plain_block_motion``), so no trainable parameter goes unused in a distributed step.
    """
    import fnmatch

    if cfg.stage == 1:
        net.set_trainable(list(STAGE1_PARTS))
        for name, p in net.named_parameters():
            if any(fnmatch.fnmatchcase(name, pat) for pat in STAGE1_FROZEN):
                p.requires_grad_(False)
        net.denoising_unet.temporal = False
    else:
        net.set_trainable(list(STAGE2_PARTS))
        for prefix, blocks in (("down_blocks", net.denoising_unet.down_blocks), ("up_blocks", net.denoising_unet.up_blocks)):
            for i, blk in enumerate(blocks):
                if not getattr(blk, "run_motion", True):
                    blk.motion_modules.requires_grad_(False)
        net.denoising_unet.temporal = True
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def noise_schedule():
    """The training ``DDPMScheduler`` with the release's sampling schedule."""
    from diffusers import DDPMScheduler

    from ..neural.pipeline import SCHEDULER_CONFIG

    keep = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type",
            "rescale_betas_zero_snr", "timestep_spacing", "steps_offset", "clip_sample")
    return DDPMScheduler(**{k: SCHEDULER_CONFIG[k] for k in keep})


def min_snr_weight(scheduler, t: torch.Tensor, gamma: float | None) -> torch.Tensor:
    """Per-sample loss weight ``min(SNR, gamma) / (SNR + 1)`` (v-prediction form of min-SNR-gamma)."""
    if gamma is None:
        return torch.ones_like(t, dtype=torch.float32)
    ac = scheduler.alphas_cumprod.to(t.device)[t].float()
    snr = ac / (1 - ac).clamp_min(1e-8)
    return torch.minimum(snr, torch.full_like(snr, gamma)) / (snr + 1)


def sample_noise(samples: list[Sample], shape: tuple, cfg: TrainConfig, scheduler, fixed_t: list[int] | None = None):
    """Noise ``(B, 4, F, h, w)`` and timesteps ``(B,)`` drawn from each sample's own generator (seeded by the
    run's seed and the sample's index), so a resumed run draws exactly what an unbroken one would."""
    noises, ts = [], []
    for k, s in enumerate(samples):
        g = torch.Generator().manual_seed(int(cfg.seed) * 1_000_003 + int(s.index))
        n = torch.randn(shape[1:], generator=g)
        if cfg.noise_offset:
            n = n + cfg.noise_offset * torch.randn((shape[1], 1, 1, 1), generator=g)
        t = fixed_t[k] if fixed_t is not None else int(torch.randint(0, scheduler.config.num_train_timesteps, (1,),
                                                                        generator=g))
        noises.append(n)
        ts.append(t)
    return torch.stack(noises), torch.tensor(ts, dtype=torch.long)


@torch.no_grad()
def prepare_inputs(comp: Components, samples: list[Sample], audio: list[np.ndarray] | None, cfg: TrainConfig,
                   scheduler, device, fixed_t: list[int] | None = None, dropout: bool = True) -> dict:
    """Everything the frozen encoders make for a batch, and the noised targets (no graph).

    Args:
        comp: the encoders.
        samples: from :class:`~emocast.train.data.TrainingSet`.
        audio: per sample ``float32 (F, window, layers, dim)`` wav2vec2 windows (stage 2), else ``None``.
        fixed_t: timesteps per sample (the evaluation loss), else drawn from each sample's generator.
        dropout: apply the samples' CFG dropout (off for the evaluation loss).

    Returns:
        tensors for :class:`NetLoss`: ``noisy``, ``v`` and ``t``; ``ref_latents`` ``(B*S, 4, h, w)``;
        ``text`` ``(B, 77, D)``; ``face`` ``(B, E)``; ``box`` ``(B, 3, S, S)``; ``keep_ref``,
        ``keep_audio`` ``(B,)``; ``windows`` and ``masks`` (stage 2).
    """
    b, f = len(samples), cfg.clip_frames
    drop = np.array([s.drop if dropout else (False, False, False) for s in samples], bool)
    keep_ref = torch.tensor(~drop[:, 1], device=device)
    target = torch.from_numpy(np.stack([s.target for s in samples])).to(device)          # (B, F, 3, S, S)
    pipe = comp.pipeline
    lat = pipe.encode_images(target.flatten(0, 1))
    lat = lat.reshape(b, f, *lat.shape[1:]).permute(0, 2, 1, 3, 4)                      # (B, 4, F, h, w)
    slots = [torch.from_numpy(np.stack([s.reference for s in samples]))[:, None]]
    if cfg.stage == 2:
        slots.append(torch.from_numpy(np.stack([s.motion for s in samples])))
    slot_px = torch.cat(slots, 1).to(device)                                              # (B, S, 3, S, S)
    out = {"n_slots": slot_px.shape[1], "ref_latents": pipe.encode_images(slot_px.flatten(0, 1)),
           "text": pipe.encode_text(["" if d else s.text for s, d in zip(samples, drop[:, 0])]),
           "face": torch.from_numpy(np.stack([s.face_embedding for s in samples])).to(device),
           "box": torch.from_numpy(np.stack([s.box for s in samples]))[:, None].expand(-1, 3, -1, -1).to(device),
           "keep_ref": keep_ref, "keep_audio": torch.tensor(~drop[:, 2], device=device)}
    if cfg.stage == 2:
        out["windows"] = torch.from_numpy(np.stack(audio)).to(device)                     # (B, F, W, L, D)
        out["masks"] = {r: [torch.from_numpy(np.stack([s.masks[r][k] for s in samples])).to(device)
                            for k in range(len(samples[0].masks[r]))] for r in REGIONS}
    noise, t = sample_noise(samples, tuple(lat.shape), cfg, scheduler, fixed_t)
    noise, t = noise.to(device, lat.dtype), t.to(device)
    out.update(noisy=scheduler.add_noise(lat, noise, t), v=scheduler.get_velocity(lat, noise, t), t=t,
               weight=min_snr_weight(scheduler, t, cfg.snr_gamma))
    return out


class NetLoss(torch.nn.Module):
    """The network's training forward as one module (what Accelerate wraps for DDP / DeepSpeed): the
    face projection, the ReferenceNet filling the bank (with gradients in stage 1), the face locator, the
    audio projection (stage 2) and the denoising UNet -> the weighted v-prediction loss (a scalar).

    The reference bank is filled in ``forward`` and must be cleared by the caller after ``backward``.
    """

    def __init__(self, net, stage: int):
        super().__init__()
        self.net, self.stage = net, stage

    def forward(self, x: dict) -> torch.Tensor:
        from ..neural.attention import AudioConditioning
        from ..neural.net import fill_bank

        net = self.net
        keep_ref = x["keep_ref"]
        context = torch.cat([x["text"], net.face_proj(x["face"] * keep_ref[:, None])], 1)
        with torch.set_grad_enabled(self.stage == 1 and torch.is_grad_enabled()):
            fill_bank(net.reference_unet, net.bank, x["ref_latents"], context.repeat_interleave(x["n_slots"], 0),
                      x["n_slots"])
        locator = net.face_locator(x["box"]) * keep_ref[:, None, None, None]
        cond = None
        if self.stage == 2:
            tokens = net.audio_proj(x["windows"]) * x["keep_audio"][:, None, None, None]
            cond = AudioConditioning(tokens, x["text"], x["masks"])
        pred = net.denoise(x["noisy"], x["t"], context, cond, locator, keep_ref)
        mse = ((pred.float() - x["v"].float()) ** 2).mean(dim=(1, 2, 3, 4))
        return (mse * x["weight"]).mean()
