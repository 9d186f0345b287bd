"""``emocast generate``: portrait + speech (or text) + emotion -> mp4."""
from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  emocast generate --image portrait.jpg --audio speech.wav --emotion "trembling with fear as she whispers" -o out.mp4
  emocast generate --image portrait.jpg --text "Hello there" --emotion happy -o hello.mp4
  emocast generate --image portrait.jpg --audio talk.m4a --emotion "0-3s: calm; 3s-: furious" --intensity 0.8
  emocast generate --image portrait.jpg --audio talk.mp3 --emotion "happy:0.6,surprised:0.4" --still

emotions (MEAD): neutral, happy, sad, angry, fear, disgusted, surprised, contempt
"""


def add_parser(sub) -> None:
    from ..options import add_arguments

    p = sub.add_parser("generate", help="make a talking-head video", description=__doc__.split(":", 1)[1].strip(),
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", "-i", required=True, help="portrait (JPEG, PNG, WebP, BMP, ...)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--audio", "-a", help="speech (WAV, MP3, M4A/AAC, FLAC, OGG, or a video file's audio)")
    src.add_argument("--text", "-t", help="text to speak with eSpeak NG instead of --audio")
    p.add_argument("--output", "-o", default="out.mp4", help="output .mp4 (default: out.mp4; never one of the inputs)")
    add_arguments(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or status lines")
    p.set_defaults(func=run)


def run(args) -> int:
    """Generate the video ``args`` describe; print a summary line (or only the path with ``--quiet``)."""
    from ..api import generate
    from ..options import from_args

    log = None if args.quiet else (lambda m: print(m, file=sys.stderr))
    out = generate(args.image, audio=args.audio, text=args.text, output=args.output, options=from_args(args),
                   progress=not args.quiet, log=log)
    if not args.quiet:
        info = out.info
        t = info.timings
        print(f"wrote {out}: {info.size[1]}x{info.size[0]}, {info.n_frames} frames, {info.duration:.2f} s "
              f"in {t['total_s']:.1f} s ({info.n_frames / max(t['render_s'], 1e-6):.0f} fps render)", file=sys.stderr)
    else:
        print(out)
    return 0
