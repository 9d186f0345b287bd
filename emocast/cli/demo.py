"""``emocast demo``: make a video from a bundled example (NASA astronaut portrait + a TTS sentence)."""
from __future__ import annotations

import os
import sys
import tempfile

DEMO_TEXT = "Hello! I am Eileen Collins. Flying the space shuttle was the most amazing thing I have ever done."


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="make a demo video from a bundled example, no files needed",
                       description="Animate scikit-image's public-domain astronaut portrait speaking a "
                                   "synthesised sentence with an emotion.")
    p.add_argument("--output", "-o", default="demo.mp4", help="output .mp4 (default: demo.mp4)")
    p.add_argument("--emotion", "-e", default="excited and happy", help="emotion (default: 'excited and happy')")
    p.add_argument("--text", "-t", default=DEMO_TEXT, help="what the astronaut says")
    p.add_argument("--size", type=int, default=512, help="long side in pixels (default: 512)")
    p.set_defaults(func=run)


def run(args) -> int:
    import skimage.data
    from PIL import Image

    from .generate import run as run_generate

    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "astronaut.png")
        Image.fromarray(skimage.data.astronaut()).save(img)
        args.image, args.audio, args.intensity, args.transcript, args.voice = img, None, None, None, "en-us"
        args.still, args.pose_scale, args.face_index, args.fps, args.seed = False, 1.0, None, 25, 0
        args.engine, args.weights, args.quiet = "cpu", None, False
        print(f"demo: astronaut portrait, text {args.text!r}, emotion {args.emotion!r}", file=sys.stderr)
        return run_generate(args)
