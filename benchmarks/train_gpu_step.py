"""Seconds per training step and peak memory of the full-size network (run where a GPU is).

Stage 2 (``--stage 2``, default) at 512 px: one 14-frame clip with 2 motion frames, batch 1, bf16 autocast
with the trainable weights in float32, gradient checkpointing, AdamW over the stage's parts
(:func:`emocast.train.model.set_stage`), through :class:`emocast.train.model.NetLoss` exactly as
``emocast train`` calls it. The network has random weights of the release's sizes and the inputs are
synthetic tensors of the encoders' shapes (no weights download; speed and memory do not depend on the
values). Prints the trainable parameter count, seconds per step (mean of ``--steps`` after one warm-up,
CUDA-synchronised) and ``torch.cuda.max_memory_allocated`` in GiB.

``--dry-run`` does the same with the tiny network at 64 px on the CPU (6 frames).

Usage::

    python benchmarks/train_gpu_step.py [--stage 1|2] [--steps 3] [--no-checkpointing]
    python benchmarks/train_gpu_step.py --dry-run
"""
from __future__ import annotations

import argparse
import json
import time

import torch


def inputs(cfg, stage: int, frames: int, size: int, device) -> dict:
    from emocast.neural.masks import region_masks

    side = size // 8
    f = 1 if stage == 1 else frames
    slots = 1 if stage == 1 else 3
    rm = region_masks([[size * 0.3, size * 0.2], [size * 0.7, size * 0.2], [size * 0.7, size * 0.8],
                       [size * 0.3, size * 0.8]], (size, size), size, len(cfg.block_out_channels))
    x = {"noisy": torch.randn(1, cfg.latent_channels, f, side, side), "v": torch.randn(1, cfg.latent_channels, f, side, side),
         "t": torch.tensor([500]), "weight": torch.ones(1), "n_slots": slots,
         "ref_latents": torch.randn(slots, cfg.latent_channels, side, side), "text": torch.randn(1, 77, cfg.cross_attention_dim),
         "face": torch.randn(1, cfg.face_embed_dim), "box": torch.from_numpy(rm.face_box_image)[None, None].expand(1, 3, -1, -1),
         "keep_ref": torch.tensor([True]), "keep_audio": torch.tensor([True])}
    if stage == 2:
        x["windows"] = torch.randn(1, f, cfg.audio_window, cfg.audio_layers, cfg.audio_dim)
        x["masks"] = {r: [torch.from_numpy(m)[None] for m in getattr(rm, r)] for r in ("full", "face", "lip")}
    return {k: (v.to(device) if torch.is_tensor(v) else
                {r: [m.to(device) for m in ms] for r, ms in v.items()} if isinstance(v, dict) else v)
            for k, v in x.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stage", type=int, default=2, choices=(1, 2))
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--frames", type=int, default=14)
    ap.add_argument("--no-checkpointing", action="store_true")
    ap.add_argument("--dry-run", action="store_true", help="tiny network, 64 px, CPU")
    args = ap.parse_args()

    from emocast.neural.config import full_config, tiny_config
    from emocast.neural.net import build_net
    from emocast.train.config import TrainConfig
    from emocast.train.model import NetLoss, set_stage

    dev = "cpu" if args.dry_run else "cuda"
    ncfg = tiny_config() if args.dry_run else full_config()
    size, frames = (64, 6) if args.dry_run else (512, args.frames)
    dtype = torch.float32 if args.dry_run else torch.bfloat16
    net = build_net(ncfg, device=dev)
    n = set_stage(net, TrainConfig(stage=args.stage, batch_size=1))
    if not args.no_checkpointing:
        net.enable_gradient_checkpointing()
    model = NetLoss(net, args.stage).train()
    opt = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-5)
    x = inputs(ncfg, args.stage, frames, size, dev)
    times = []
    for k in range(args.steps + 1):
        if dev == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast(dev, dtype=dtype, enabled=dtype != torch.float32):
            loss = model(x)
        loss.backward()
        net.bank.clear()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if dev == "cuda":
            torch.cuda.synchronize()
        if k:
            times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated() / 2 ** 30 if dev == "cuda" else None
    print(json.dumps({"stage": args.stage, "size": size, "frames": 1 if args.stage == 1 else frames,
                      "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "trainable": n,
                      "checkpointing": not args.no_checkpointing, "seconds_per_step": round(sum(times) / len(times), 3),
                      "peak_gib": None if peak is None else round(peak, 2), "loss": float(loss)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
