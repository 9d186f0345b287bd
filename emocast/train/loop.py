"""``emocast train``: the training loop on Accelerate (one process, DDP, DeepSpeed ZeRO-2 alike).

Per optimiser step every process takes its own samples of the run's plan (sample ``(step * P + rank) * B + b``
of :class:`~emocast.train.data.TrainingSet`), so ``P`` processes never see the same sample and a resumed run
continues the plan where it stopped. ``accelerator.save_state`` keeps the optimiser, scheduler, RNG and the
run's position (:class:`RunState`) in ``RUN/checkpoints/checkpoint_N`` (the newest ``keep_checkpoints``); the
trainable weights alone also go to ``RUN/trainable.safetensors``. Metrics: one JSON line per logged step in
``RUN/metrics.jsonl`` (step, phase, loss, learning rate, seconds per step, and the evaluation loss on fixed
(clip, timestep, noise) triples every ``eval_every`` steps).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time

import numpy as np
import torch

from ..errors import InputError
from ..media.audio import load_audio
from .config import TrainConfig, to_json
from .data import TrainingSet
from .model import Components, NetLoss, load_components, noise_schedule, prepare_inputs, set_stage

EVAL_INDEX = 10 ** 9
"""Plan indices of the evaluation samples start here (never reached by training)."""
TRAINABLE = "trainable.safetensors"


class RunState:
    """The run's position, saved and restored with the checkpoint: optimiser steps done per phase."""

    def __init__(self):
        self.done = {1: 0, 2: 0, 3: 0}

    def state_dict(self):
        return {"done": {str(k): v for k, v in self.done.items()}}

    def load_state_dict(self, d):
        self.done = {int(k): int(v) for k, v in d["done"].items()}

    @property
    def total(self) -> int:
        return sum(self.done.values())


class AudioWindows:
    """wav2vec2 windows of a clip's frames: the dataset's stored features, or the weights folder's wav2vec2
    run on the clip's audio the same way (cached per clip)."""

    def __init__(self, folder: str, comp: Components, window: int):
        self.folder, self.comp, self.window = folder, comp, window
        self.cache: dict[str, np.ndarray] = {}

    def features(self, rec: dict) -> np.ndarray:
        if rec["id"] not in self.cache:
            p = rec["paths"].get("audio_features")
            if p and os.path.isfile(os.path.join(self.folder, p)):
                feats = np.load(os.path.join(self.folder, p)).astype(np.float32)
            else:
                from ..dataset.features import audio_features

                wav = load_audio(os.path.join(self.folder, rec["paths"]["audio"]), check_silence=False)
                feats = audio_features(self.comp.audio_encoder, wav, rec["n_frames"], rec["fps"])
            self.cache[rec["id"]] = feats
        return self.cache[rec["id"]]

    def __call__(self, rec: dict, start: int, frames: int) -> np.ndarray:
        """``float32 (frames, window, layers, dim)``: frame ``i`` gets ``i - w//2 .. i + w//2``, clamped."""
        from ..neural.audio import audio_windows

        feats = self.features(rec)
        half = self.window // 2
        lo, hi = max(0, start - half), min(len(feats), start + frames + half)  # the frames the windows reach
        return audio_windows(torch.from_numpy(feats[lo:hi]), self.window)[start - lo:start - lo + frames].numpy()


def latest_checkpoint(run: str) -> str | None:
    folder = os.path.join(run, "checkpoints")
    if not os.path.isdir(folder):
        return None
    ids = [int(m.group(1)) for n in os.listdir(folder) if (m := re.fullmatch(r"checkpoint_(\d+)", n))]
    return os.path.join(folder, f"checkpoint_{max(ids)}") if ids else None


def _check_disk(path: str, need_bytes: int) -> None:
    free = shutil.disk_usage(path).free
    if free < need_bytes:
        raise InputError(path, f"disk full: {free / 2**20:.0f} MiB free, a checkpoint needs about "
                         f"{need_bytes / 2**20:.0f} MiB")


def trainable_state(net) -> dict:
    return {k: v.detach().float().cpu().contiguous() for k, v in net.named_parameters() if v.requires_grad}


