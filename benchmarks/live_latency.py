"""Live mode figures: portrait analysis, first frame, audio-to-mouth latency, drift and frame rate.

Usage::

    python benchmarks/live_latency.py [--portrait P] [--seconds 60] [--size 512] [--json out.json]

Speech: the fixture clips of ../shared/fixtures/speech joined (and repeated) to ``--seconds``, pushed
in 20 ms chunks at real-time pace from a thread, as a microphone would, while the main thread takes
the frames of a real-time :class:`emocast.live.LiveSession` (the CPU engine at ``--size``).

- **analysis**: the portrait's face analysis and engine set-up (``LiveSession.analysis_s``).
- **first frame**: from opening a session on the analysed portrait to its first frame.
- **latency** of a chunk: the clock time its frame (the one whose span holds the chunk's first sample)
  was handed out, minus the time the chunk was pushed; p50, p95 and max over every chunk, milliseconds.
- **drift**: median latency of the last 5 s minus that of the first 5 s, milliseconds.
- **frame rate**: frames over the clock time they took; **late frames**: gaps between consecutive
  frames longer than two frame times (a dropped frame would look like that; frames are never skipped).
- **memory**: peak resident set, MB.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"
CHUNK = 320  # 20 ms at 16 kHz


def speech(seconds: float) -> np.ndarray:
    from emocast.media.audio import load_audio

    clips = [load_audio(p, sr=16000) for p in sorted((FIXTURES / "speech").glob("*.wav"))]
    x = np.concatenate(clips)
    x = np.tile(x, int(np.ceil(seconds * 16000 / len(x))))[: int(seconds * 16000)]
    return x.astype(np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--portrait", default=str(FIXTURES / "portraits" / "AniPortrait_Aragaki.png"))
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--emotion", default="happy")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)

    from emocast.api import load_portrait
    from emocast.live import LiveSession
    from emocast.options import GenerateOptions

    wav = speech(a.seconds)
    opts = GenerateOptions(size=a.size)
    t = time.monotonic()
    first = LiveSession(a.portrait, a.emotion, options=opts)  # warm: imports, models, GL context
    analysis_s = first.analysis_s
    first.close()
    portrait = load_portrait(a.portrait, opts)
    t = time.monotonic()
    s = LiveSession(portrait, a.emotion, options=opts)
    frames = s.frames()
    f0 = next(frames)
    first_frame_s = f0.shown_at - t

    pushes: list[tuple[float, float]] = []  # (stream time of the chunk, clock time pushed)

    def mic():
        start = time.monotonic()
        for i in range(0, len(wav), CHUNK):
            due = start + i / 16000
            time.sleep(max(0.0, due - time.monotonic()))
            pushes.append((s.push_audio(wav[i:i + CHUNK], 16000), time.monotonic()))

    th = threading.Thread(target=mic, daemon=True)
    th.start()
    shown = {f0.index: f0.shown_at}
    for f in frames:
        shown[f.index] = f.shown_at
        if not th.is_alive() and f.timestamp > pushes[-1][0] + 0.5:
            break
    s.close()
    fps = s.fps
    lat = np.array([(shown[int(st * fps)] - pt) * 1000 for st, pt in pushes if int(st * fps) in shown])
    n5 = int(5 / 0.02)
    drift = float(np.median(lat[-n5:]) - np.median(lat[:n5]))
    idx = sorted(shown)
    times = np.array([shown[k] for k in idx])
    gaps = np.diff(times)
    res = {
        "portrait": Path(a.portrait).name, "size": a.size, "seconds": a.seconds, "lookahead_ms": s.lookahead_s * 1000,
        "analysis_s": round(analysis_s, 3), "first_frame_s": round(first_frame_s, 3),
        "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 1), "p95": round(float(np.percentile(lat, 95)), 1),
                       "max": round(float(lat.max()), 1)},
        "drift_ms": round(drift, 1), "fps": round((len(times) - 1) / (times[-1] - times[0]), 2),
        "late_frames": int((gaps > 2 / fps).sum()), "late_at": [[idx[i + 1], round(float(g) * 1000)] for i, g in enumerate(gaps) if g > 2 / fps],
        "frames": len(times),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print("| figure | value |\n|---|---|")
    for k, v in res.items():
        print(f"| {k} | {v} |")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
