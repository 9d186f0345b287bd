"""``emocast train``: train the paper's network on an ``emocast dataset`` folder (Accelerate), and export it."""
from __future__ import annotations

import argparse
import json

EPILOG = """examples:
  emocast train --stage 1 --data data/ --weights pretrained_models/ -o runs/s1            # all phases in turn
  emocast train --stage 2 --phase 3 --data data/ --weights s1-export/ -o runs/s2 --resume latest
  emocast train --stage 1 --preset tiny --data data/ --weights tiny-weights/ -o runs/t --cpu
  accelerate launch --config_file "$(python -c 'import emocast.train.config as c; print(c.config_dir())')/deepspeed_zero2.yaml" \\
      -m emocast train --stage 2 --data data/ --weights w/ -o runs/s2          # also one_gpu.yaml, multi_gpu.yaml
  emocast train export runs/s2 -o my-weights/ && emocast generate --engine neural --weights my-weights/ ...

Stage 1 trains the ReferenceNet, the spatial denoising UNet, the face projection and the face locator on
single frames (temporal and audio modules bypassed); stage 2 trains the motion and audio modules and the
audio projection on 14-frame clips with 2 motion frames. Settings: --preset, then --config FILE.json
(any TrainConfig field), then the flags below. Outputs: RUN/metrics.jsonl, RUN/checkpoints/ (resumable),
RUN/trainable.safetensors; interrupted runs continue with --resume latest.
"""


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train the paper's network (stage 1 / 2, phases 1-3) on Accelerate; export",
                       description=__doc__.split(":", 1)[1].strip(), epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", type=int, choices=(1, 2), help="1: image level, 2: video (motion + audio modules)")
    p.add_argument("--phase", type=int, choices=(1, 2, 3), help="train only this phase (default: each in turn)")
    p.add_argument("--data", help="dataset folder (emocast dataset build)")
    p.add_argument("--weights", help="weights folder in the release's layout (its emocast/net.pth is the start)")
    p.add_argument("--output", "-o", metavar="RUN", help="run folder")
    p.add_argument("--resume", metavar="CHECKPOINT", help="'latest' or a checkpoint folder")
    p.add_argument("--preset", default="release", help="release (512 px, GPUs) or tiny (64 px, CPUs); default release")
    p.add_argument("--config", metavar="FILE.json", help="TrainConfig fields overriding the preset")
    p.add_argument("--steps", type=int, help="steps of the phase(s) trained (overrides phase_steps)")
    p.add_argument("--max-steps", type=int, help="stop after this many steps in this call (resumable)")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even when a GPU is present")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.set_defaults(func=run)
    sp = p.add_subparsers(dest="train_command", metavar="[export]")
    e = sp.add_parser("export", help="a run's weights -> a weights folder laid out like the release")
    e.add_argument("run", metavar="RUN")
    e.add_argument("--output", "-o", dest="export_output", required=True, metavar="WEIGHTS")
    e.set_defaults(func=run_export)


def run(args) -> int:
    from ..errors import InputError
    from ..train.config import load
    from ..train.loop import train

    for flag in ("stage", "data", "weights", "output"):
        if getattr(args, flag) is None:
            raise InputError(f"--{flag}", "is required (see emocast train --help)")
    cfg = load(args.preset, args.stage, args.config)
    if args.steps is not None:  # the chosen phase's steps, or every phase's that has steps
        cfg = cfg.replace(phase_steps=tuple(args.steps if (ph == args.phase or (not args.phase and n)) else n
                                            for ph, n in zip((1, 2, 3), cfg.phase_steps))).validate()
    r = train(args.data, args.weights, args.output, cfg, phase=args.phase, resume=args.resume,
              progress=not args.quiet, max_steps=args.max_steps, cpu=args.cpu)
    print(json.dumps(r))
    return 0


def run_export(args) -> int:
    from ..train.export import export

    print(export(args.run, args.export_output))
    return 0
