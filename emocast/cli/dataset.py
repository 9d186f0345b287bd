"""``emocast dataset``: build ETTH-style training data from talking-head videos, and inspect it."""
from __future__ import annotations

import argparse
import json
import sys

EPILOG = """examples:
  emocast dataset build videos/ -o data/                 # every video under videos/, one process
  emocast dataset build list.txt -o data/ --workers 2    # a list file, two local worker processes
  emocast dataset build videos/ -o data/ --ray           # Ray Data on a local Ray (--ray ADDRESS: a cluster)
  emocast dataset build videos/ -o data/ --syncnet syncnet_v2.model --max-repair 0
  emocast dataset stats data/; emocast dataset validate data/; emocast dataset preview data/ -o sheet.png
  emocast dataset describe data/ --describer "llama-cli -m model.gguf -p {prompt}"

A rerun skips every step whose inputs are unchanged; deleting one artifact rebuilds only it. One bad
video is recorded in the manifest with its reason and never stops the build. The manifest
(DATA/manifest.jsonl) is documented in README.md ("Training data").
"""


def add_parser(sub) -> None:
    from ..dataset.config import add_arguments

    p = sub.add_parser("dataset", help="build ETTH-style training clips from videos; stats, validate, preview",
                       description=__doc__.split(":", 1)[1].strip(), epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    ds = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)

    b = ds.add_parser("build", help="videos -> clips + manifest.jsonl (resumable)", epilog=EPILOG,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("sources", nargs="+", metavar="SOURCE", help="video files, folders of videos, or list files (.txt)")
    b.add_argument("--output", "-o", required=True, metavar="DATASET", help="dataset folder (created)")
    b.add_argument("--workers", "-j", type=int, default=1,
                   help="local worker processes, or Ray actors per stage with --ray (default: 1; 0 with --ray: one per CPU)")
    b.add_argument("--ray", nargs="?", const=True, default=None, metavar="ADDRESS",
                   help="run the steps on Ray Data: a local Ray, or the cluster at ADDRESS")
    b.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_arguments(b.add_argument_group("recipe"))
    b.set_defaults(func=run_build)

    d = ds.add_parser("describe", help="(re)write descriptions.json, e.g. with a local LLM")
    d.add_argument("dataset", metavar="DATASET")
    for flag in ("describer", "describer_url", "descriptions_per_level"):
        _copy_flag(d, flag)
    d.set_defaults(func=run_describe)

    v = ds.add_parser("validate", help="check every file, count and key of a dataset")
    v.add_argument("dataset", metavar="DATASET")
    v.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    v.set_defaults(func=run_validate)

    s = ds.add_parser("stats", help="hours, clips, identities, emotions, rejections")
    s.add_argument("dataset", metavar="DATASET")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=run_stats)

    pv = ds.add_parser("preview", help="contact sheet PNG of the clips")
    pv.add_argument("dataset", metavar="DATASET")
    pv.add_argument("--output", "-o", required=True, help="PNG file")
    pv.add_argument("--max-clips", type=int, default=48, help="clips on the sheet (default: 48)")
    pv.set_defaults(func=run_preview)


def _copy_flag(parser, name: str) -> None:
    from dataclasses import fields

    from ..dataset.config import DatasetConfig

    f = next(f for f in fields(DatasetConfig) if f.name == name)
    parser.add_argument("--" + name.replace("_", "-"), dest=name, type=type(f.default) if f.default is not None else str,
                        default=f.default, help=f"{f.metadata['help']} (default: {f.default})".replace("%", "%%"))


def run_build(args) -> int:
    from ..dataset.build import build
    from ..dataset.config import from_args

    if args.workers < 0 or (args.workers == 0 and not args.ray):
        print("emocast: error: --workers: must be at least 1 (0 only with --ray)", file=sys.stderr)
        return 2
    s = build(args.sources, args.output, from_args(args), workers=args.workers, ray=args.ray,
              progress=not args.quiet)
    ran = sum(s["steps"]["ran"].values())
    print(f"{s['clips']} clips ({s['hours'] * 60:.2f} min), {s['identities']} identities, {s['rejected']} rejected; "
          f"{ran} steps run, {sum(s['steps']['skipped'].values())} up to date -> {args.output}/manifest.jsonl")
    return 0


def run_describe(args) -> int:
    import os

    from ..dataset.build import describe_step
    from ..dataset.config import DatasetConfig
    from ..dataset.manifest import read_manifest
    from ..dataset.steps import StepLog

    read_manifest(args.dataset)
    cfg = DatasetConfig(describer=args.describer, describer_url=args.describer_url,
                        descriptions_per_level=args.descriptions_per_level).validate()
    r = describe_step(os.path.abspath(args.dataset), cfg, StepLog())
    print(f"{r['kept']} descriptions from {r['source']} -> {args.dataset}/descriptions.json")
    return 0


def run_validate(args) -> int:
    from ..dataset.report import validate

    problems = validate(args.dataset, progress=not args.quiet)
    for p in problems:
        print(f"{args.dataset}: {p}", file=sys.stderr)
    print("dataset is sound" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


def run_stats(args) -> int:
    from ..dataset.report import format_stats, stats

    s = stats(args.dataset)
    print(json.dumps(s, indent=1) if args.json else format_stats(s))
    return 0


def run_preview(args) -> int:
    from ..dataset.report import preview

    print(preview(args.dataset, args.output, max_clips=args.max_clips))
    return 0
