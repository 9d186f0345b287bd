"""``emocast benchmark``: generate over portraits x emotions, judge every video, write a report."""
from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  emocast benchmark --portraits ../shared/fixtures/portraits --audio ../shared/fixtures/speech \\
      --emotions neutral happy sad angry fear disgusted surprised -o report/
  emocast benchmark --portraits builtin:astronaut --audio speech.wav --emotions happy sad -o report-astro/

An interrupted run resumes when started again with the same -o folder: videos and results already
there are kept.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..benchmark import BENCHMARK_DEFAULTS, PER_JOB
    from ..options import add_arguments, names

    p = subparsers.add_parser(
        "benchmark", help="generate over a grid of portraits x emotions and judge every video",
        description="Run the generator over portraits x emotions (each portrait speaks one of the audio clips, "
                    "in turn), judge each video with `emocast evaluate`'s judges, and write markdown + CSV tables "
                    "(per emotion, per portrait, overall), contact sheets and render speed.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--portraits", nargs="+", required=True,
                   help="portrait files or folders (builtin:astronaut = skimage's astronaut photo)")
    p.add_argument("--audio", nargs="+", required=True, help="audio files or folders")
    p.add_argument("--emotions", nargs="+", default=["neutral", "happy", "sad", "angry", "fear", "disgusted", "surprised", "contempt"],
                   help="MEAD emotions (default: all eight)")
    p.add_argument("-o", "--output", required=True, help="report folder (reused to resume)")
    p.add_argument("--max-seconds", type=float, default=4.0, help="trim audio clips to this length (default 4; 0 = whole)")
    p.add_argument("--pairing", choices=["cycle", "all"], default="cycle",
                   help="cycle: portrait i speaks clip i mod n (default); all: every portrait speaks every clip")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_arguments(p, defaults=BENCHMARK_DEFAULTS, only=tuple(n for n in names() if n not in PER_JOB))
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from ..benchmark import run_benchmark
    from ..evaluate.core import limit_threads
    from ..options import from_args

    limit_threads()
    out = run_benchmark(args.portraits, args.audio, args.emotions, args.output, options=from_args(args),
                        max_seconds=args.max_seconds or None, pairing=args.pairing,
                        progress=not args.quiet, log=lambda m: print(m, file=sys.stderr))
    with open(out["report_md"]) as f:
        print(f.read())
    print(f"report written to {out['report_md']}", file=sys.stderr)
    return 0 if len(out["failures"]) < len(out["rows"]) else 1
