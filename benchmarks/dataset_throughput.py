"""Throughput of ``emocast dataset build``: clip-seconds processed per wall second, by step.

Builds the real fixture videos (``../shared/fixtures/video``, plus the KatieHill clip with its audio
delayed by 8 frames) into a fresh folder, once in one process and once with ``--workers 2``, and prints a
table: per step, how often it ran, its seconds, and seconds of video it handled per second (per-source
steps count the normalised source, per-segment steps the segment). Usage::

    python benchmarks/dataset_throughput.py [--json out.json] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "video"
PER_SOURCE = ("normalise", "shots", "track", "segments")


def sources(tmp: Path) -> list[str]:
    from emocast.media import read_video, write_video

    v, _, a = read_video(FIXTURES / "SadTalker_WDA_KatieHill_000.mp4")
    shifted = tmp / "WDA_KatieHill_shifted.mp4"
    write_video(shifted, v, np.r_[np.zeros(8 * 640, np.float32), a][: len(a)], fps=25)
    return sorted(str(p) for p in FIXTURES.glob("*.mp4")) + [str(shifted)]


def run(srcs: list[str], out: Path, workers: int) -> dict:
    from emocast.dataset import build, read_manifest

    t0 = time.perf_counter()
    summary = build(srcs, str(out), workers=workers, progress=False)
    wall = time.perf_counter() - t0
    recs = read_manifest(str(out))
    work = out / "work"
    src_s = sum(json.load(open(d / ".normalise.stamp.json"))["result"].get("duration_s", 0.0)
                for d in work.iterdir() if (d / ".normalise.stamp.json").is_file())
    seg_s = sum(r["n_frames"] / r["fps"] for r in recs if "n_frames" in r)
    return {"workers": workers, "wall_s": round(wall, 2), "source_s": round(src_s, 2), "segment_s": round(seg_s, 2),
            "clips": summary["clips"], "rejected": summary["rejected"], "steps": summary["steps"]}


def table(r: dict) -> str:
    lines = [f"workers {r['workers']}: {r['wall_s']:.1f} s wall for {r['source_s']:.1f} s of source video "
             f"({r['source_s'] / r['wall_s']:.2f} source-s/s end to end), {r['clips']} clips, {r['rejected']} rejected",
             f"  {'step':<11}{'runs':>5}{'seconds':>9}{'clip-s/s':>10}"]
    for step, secs in r["steps"]["seconds"].items():
        amount = r["source_s"] if step in PER_SOURCE else r["segment_s"]
        rate = f"{amount / secs:10.1f}" if step != "describe" and secs > 0 else f"{'-':>10}"
        lines.append(f"  {step:<11}{r['steps']['ran'][step]:>5}{secs:9.2f}{rate}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--keep", help="build into this folder (kept) instead of a temporary one")
    args = ap.parse_args()
    if not FIXTURES.is_dir():
        print(f"needs the fixture videos in {FIXTURES}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        srcs = sources(tmp)
        base = Path(args.keep) if args.keep else tmp
        results = [run(srcs, base / "one", 1), run(srcs, base / "two", 2)]
    for r in results:
        print(table(r))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
