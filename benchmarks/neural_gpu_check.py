"""GPU check of the neural engine with the released weights (run where CUDA and the weights are).

Three steps, each printed as it finishes:

1. strict load of ``WEIGHTS/emocast/net.pth`` into our :class:`~emocast.neural.net.EmoCASTNet`
   through :func:`emocast.neural.convert.load_release_checkpoint` (seconds, parameter count);
2. with ``--release DIR``: ``benchmarks/neural_parity.py`` on the real weights, ``--config full``,
   ``--dtype float16 --device cuda`` (tolerance 1e-2 of max |v|, see that script); skipped without it;
3. one ``--frames`` (16) frame clip at ``--size`` (512) px and ``--steps`` (40) DDIM steps through our
   :class:`~emocast.neural.pipeline.EmoCASTPipeline` (built by
   :func:`emocast.neural.weights.load_pipeline`, as :func:`emocast.neural.api.generate_frames`
   does), CFG 3.5 (two UNet rows per step), on a synthetic portrait and tone. Prints seconds per
   denoising step (one UNet call, timed with CUDA synchronisation; mean and median), the clip's
   wall time, and ``torch.cuda.max_memory_allocated`` in GiB.

``--dry-run`` does the same on the CPU with tiny random weights written in the release's layout
(:func:`~emocast.neural.tiny.tiny_components`, :func:`~emocast.neural.weights.save_release_layout`),
the tiny parity config for step 2, and a 16-frame 64 px clip at 2 steps; memory is then the
process's peak resident size. Exit status: 0 all steps passed, 1 parity failed, 2 a step failed.

Usage::

    python benchmarks/neural_gpu_check.py --weights pretrained_models --release /tmp/emocast_release
    python benchmarks/neural_gpu_check.py --dry-run --release /tmp/emocast_release
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="release pretrained_models folder (emocast/net.pth, sd-vae-ft-mse, ...)")
    p.add_argument("--release", help="folder with the release's source, for the parity step (skipped if absent)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--dtype", choices=("float16", "bfloat16", "float32"), default="float16")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--dry-run", action="store_true", help="tiny random weights on the CPU (checks the script)")
    args = p.parse_args(argv)
    if args.dry_run:
        args.device, args.dtype, args.size, args.steps = "cpu", "float32", 64, min(args.steps, 2)
    elif not args.weights:
        p.error("--weights is required (or --dry-run)")
    return args


def tiny_weights(folder: str) -> str:
    """Tiny random components in the release's folder layout (ArcFace is an empty placeholder)."""
    from emocast.neural.tiny import tiny_components
    from emocast.neural.weights import save_release_layout

    save_release_layout(folder, **tiny_components(seed=0))
    os.makedirs(os.path.join(folder, "face_analysis", "models"), exist_ok=True)
    open(os.path.join(folder, "face_analysis", "models", "glintr100.onnx"), "wb").close()
    return folder


def step_load(weights: str, dtype) -> None:
    import torch

    from emocast.neural.convert import load_release_checkpoint
    from emocast.neural.net import build_net
    from emocast.neural.weights import check_weights, net_config_for

    path = check_weights(weights)["net"]
    t0 = time.time()
    net = build_net(net_config_for(path), device="meta")
    load_release_checkpoint(net, path, dtype=dtype)        # strict: raises on any key / shape mismatch
    n = sum(p.numel() for p in net.parameters())
    meta = sum(p.is_meta for p in net.parameters()) + sum(b.is_meta for b in net.buffers())
    print(f"[1] strict load of {path}: {n / 1e9:.3f} B parameters, {time.time() - t0:.1f} s, "
          f"{meta} tensors left on meta")
    del net
    if meta:
        raise RuntimeError("tensors left on the meta device")
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def step_parity(args) -> int:
    cmd = [sys.executable, os.path.join(HERE, "neural_parity.py"), "--release", args.release,
           "--device", args.device, "--dtype", "float16" if args.device != "cpu" else "float32"]
    cmd += ["--config", "tiny"] if args.dry_run else ["--config", "full", "--weights", args.weights]
    print("[2] " + " ".join(cmd), flush=True)
    return subprocess.call(cmd)


def step_clip(args, weights: str, dtype) -> None:
    import torch

    from emocast.neural.weights import load_pipeline

    pipe, _ = load_pipeline(weights, device=args.device, dtype=dtype)
    times = []

    def pre(mod, a):
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        mod._t0 = time.perf_counter()

    def post(mod, a, out):
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - mod._t0)

    h1 = pipe.denoising_unet.register_forward_pre_hook(pre)
    h2 = pipe.denoising_unet.register_forward_hook(post)
    rng = np.random.default_rng(0)
    image = (rng.random((args.size, args.size, 3)) * 255).astype(np.uint8)
    t = np.arange(int(16000 * args.frames / 25)) / 16000.0
    audio = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    t0 = time.time()
    frames = list(pipe.iter_frames(image, audio, "a happy person talking", num_inference_steps=args.steps,
                                   clip_frames=args.frames, size=args.size, progress=False))
    wall = time.time() - t0
    h1.remove()
    h2.remove()
    if args.device.startswith("cuda"):
        mem = f"torch.cuda.max_memory_allocated {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB"
    else:
        import resource
        mem = f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB (CPU)"
    print(f"[3] {len(frames)} frames {args.size}px, {args.steps} steps, {str(dtype)[6:]} on {args.device}: "
          f"{statistics.mean(times):.3f} s/step mean, {statistics.median(times):.3f} median "
          f"({len(times)} UNet calls), clip {wall:.1f} s, {mem}")


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    if args.dry_run:
        torch.set_num_threads(1)
    if not args.dry_run and args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is not available (use --dry-run on a CPU machine)")
        return 2
    dtype = getattr(torch, args.dtype)
    weights = args.weights or tiny_weights(tempfile.mkdtemp(prefix="emocast_gpu_check_"))
    status = 0
    try:
        step_load(weights, dtype)
    except Exception as e:  # noqa: BLE001  (report it and go on with the other steps)
        print(f"[1] FAILED: {type(e).__name__}: {e}")
        status = 2
    if args.release:
        rc = step_parity(args)
        status = max(status, {0: 0, 1: 1}.get(rc, 2))
    else:
        print("[2] parity skipped (no --release)")
    try:
        step_clip(args, weights, dtype)
    except Exception as e:  # noqa: BLE001
        print(f"[3] FAILED: {type(e).__name__}: {e}")
        status = 2
    print("OK" if status == 0 else f"exit {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