def train(data: str, weights: str, run: str, cfg: TrainConfig, phase: int | None = None, resume: str | None = None,
          progress: bool = True, max_steps: int | None = None, cpu: bool = False) -> dict:
    """Train (or resume training) one stage.

    Args:
        data: dataset folder (``emocast dataset build``).
        weights: weights folder in the release's layout; its ``emocast/net.pth`` is the starting network
            (the release, or an earlier export).
        run: run folder (created): ``run.json``, ``metrics.jsonl``, ``checkpoints/``, ``trainable.safetensors``.
        cfg: :class:`TrainConfig`.
        phase: train only this phase (1-3); default every phase with steps, in order.
        resume: ``"latest"`` or a checkpoint folder.
        max_steps: stop after this many optimiser steps in this call (the run stays resumable).
        cpu: force the CPU.

    Returns:
        ``{"steps", "loss", "eval_loss", "trainable", "seconds_per_step"}`` of this call.

    Raises:
        InputError: bad dataset or weights, a run folder that holds another run, nothing to resume, a full disk.
    """
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed

    os.makedirs(run, exist_ok=True)
    meta_path = os.path.join(run, "run.json")
    meta = {"stage": cfg.stage, "weights": os.path.abspath(weights), "data": os.path.abspath(data),
            "config": to_json(cfg)}
    if os.path.isfile(meta_path):
        with open(meta_path) as f:
            old = json.load(f)
        if old.get("stage") != cfg.stage or old.get("config") != json.loads(json.dumps(meta["config"])):
            if not resume:
                raise InputError(run, "holds another run (other stage or settings); use a new folder")
    accelerator = Accelerator(
        mixed_precision=cfg.mixed_precision, gradient_accumulation_steps=cfg.grad_accumulation, cpu=cpu,
        log_with="tensorboard" if cfg.tensorboard else None,
        project_config=ProjectConfiguration(project_dir=run, logging_dir=os.path.join(run, "tensorboard"),
                                            automatic_checkpoint_naming=True, total_limit=cfg.keep_checkpoints))
    set_seed(cfg.seed)
    comp = load_components(weights)
    net = comp.net
    n_trainable = set_stage(net, cfg)
    if cfg.gradient_checkpointing:
        net.enable_gradient_checkpointing()
    device = accelerator.device
    comp.pipeline.to(device)  # the network too; Accelerate's prepare keeps it there
    loss_module = NetLoss(net, cfg.stage)
    scheduler = noise_schedule()
    n_levels = len(net.cfg.block_out_channels)
    phases = [phase] if phase else [p for p in (1, 2, 3) if cfg.phase_steps[p - 1] > 0]
    if not phases:
        raise InputError("--steps", "no phase has steps to train")
    first = Phase(data, comp, cfg, phases[0], scheduler, device, n_levels)
    n_trainable -= freeze_unused(loss_module, first.inputs([first.set.sample(EVAL_INDEX)], [500], dropout=False))
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, betas=(cfg.adam_beta1, cfg.adam_beta2),
                            weight_decay=cfg.weight_decay, eps=cfg.adam_eps)
    warm = max(1, cfg.warmup_steps)
    lr_sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm))
    state = RunState()
    accelerator.register_for_checkpointing(state)
    model, opt, lr_sched = accelerator.prepare(loss_module, opt, lr_sched)
    if resume:
        path = latest_checkpoint(run) if resume == "latest" else resume
        if not path or not os.path.isdir(path):
            raise InputError(resume if resume != "latest" else run, "no checkpoint to resume from")
        accelerator.load_state(path)
        accelerator.project_configuration.iteration = int(path.rsplit("_", 1)[1]) + 1
    if accelerator.is_main_process:
        from ..media.files import write_json

        write_json(meta_path, meta)
        if cfg.tensorboard:
            accelerator.init_trackers("emocast")
    metrics_path = os.path.join(run, "metrics.jsonl")
    world, rank, b = accelerator.num_processes, accelerator.process_index, cfg.batch_size
    steps_here, last_loss, last_eval, t_total = 0, None, None, 0.0
    def log_line(line):
        if accelerator.is_main_process:
            with open(metrics_path, "a") as f:
                f.write(json.dumps(line) + "\n")
            if cfg.tensorboard:
                accelerator.log({k: v for k, v in line.items() if k not in ("step", "phase")}, step=line["step"])

    for ph in phases:
        cur = first if ph == phases[0] else Phase(data, comp, cfg, ph, scheduler, device, n_levels)

        def eval_loss():
            model.eval()
            out = []
            with torch.no_grad():
                for s_, t_ in zip(cur.eval_samples, cur.eval_t):
                    out.append(float(model(cur.inputs([s_], [t_], dropout=False))))
                    accelerator.unwrap_model(model).net.bank.clear()
            model.train()
            return float(np.mean(out))

        if state.total == 0 and cfg.eval_every and ph == phases[0]:
            log_line({"step": 0, "phase": ph, "eval_loss": round(eval_loss(), 6)})
        while state.done[ph] < cfg.phase_steps[ph - 1]:
            if max_steps is not None and steps_here >= max_steps:
                break
            t0 = time.perf_counter()
            step = state.done[ph]
            for micro in range(cfg.grad_accumulation):
                base = ((step * cfg.grad_accumulation + micro) * world + rank) * b
                samples = [cur.set.sample(base + k) for k in range(b)]
                with accelerator.accumulate(model):
                    loss = model(cur.inputs(samples))
                    accelerator.backward(loss)
                    if accelerator.sync_gradients and cfg.max_grad_norm:
                        accelerator.clip_grad_norm_(params, cfg.max_grad_norm)
                    opt.step()
                    lr_sched.step()
                    opt.zero_grad(set_to_none=True)
                accelerator.unwrap_model(model).net.bank.clear()  # only now: backward needed its tensors
            state.done[ph] += 1
            steps_here += 1
            dt = time.perf_counter() - t0
            t_total += dt
            last_loss = float(accelerator.gather(loss.detach()[None]).mean())
            total = state.total
            line = None
            if total % cfg.log_every == 0 or total == 1:
                line = {"step": total, "phase": ph, "loss": round(last_loss, 6),
                        "lr": lr_sched.get_last_lr()[0], "seconds_per_step": round(dt, 4)}
            if cfg.eval_every and total % cfg.eval_every == 0:
                last_eval = eval_loss()
                line = (line or {"step": total, "phase": ph}) | {"eval_loss": round(last_eval, 6)}
            if line:
                log_line(line)
            if cfg.save_every and total % cfg.save_every == 0:
                save(accelerator, model, run)
            if cfg.preview_every and total % cfg.preview_every == 0 and accelerator.is_main_process:
                write_preview(accelerator.unwrap_model(model), cur, run, total)
    if steps_here:
        save(accelerator, model, run)
    if steps_here and cfg.eval_samples and (not cfg.eval_every or state.total % cfg.eval_every):
        last_eval = eval_loss()
        log_line({"step": state.total, "phase": phases[-1], "eval_loss": round(last_eval, 6)})
    accelerator.end_training()
    return {"steps": steps_here, "total_steps": state.total, "loss": last_loss, "eval_loss": last_eval,
            "trainable": n_trainable, "seconds_per_step": round(t_total / max(1, steps_here), 4)}


