"""``emocast serve``: start the web page (Gradio) on this machine."""
from __future__ import annotations

import argparse
import os
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``serve`` subcommand."""
    from ..options import ENGINES
    from ..serve.config import ServeConfig

    d = ServeConfig()
    p = subparsers.add_parser(
        "serve", help="start the web page (Gradio) for making talking portraits in a browser",
        description="Start EmoCAST's web page: upload a portrait, give speech or text and an emotion, "
                    "watch and download the result. Listens on this machine only unless --host says otherwise.")
    add_listen_arguments(p, d.host, d.port)
    p.add_argument("--max-audio-seconds", type=float, default=d.max_audio_seconds,
                   help=f"longest speech accepted, seconds (default {d.max_audio_seconds:g})")
    add_upload_limits(p, d.max_portrait_mb, d.max_text_chars, audio_mb=d.max_audio_mb)
    p.add_argument("--concurrency", type=int, default=d.concurrency,
                   help=f"renders run at the same time; others queue (default {d.concurrency})")
    p.add_argument("--engine", choices=ENGINES, default=d.engine, help=f"generator engine (default {d.engine})")
    p.add_argument("--weights", default=None, help="neural-engine weights folder")
    p.add_argument("--render-processes", type=int, choices=(1, 2), default=None,
                   help="processes per render (default: 1 with --concurrency above 1, else 2 where two cores "
                        "are free)")
    p.add_argument("--workdir", default=None,
                   help="folder for uploads and per-request work folders (default: a temporary folder removed on exit)")
    p.add_argument("--share", action="store_true", help="also ask Gradio for a public share link (needs internet)")
    p.set_defaults(func=run)
    return p


def add_upload_limits(p: argparse.ArgumentParser, portrait_mb: float, text_chars: int,
                      audio_mb: float | None = None) -> None:
    """The upload limits of a page (``emocast serve``, ``emocast live``): ``--max-portrait-mb``,
    ``--max-text-chars`` and, where the page takes audio files, ``--max-audio-mb``, with their defaults."""
    p.add_argument("--max-portrait-mb", type=float, default=portrait_mb,
                   help=f"largest portrait upload, MB (default {portrait_mb:g})")
    if audio_mb is not None:
        p.add_argument("--max-audio-mb", type=float, default=audio_mb,
                       help=f"largest audio upload, MB (default {audio_mb:g})")
    p.add_argument("--max-text-chars", type=int, default=text_chars,
                   help=f"longest text to speak, characters (default {text_chars})")


def add_listen_arguments(p: argparse.ArgumentParser, host: str, port: int) -> None:
    """``--host`` and ``--port`` of a page (``emocast serve``, ``emocast live``), with their defaults."""
    p.add_argument("--host", default=host,
                   help=f"address to listen on (default {host}: this machine only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=port, help=f"TCP port (default {port})")


def run(args: argparse.Namespace) -> int:
    """Serve the page until Ctrl+C or SIGTERM."""
    from ..serve.config import ServeConfig

    cfg = ServeConfig(host=args.host, port=args.port, max_portrait_mb=args.max_portrait_mb,
                      max_audio_mb=args.max_audio_mb, max_audio_seconds=args.max_audio_seconds,
                      max_text_chars=args.max_text_chars, concurrency=args.concurrency, share=args.share,
                      engine=args.engine, weights=args.weights, workdir=args.workdir,
                      render_processes=args.render_processes)
    try:
        cfg.validate()
    except ValueError as e:
        print(f"emocast serve: error: {e}", file=sys.stderr)
        return 2
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        from ..serve import app
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] == "gradio":
            print("emocast serve: error: the web page needs Gradio: pip install 'emocast[serve]'", file=sys.stderr)
            return 2
        raise
    try:
        app.launch(cfg)
    except OSError as e:
        print(f"emocast serve: error: cannot listen on {cfg.host}:{cfg.port} ({e})", file=sys.stderr)
        return 2
    return 0
