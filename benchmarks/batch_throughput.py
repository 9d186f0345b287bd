"""Jobs per minute of ``emocast batch`` against a fresh process per job (the "bash loop" baseline).

Twelve 3-second jobs (the fixture portraits in turn, each speaking a 3 s cut of a fixture clip in
turn, emotions in turn, 512 px) are run three ways:

- ``loop``: one ``emocast generate`` process per job, as a shell loop would (every model reloaded);
- ``batch -j 1``: one worker that keeps its models loaded;
- ``batch -j 2``: two worker processes.

    .venv/bin/python benchmarks/batch_throughput.py [--fixtures ../shared/fixtures] [--jobs 12] [-o DIR]

Prints a table of wall time and jobs per minute, and the ratios to the loop.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

EMOTIONS = ["neutral", "happy", "sad", "angry", "fear", "disgusted", "surprised"]


def make_jobs(fixtures: str, n: int, folder: str, seconds: float = 3.0) -> str:
    """A CSV of ``n`` jobs over the fixture portraits and 3 s cuts of the fixture speech."""
    from emocast.media import load_audio
    from emocast.media.audio import write_wav

    portraits = sorted(os.path.join(fixtures, "portraits", f) for f in os.listdir(os.path.join(fixtures, "portraits")))
    clips = []
    for f in sorted(os.listdir(os.path.join(fixtures, "speech"))):
        wav = load_audio(os.path.join(fixtures, "speech", f))[: int(seconds * 16000)]
        clips.append(write_wav(os.path.join(folder, f"{os.path.splitext(f)[0]}-3s.wav"), wav))
    jobs = os.path.join(folder, "jobs.csv")
    with open(jobs, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "portrait", "audio", "emotion", "size"])
        for i in range(n):
            w.writerow([f"job{i:02d}", portraits[i % len(portraits)], clips[i % len(clips)],
                        EMOTIONS[i % len(EMOTIONS)], 512])
    return jobs


def run_loop(jobs: str, out: str) -> float:
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    with open(jobs) as f:
        for row in csv.DictReader(f):
            subprocess.run([sys.executable, "-m", "emocast", "generate", "--image", row["portrait"], "--audio",
                            row["audio"], "--emotion", row["emotion"], "--size", row["size"], "-q",
                            "-o", os.path.join(out, row["id"] + ".mp4")], check=True, capture_output=True)
    return time.perf_counter() - t0


def run_batch(jobs: str, out: str, workers: int) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "emocast", "batch", jobs, "-o", out, "-j", str(workers), "-q"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"batch failed: {r.stderr[-2000:]}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures"))
    ap.add_argument("--jobs", type=int, default=12)
    ap.add_argument("-o", "--output", default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    folder = args.output or tempfile.mkdtemp(prefix="emocast-batch-bench-")
    os.makedirs(folder, exist_ok=True)
    jobs = make_jobs(args.fixtures, args.jobs, folder)
    results = {}
    results["loop (fresh process per job)"] = run_loop(jobs, os.path.join(folder, "loop"))
    results["batch -j 1"] = run_batch(jobs, os.path.join(folder, "batch1"), 1)
    results["batch -j 2"] = run_batch(jobs, os.path.join(folder, "batch2"), 2)
    base = results["loop (fresh process per job)"]
    print(f"{args.jobs} jobs of 3 s at 512 px, {os.cpu_count()} CPUs")
    print(f"{'runner':32s} {'wall s':>8s} {'jobs/min':>9s} {'x loop':>7s}")
    for name, wall in results.items():
        print(f"{name:32s} {wall:8.1f} {args.jobs / wall * 60:9.1f} {base / wall:7.2f}")


if __name__ == "__main__":
    main()
