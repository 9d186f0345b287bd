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
    p = sub.add_parser("generate", help="make a talking-head video", description=__doc__.split(":", 1)[1].strip(),
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", "-i", required=True, help="portrait (JPEG, PNG, WebP, BMP, ...)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--audio", "-a", help="speech (WAV, MP3, M4A/AAC, FLAC, OGG, or a video file's audio)")
    src.add_argument("--text", "-t", help="text to speak with eSpeak NG instead of --audio")
    p.add_argument("--emotion", "-e", default="neutral",
                   help="MEAD label, mix 'happy:0.6,surprised:0.4', free text, or timeline '0-3s: calm; 3s-: furious' (default: neutral)")
    p.add_argument("--intensity", type=float, default=None, help="emotion strength 0..1 (default: read from the text; labels 0.8)")
    p.add_argument("--transcript", help="words spoken in --audio (English), for exact lip timing")
    p.add_argument("--voice", default="en-us", help="eSpeak NG voice for --text (default: en-us; e.g. en-gb, fr, de)")
    p.add_argument("--output", "-o", default="out.mp4", help="output .mp4 (default: out.mp4)")
    p.add_argument("--size", type=int, default=None, help="long side of the video in pixels (default: the portrait's, at most 1024)")
    p.add_argument("--still", action="store_true", help="no head motion")
    p.add_argument("--pose-scale", type=float, default=1.0, help="head-motion gain (default: 1.0)")
    p.add_argument("--face-index", type=int, default=None, help="which face if there are several (0 = largest)")
    p.add_argument("--fps", type=int, default=25, help="frames per second (default: 25)")
    p.add_argument("--seed", type=int, default=0, help="random seed of blinks and head drift (default: 0)")
    p.add_argument("--engine", choices=["cpu", "neural"], default="cpu", help="renderer (default: cpu)")
    p.add_argument("--weights", help="folder of the neural engine's weights (with --engine neural)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or status lines")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..api import GenerationInfo, generate

    log = None if args.quiet else (lambda m: print(m, file=sys.stderr))
    info = GenerationInfo()
    out = generate(args.image, audio=args.audio, text=args.text, emotion=args.emotion, output=args.output,
                   intensity=args.intensity, transcript=args.transcript, voice=args.voice, still=args.still,
                   pose_scale=args.pose_scale, size=args.size, face_index=args.face_index, fps=args.fps,
                   seed=args.seed, engine=args.engine, weights=args.weights, progress=not args.quiet, log=log, info=info)
    if not args.quiet:
        t = info.timings
        print(f"wrote {out}: {info.size[1]}x{info.size[0]}, {info.n_frames} frames, {info.duration:.2f} s "
              f"in {t['total_s']:.1f} s ({info.n_frames / max(t['render_s'], 1e-6):.0f} fps render)", file=sys.stderr)
    else:
        print(out)
    return 0
