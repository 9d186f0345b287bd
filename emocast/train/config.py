"""Training presets as typed config (paper Sec. 3.4; Hallo's two stages), overridable from a JSON file.

:class:`TrainConfig` holds every setting once, with its unit and why; :func:`preset` gives the release-size
recipe (``"release"``) or the few-channel network for CPUs and tests (``"tiny"``), and :func:`load` applies a
user's JSON overrides on top.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field

from ..errors import InputError

STAGE1_PARTS = ("reference_unet", "denoising_unet", "face_adapter", "face_locator")
"""Image stage: the ReferenceNet, the spatial denoising UNet, the face projection and the face locator."""
STAGE1_FROZEN = ("denoising_unet.*motion_modules.*", "denoising_unet.*audio_modules.*")
"""Parts of ``denoising_unet`` that stay frozen in stage 1 (bypassed: one frame, no audio)."""
STAGE2_PARTS = ("motion_modules", "audio_modules", "audio_proj")
"""Video stage: the motion modules that run, the audio modules (emotive audio attention included) and the
audio projection; everything else frozen."""

PHASES = {
    1: {"in-the-wild": 1.0, "MEAD": 1.0, "HDTF": 1.0},
    2: {"MEAD": 1.0, "HDTF": 1.0},
    3: {"HDTF": 1.0},
}
"""Progressive functional training (paper Sec. 3.4.2): corpus -> sampling weight per phase. Phase 1: every
source, for generalisation; 2: MEAD + HDTF, for emotion; 3: HDTF only, for lip sync."""


@dataclass(frozen=True)
class TrainConfig:
    """One training run's settings (``emocast train``).

    Attributes:
        stage: 1 (image level) or 2 (video: motion and audio modules).
        phase_steps: optimiser steps of phases 1, 2 and 3 (run in sequence unless ``--phase`` picks one).
        phase_weights: per phase, corpus -> sampling weight (:data:`PHASES`; a corpus absent or 0 is not sampled).
        size: training resolution, px (512 in the paper; multiples of 64).
        frames: frames per stage-2 sample (14, as the release's 16-frame clips less its 2 motion frames).
        motion_frames: previous frames given as motion context in stage 2 (2).
        batch_size: samples per step per process (stage 2 trains one clip per device: the reference bank
            pairs frame rows with reference rows by ``k % B``).
        grad_accumulation: steps whose gradients are summed before an optimiser update.
        learning_rate: AdamW learning rate (1e-5, Hallo's), warmup_steps: linear warm-up, steps.
        weight_decay, adam_beta1, adam_beta2, adam_eps, max_grad_norm: AdamW and clipping (Hallo's values).
        mixed_precision: ``"no"``, ``"fp16"`` or ``"bf16"`` (autocast; trainable weights stay float32).
        gradient_checkpointing: recompute activations in backward (memory for time).
        noise_offset: std of the per-sample, per-channel offset added to the noise (0.05, Hallo's).
        snr_gamma: min-SNR-gamma loss weighting (Hang et al. 2023), 5.0; ``None`` for a plain MSE.
        drop_text / drop_reference / drop_audio: per-sample probabilities of dropping each guidance branch's
            condition (the emotion text; the reference image, face embedding and face locator; the audio), so
            classifier-free guidance has its unconditional branches; 0.05 each.
        eval_every, eval_samples: steps between evaluation losses, and the fixed (clip, timestep, noise) triples.
        save_every, keep_checkpoints: steps between resumable checkpoints, and how many are kept.
        preview_every: steps between preview videos (0: none), log_every: steps between metric lines.
        seed: the seed of the data plan, noise and dropout.
        tensorboard: also log to TensorBoard (RUN/tensorboard).
    """

    stage: int = 1
    phase_steps: tuple = (3000, 2000, 1000)
    phase_weights: dict = field(default_factory=lambda: {str(k): dict(v) for k, v in PHASES.items()})
    size: int = 512
    frames: int = 14
    motion_frames: int = 2
    batch_size: int = 4
    grad_accumulation: int = 1
    learning_rate: float = 1e-5
    warmup_steps: int = 0
    weight_decay: float = 1e-2
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_eps: float = 1e-8
    max_grad_norm: float = 1.0
    mixed_precision: str = "bf16"
    gradient_checkpointing: bool = True
    noise_offset: float = 0.05
    snr_gamma: float | None = 5.0
    drop_text: float = 0.05
    drop_reference: float = 0.05
    drop_audio: float = 0.05
    eval_every: int = 500
    eval_samples: int = 8
    save_every: int = 500
    keep_checkpoints: int = 3
    preview_every: int = 0
    log_every: int = 10
    seed: int = 42
    tensorboard: bool = False

    def replace(self, **kw) -> "TrainConfig":
        return dataclasses.replace(self, **kw)

    def validate(self) -> "TrainConfig":
        def bad(name, problem):
            raise InputError(f"train config {name}", problem)

        if self.stage not in (1, 2):
            bad("stage", "must be 1 or 2")
        if self.size % 64:
            bad("size", "must be a multiple of 64")
        if self.stage == 2 and self.batch_size != 1:
            bad("batch_size", "stage 2 trains one clip per step per device (use grad_accumulation)")
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            bad("mixed_precision", "must be no, fp16 or bf16")
        if len(self.phase_steps) != 3 or min(self.phase_steps) < 0:
            bad("phase_steps", "must be three step counts >= 0")
        for p in ("drop_text", "drop_reference", "drop_audio"):
            if not 0 <= getattr(self, p) < 1:
                bad(p, "must be within [0, 1)")
        return self

    @property
    def clip_frames(self) -> int:
        """Frames in one training sample: 1 in stage 1, ``frames`` in stage 2."""
        return 1 if self.stage == 1 else self.frames


PRESETS = {
    "release": {},
    "tiny": dict(size=64, frames=6, batch_size=2, learning_rate=1e-3, mixed_precision="no", gradient_checkpointing=False,
                 eval_every=50, eval_samples=2, save_every=50, phase_steps=(200, 0, 0), log_every=10,
                 noise_offset=0.0),
}
"""Named presets: ``release`` (the paper's 512 px recipe, for GPUs) and ``tiny`` (the few-channel network of
:func:`emocast.neural.tiny_config` at 64 px, for CPUs: it overfits a clip, which is what its tests check)."""


def preset(name: str, stage: int) -> TrainConfig:
    """The named preset for a stage (stage 2 uses batch 1)."""
    if name not in PRESETS:
        raise InputError("--preset", f"unknown preset {name!r} (one of {', '.join(PRESETS)})")
    kw = dict(PRESETS[name], stage=stage)
    if stage == 2:
        kw["batch_size"] = 1
    return TrainConfig(**kw)


def load(name: str, stage: int, path: str | None = None, **overrides) -> TrainConfig:
    """A preset, then a JSON file's fields, then ``overrides`` (flags); validated.

    Raises:
        InputError: an unknown preset, an unreadable file, an unknown field or a bad value.
    """
    cfg = preset(name, stage)
    if path:
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            raise InputError(path, f"cannot read the training config ({type(e).__name__})") from None
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(path, f"unknown training setting {unknown[0]!r}")
        if "phase_steps" in data:
            data["phase_steps"] = tuple(data["phase_steps"])
        cfg = cfg.replace(**data)
    return cfg.replace(**{k: v for k, v in overrides.items() if v is not None}).validate()


def to_json(cfg: TrainConfig) -> dict:
    return dataclasses.asdict(cfg)


def config_dir() -> str:
    """Folder of the package's ``accelerate launch`` config files."""
    return os.path.join(os.path.dirname(__file__), "accelerate")
