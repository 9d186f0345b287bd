"""The ``emocast`` command line.

Each subcommand lives in its own module of this package exposing ``add_parser(subparsers)`` (which
registers the parser and sets ``func``). Errors of bad input (:class:`emocast.errors.InputError`)
print one line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__
from ..errors import InputError

SUBCOMMANDS = ["generate", "demo", "batch", "evaluate", "benchmark", "serve", "live", "dataset", "train"]

QUICK_EXIT = ("generate", "demo")
"""Subcommands whose output is written and closed when they return: :func:`run` then ends the process
without the interpreter's teardown (OpenGL, onnxruntime, PyAV: about 0.1 s at the end of every video)."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``emocast`` parser with every subcommand, or with ``only`` that one (each subcommand's module
    imports what its flags need, so a run of one does not pay for the others' imports)."""
    p = argparse.ArgumentParser(
        prog="emocast",
        description="Emotional talking portraits: one photo + speech + an emotion description -> lip-synced mp4.",
    )
    p.add_argument("--version", action="version", version=f"emocast {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in [only] if only in SUBCOMMANDS else SUBCOMMANDS:
        try:
            mod = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith(f"{__name__}.{name}"):
                continue  # subcommand not built yet
            raise
        mod.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "3")
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        rc = args.func(args)
    except InputError as e:
        print(f"emocast: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("emocast: interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


def run() -> None:
    """The ``emocast`` executable: :func:`main`, then the exit (see :data:`QUICK_EXIT`)."""
    rc = main()
    if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    sys.exit(rc)


if __name__ == "__main__":
    run()
