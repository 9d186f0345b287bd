"""Where the emotion is lost: FER2013 accuracy on the engine's closed-lip and open-mouth frames.

For each portrait and emotion, the CPU engine's own motion on the first 3 s of a speech clip (portrait
i speaks clip i mod n, as ``emocast benchmark`` pairs them) is rendered on every second frame without
encoding. Frames are split by the composed mouth opening (AU25 + AU26 below ``--closed-below``, AU
units) and the share of frames whose FER2013 top class is the intended one is printed for each part,
with what the closed-lip frames are read as instead.

    .venv/bin/python benchmarks/judge_closed_lips.py --portraits ../shared/fixtures/portraits builtin:astronaut

Measured 2026-12-03, fixture portraits and the astronaut (in-sample), 2 cores:

=========  ===========================  ===========================  ==============================
emotion    closed-lip frames correct    open-mouth frames correct    closed-lip frames read as
=========  ===========================  ===========================  ==============================
happy      0.67 (36 frames)             0.82 (230)                   happy 24, neutral 12
angry      0.57 (81)                    0.63 (185)                   angry 46, neutral 27
disgusted  0.24 (91)                    0.48 (175)                   neutral 29, angry 26, disgust 22
sad        0.25 (36)                    0.74 (230)                   neutral 18, sad 9, disgust 5
surprised  0.19 (31)                    0.88 (235)                   neutral 10, happy 8, surprise 6
fear       0.00 (43)                    0.45 (223)                   neutral 17, surprise 9, sad 8
=========  ===========================  ===========================  ==============================

Between words and on p/b/m the lower face carries little of the emotion to this judge: closed-lip
frames read mostly neutral for every emotion but happy and angry.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expression_sheet import portraits  # noqa: E402

EMOTIONS = ("happy", "angry", "disgusted", "sad", "surprised", "fear")
FPS, SECONDS, STRIDE = 25, 3.0, 2


def split_scores(engine, speech, emotion: str, closed_below: float) -> tuple[list[bool], list[bool], list[str]]:
    """Per judged frame: correct on closed-lip frames, correct on open ones, top class of closed ones."""
    from emocast import api
    from emocast.evaluate.emotion import frame_probs
    from emocast.evaluate.fer import FER_CLASSES, MEAD_TO_FER
    from emocast.options import GenerateOptions
    from emocast.rig import AU_INDEX

    n = int(SECONDS * FPS)
    track, _ = api.read_emotion(GenerateOptions(emotion=emotion, intensity=1.0), SECONDS, n)
    m = engine.motion(speech, track)
    ks = list(range(0, n, STRIDE))
    frames = np.stack([engine.renderer.render(m.aus[k], m.pose[k], m.upper_teeth[k], m.lower_teeth[k]) for k in ks])
    probs = frame_probs(frames)
    opening = m.aus[ks, AU_INDEX["AU26"]] + m.aus[ks, AU_INDEX["AU25"]]
    face = np.isfinite(probs).all(axis=1)
    top = np.where(face, np.nan_to_num(probs).argmax(axis=1), -1)
    right = top == FER_CLASSES.index(MEAD_TO_FER[emotion])
    closed, opened = face & (opening < closed_below), face & (opening >= closed_below)
    return list(right[closed]), list(right[opened]), [FER_CLASSES[t] for t in top[closed]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--portraits", nargs="+", required=True, help="portrait files, folders, or builtin:astronaut")
    ap.add_argument("--audio", default=str(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures",
                                                        "speech")), help="folder of speech clips")
    ap.add_argument("--closed-below", type=float, default=0.35,
                    help="composed AU25 + AU26 (AU units) below which a frame counts as closed-lip")
    a = ap.parse_args(argv)
    import torch

    from emocast import api
    from emocast.engines.cpu import CPUEngine
    from emocast.media.audio import load_audio
    from emocast.options import GenerateOptions

    torch.set_num_threads(1)
    clips = sorted(os.path.join(a.audio, f) for f in os.listdir(a.audio) if f.lower().endswith(".wav"))
    stats = {e: ([], [], []) for e in EMOTIONS}
    for i, path in enumerate(portraits(a.portraits)):
        if path.startswith("builtin:"):
            import skimage.data

            path = getattr(skimage.data, path.split(":", 1)[1])()
        opts = GenerateOptions(size=512)
        portrait = api.load_portrait(path, opts)
        speech = api.prepare_speech(load_audio(clips[i % len(clips)])[: int(16000 * SECONDS)], None, opts)
        engine = CPUEngine()
        engine.prepare(portrait, opts)
        for e in EMOTIONS:
            for acc, part in zip(stats[e], split_scores(engine, speech, e, a.closed_below)):
                acc += part
    print("| emotion | closed-lip frames correct | open-mouth frames correct | closed-lip frames read as |")
    print("|---|---|---|---|")
    for e, (closed, opened, reads) in stats.items():
        share = lambda x: f"{np.mean(x):.2f} ({len(x)})" if x else "-"  # noqa: E731
        print(f"| {e} | {share(closed)} | {share(opened)} | "
              + ", ".join(f"{c} {k}" for c, k in Counter(reads).most_common(3)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
