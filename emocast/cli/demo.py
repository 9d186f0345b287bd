"""``emocast demo``: make a video from a bundled example (NASA astronaut portrait + a TTS sentence)."""
from __future__ import annotations

import os
import sys
import tempfile

DEMO_TEXT = "Hello! I am Eileen Collins. Flying the space shuttle was the most amazing thing I have ever done."
DEMO_DEFAULTS = {"emotion": "excited and happy", "size": 512}
"""Where the demo's options differ from :class:`emocast.options.GenerateOptions`' defaults."""


def add_parser(sub) -> None:
    from ..options import add_arguments

    p = sub.add_parser("demo", help="make a demo video from a bundled example, no files needed",
                       description="Animate scikit-image's public-domain astronaut portrait speaking a "
                                   "synthesised sentence with an emotion.")
    p.add_argument("--output", "-o", default="demo.mp4", help="output .mp4 (default: demo.mp4)")
    p.add_argument("--text", "-t", default=DEMO_TEXT, help="what the astronaut says (default: a sentence about flying the shuttle)")
    add_arguments(p, defaults=DEMO_DEFAULTS)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or status lines")
    p.set_defaults(func=run)


def run(args) -> int:
    """Write the astronaut portrait to a temporary file and run ``emocast generate`` on it."""
    import skimage.data
    from PIL import Image

    from .generate import run as run_generate

    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "astronaut.png")
        Image.fromarray(skimage.data.astronaut()).save(img)
        args.image, args.audio = img, None
        if not args.quiet:
            print(f"demo: astronaut portrait, text {args.text!r}, emotion {args.emotion!r}", file=sys.stderr)
        return run_generate(args)
