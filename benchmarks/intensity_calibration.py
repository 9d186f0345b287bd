"""Intensity calibration: does intensity 0.5 read as a mild version of 1.0, on every portrait?

Reads two ``emocast benchmark`` report folders made with the same portraits, audio and emotions (one at
``--intensity 1.0`` that includes ``neutral``, one at ``--intensity 0.5``) and prints, per emotion and
per portrait, the judge's mean probability of the intended class on the neutral video (p0), at 0.5
(p.5) and at 1.0 (p1), and the *mildness* ``(p.5 - p0) / (p1 - p0)``: 0 means 0.5 looks neutral, 1 means
it looks as strong as 1.0; a calibrated engine lands in between (about 0.25-0.75) on every portrait.

    emocast benchmark --portraits ../shared/fixtures/portraits builtin:astronaut \\
        --audio ../shared/fixtures/speech --emotions neutral happy sad angry fear disgusted surprised \\
        --max-seconds 3 -o /tmp/full
    emocast benchmark ... --intensity 0.5 --emotions happy sad angry fear disgusted surprised -o /tmp/half
    .venv/bin/python benchmarks/intensity_calibration.py /tmp/full /tmp/half

The judge is the FER2013 classifier of ``emocast evaluate`` (a check, never an input to generation);
``contempt`` has no FER2013 class and is not judged.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict

import numpy as np


def load_results(folder: str) -> dict[tuple[str, str], dict]:
    """``(portrait, emotion) -> emotion judgement`` from a benchmark folder's ``results/*.json``."""
    out = {}
    res = os.path.join(folder, "results")
    if not os.path.isdir(res):
        raise SystemExit(f"intensity_calibration: {folder}: not a benchmark report folder (no results/)")
    for name in sorted(os.listdir(res)):
        if name.endswith(".json"):
            with open(os.path.join(res, name)) as f:
                r = json.load(f)
            portrait, emotion = name[:-5].rsplit("__", 1)
            if r.get("emotion"):
                out[(portrait, emotion)] = r["emotion"]
    return out


def mildness(full: dict, half: dict) -> list[dict]:
    """Per (portrait, emotion): p0, p.5, p1 of the intended class and the mildness ratio."""
    rows = []
    for (portrait, emotion), h in sorted(half.items()):
        f, n = full.get((portrait, emotion)), full.get((portrait, "neutral"))
        cls = h.get("intended_fer_class")
        if f is None or n is None or cls is None:
            continue
        p0, p5, p1 = (float(x["mean_probs"][cls]) for x in (n, h, f))
        ratio = (p5 - p0) / (p1 - p0) if p1 - p0 > 0.05 else float("nan")
        rows.append(dict(portrait=portrait, emotion=emotion, p0=p0, p5=p5, p1=p1, mildness=ratio))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("full", help="benchmark folder at intensity 1.0 (with neutral)")
    ap.add_argument("half", help="benchmark folder at intensity 0.5")
    a = ap.parse_args(argv)
    rows = mildness(load_results(a.full), load_results(a.half))
    if not rows:
        raise SystemExit("intensity_calibration: no portrait/emotion pairs in common")
    print("| portrait | emotion | p0 (neutral) | p(0.5) | p(1.0) | mildness |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        m = f"{r['mildness']:.2f}" if np.isfinite(r["mildness"]) else "-"
        print(f"| {r['portrait']} | {r['emotion']} | {r['p0']:.2f} | {r['p5']:.2f} | {r['p1']:.2f} | {m} |")
    by = defaultdict(list)
    for r in rows:
        by[r["emotion"]].append(r)
    print("\n| emotion | mean p0 | mean p(0.5) | mean p(1.0) | median mildness | portraits in 0.25-0.75 | "
          "ordered p0 <= p(0.5) <= p(1.0) |")
    print("|---|---|---|---|---|---|---|")
    for e, rs in by.items():
        m = np.array([r["mildness"] for r in rs])
        ok = m[np.isfinite(m)]
        order = sum(r["p0"] - 0.02 <= r["p5"] <= r["p1"] + 0.02 for r in rs)
        print(f"| {e} | {np.mean([r['p0'] for r in rs]):.2f} | {np.mean([r['p5'] for r in rs]):.2f} | "
              f"{np.mean([r['p1'] for r in rs]):.2f} | {np.median(ok) if len(ok) else float('nan'):.2f} | "
              f"{int(((ok >= 0.25) & (ok <= 0.75)).sum())}/{len(ok)} | {order}/{len(rs)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
