"""``emocast live``: serve the live page (WebRTC) where a microphone or typed lines drive the avatar."""
from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``live`` subcommand."""
    from ..live.page import LiveServeConfig
    from ..options import add_arguments
    from .serve import add_listen_arguments, add_upload_limits

    d = LiveServeConfig()
    p = subparsers.add_parser(
        "live", help="serve a page where the portrait answers a microphone or typed lines in real time",
        description="Start EmoCAST's live page: talk into the microphone or type a line, set the emotion by "
                    "text, and watch the portrait answer in real time (CPU engine, WebRTC). Listens on this "
                    "machine only unless --host says otherwise.")
    p.add_argument("--image", "-i", default=None,
                   help="portrait a session starts with when the browser uploads none (default: the bundled astronaut)")
    add_listen_arguments(p, d.host, d.port)
    p.add_argument("--max-sessions", type=int, default=d.max_sessions,
                   help=f"live sessions at once; more browsers are asked to wait (default {d.max_sessions})")
    add_upload_limits(p, d.max_portrait_mb, d.max_text_chars)
    add_arguments(p, defaults={"size": 512},
                  only=("emotion", "intensity", "voice", "still", "pose_scale", "size", "fps", "seed"))
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Serve the page until Ctrl+C."""
    from ..options import GenerateOptions, from_args

    try:
        from ..live.page import LiveServeConfig, launch
        import aiortc  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as e:
        print(f"emocast live: error: the live page needs {e.name}: pip install 'emocast[live]'", file=sys.stderr)
        return 2
    from ..api import load_portrait

    options: GenerateOptions = from_args(args).validate()
    cfg = LiveServeConfig(host=args.host, port=args.port, emotion=options.emotion, options=options,
                          max_sessions=args.max_sessions, max_portrait_mb=args.max_portrait_mb,
                          max_text_chars=args.max_text_chars)
    try:
        cfg.validate()
    except ValueError as e:
        print(f"emocast live: error: {e}", file=sys.stderr)
        return 2
    if args.image:
        cfg.portrait = load_portrait(args.image, options)  # analysed once: a bad portrait fails now
    else:
        import skimage.data

        cfg.portrait = load_portrait(skimage.data.astronaut(), options)
    try:
        launch(cfg)
    except OSError as e:
        print(f"emocast live: error: cannot listen on {cfg.host}:{cfg.port} ({e})", file=sys.stderr)
        return 2
    return 0