class Phase:
    """One phase's samples, evaluation triples and input preparation."""

    def __init__(self, data: str, comp: Components, cfg: TrainConfig, phase: int, scheduler, device, n_levels: int):
        self.set = TrainingSet(data, cfg, phase, comp.net.cfg.face_embed_dim, n_levels)
        self.windows = AudioWindows(data, comp, comp.net.cfg.audio_window) if cfg.stage == 2 else None
        self.eval_samples = [self.set.sample(EVAL_INDEX + k) for k in range(cfg.eval_samples)]
        self.eval_t = np.linspace(100, 900, cfg.eval_samples).round().astype(int).tolist()
        self.comp, self.cfg, self.scheduler, self.device = comp, cfg, scheduler, device

    def inputs(self, samples, fixed_t=None, dropout=True) -> dict:
        audio = None
        if self.windows:
            audio = [self.windows(self.set.by_id[s.clip], s.start, self.cfg.clip_frames) for s in samples]
        return prepare_inputs(self.comp, samples, audio, self.cfg, self.scheduler, self.device, fixed_t, dropout)


PREVIEW_STEPS = 10
"""DDIM steps of a preview clip (a glance at progress, not a result)."""


def write_preview(loss_module, cur: "Phase", run: str, step: int) -> str:
    """``RUN/previews/step_NNNNNN.mp4``: one 16-frame clip sampled by the pipeline, as inference does, from
    the first evaluation sample's reference image, audio and description, at the training size."""
    from ..media.video import write_video

    net, comp, cfg = loss_module.net, cur.comp, cur.cfg
    s = cur.eval_samples[0]
    rec = cur.set.by_id[s.clip]
    image = ((s.reference.transpose(1, 2, 0) + 1) * 127.5).clip(0, 255).astype(np.uint8)
    wav = load_audio(os.path.join(cur.set.folder, rec["paths"]["audio"]), check_silence=False)[:16 * 640]
    lms = np.load(os.path.join(cur.set.folder, rec["paths"]["landmarks"]))[0] * (cfg.size / rec["size"])
    temporal = net.denoising_unet.temporal
    net.denoising_unet.temporal = True
    try:
        frames = list(comp.pipeline.iter_frames(image, wav, s.text or "neutral", landmarks=lms, size=cfg.size,
                                       num_inference_steps=PREVIEW_STEPS, progress=False))
    finally:
        net.denoising_unet.temporal = temporal
        loss_module.train()
    os.makedirs(os.path.join(run, "previews"), exist_ok=True)
    return write_video(os.path.join(run, "previews", f"step_{step:06d}.mp4"), frames, wav, fps=25)


def freeze_unused(loss_module, inputs: dict) -> int:
    """Freeze the trainable parameters one forward and backward leave without a gradient (the ReferenceNet's
    layers after its last bank write, which nothing reads), so no distributed step has unused parameters.
    Parameters are not changed. Returns how many scalars were frozen."""
    loss_module(inputs).backward()
    loss_module.net.bank.clear()
    frozen = 0
    for p in loss_module.parameters():
        if p.requires_grad and p.grad is None:
            p.requires_grad_(False)
            frozen += p.numel()
        p.grad = None
    return frozen


def save(accelerator, model, run: str) -> None:
    """A resumable checkpoint (Accelerate state) and the trainable weights as safetensors."""
    from safetensors.torch import save_file

    net = accelerator.unwrap_model(model).net
    weights = trainable_state(net)
    if accelerator.is_main_process:
        _check_disk(run, 3 * sum(v.numel() * 4 for v in weights.values()) + (16 << 20))
    accelerator.save_state()
    if accelerator.is_main_process:
        tmp = os.path.join(run, f".{TRAINABLE}.tmp")
        save_file(weights, tmp)
        os.replace(tmp, os.path.join(run, TRAINABLE))
