"""How the emotion judge reads a speaking mouth: FER2013 class shares against lip aperture.

``emocast benchmark`` asks neutral videos to read neutral to the FER2013 judge and open vowels to open
the lips past :data:`emocast.evaluate.lipsync.OPEN_ABOVE` (0.10) for the lip-sync judge. This script
measures how far the first judge lets the second be met:

1. **A real talking face.** Every frame of a video (default: the SadTalker example clip in
   ``../shared/fixtures/video``) gets its dlib inner-lip aperture and its FER2013 probabilities; frames
   are binned by aperture and each bin's mean probabilities and share of frames whose top class is
   neutral are printed.
2. **The CPU engine's neutral speech** (``--portraits``): each portrait brought to neutral, its lips
   parted by speech levels 0 .. 1 (:func:`expression_sheet.speaking_frame`), each still judged by both.

    .venv/bin/python benchmarks/judge_speech_bias.py --portraits ../shared/fixtures/portraits builtin:astronaut

Measured 2026-11-22: on the real clip, neutral is the top class in 62 % of frames with the lips nearly
closed (aperture < 0.05), 24 % at 0.05-0.10, 1 % at 0.10-0.15 and none above; on the engine's portraits
the judge leaves neutral at apertures of 0.01-0.08 on four of seven. Neutral speech cannot read
neutral to this judge over a clip whose open vowels open the lips as the lip-sync judge requires.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

FIXTURE_VIDEO = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "video" / "SadTalker_WDA_KatieHill_000.mp4"
BINS = (0.0, 0.05, 0.10, 0.15, 0.20, 1.0)
SPEECH = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def judge_frames(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(aperture (T,), FER2013 probabilities (T, 7))`` of ``uint8 (T, H, W, 3)`` frames; NaN where no
    face was found."""
    from emocast.evaluate import dlib_face
    from emocast.evaluate.emotion import frame_probs
    from emocast.evaluate.lipsync import mouth_aperture

    return mouth_aperture(dlib_face.track(frames).landmarks), frame_probs(frames)


def real_video_table(path: Path) -> str:
    import av

    from emocast.evaluate.fer import FER_CLASSES

    with av.open(str(path)) as c:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])
    ap, probs = judge_frames(frames)
    ok = np.isfinite(ap) & np.isfinite(probs).all(1)
    lines = [f"Real talking face: {path.name} ({ok.sum()} frames with a face)", "",
             "| aperture | frames | " + " | ".join(FER_CLASSES) + " | top is neutral |",
             "|---" * (len(FER_CLASSES) + 3) + "|"]
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        k = ok & (ap >= lo) & (ap < hi)
        if not k.any():
            continue
        m = probs[k].mean(0)
        top_neutral = float((probs[k].argmax(1) == FER_CLASSES.index("neutral")).mean())
        lines.append(f"| {lo:.2f}-{hi:.2f} | {k.sum()} | " + " | ".join(f"{v:.2f}" for v in m) + f" | {top_neutral:.2f} |")
    return "\n".join(lines)


def engine_table(paths: list[str], size: int) -> str:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from expression_sheet import load, portraits, speaking_frame

    from emocast.evaluate.fer import FER_CLASSES
    from emocast.rig import AU_NAMES
    from emocast.render import CPURenderer

    lines = ["Engine, neutral speech (still frames): aperture, top class, p(neutral)", "",
             "| portrait | " + " | ".join(f"speech {s:.1f}" for s in SPEECH) + " |", "|---" * (len(SPEECH) + 1) + "|"]
    for path in portraits(paths):
        img, face = load(path, size)
        r = CPURenderer(img, face)
        frames = np.stack([speaking_frame(r, np.zeros(len(AU_NAMES), np.float32), s) for s in SPEECH])
        ap, probs = judge_frames(frames)
        cells = [f"{a:.2f} {FER_CLASSES[int(np.argmax(p))]} {p[FER_CLASSES.index('neutral')]:.2f}"
                 if np.isfinite(p).all() else "no face" for a, p in zip(ap, probs)]
        lines.append(f"| {os.path.basename(path)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, default=FIXTURE_VIDEO, help="a real talking-face video (default: %(default)s)")
    ap.add_argument("--portraits", nargs="*", default=[], help="portrait files, folders or builtin:astronaut")
    ap.add_argument("--size", type=int, default=512, help="render size for the portraits, pixels")
    args = ap.parse_args(argv)
    if not args.video.is_file():
        print(f"error: {args.video}: no such video", file=sys.stderr)
        return 2
    print(real_video_table(args.video))
    if args.portraits:
        print()
        print(engine_table(args.portraits, args.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
