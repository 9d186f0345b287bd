"""Every generation parameter, defined once: :class:`GenerateOptions`.

Each field carries its type, default, unit, allowed range or choices and help text. The CLI's
``generate`` and ``demo`` flags (:func:`add_arguments`), the web page's controls and limits
(:func:`spec`), the benchmark's settings and :func:`emocast.generate`'s keyword arguments
(:func:`signature_parameters`) are all built from it. :meth:`GenerateOptions.validate` checks every
value without loading a model, so a bad value fails before any heavy work.
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import math
import os
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import InputError

ENGINES = ("cpu", "neural")
"""Renderers behind :class:`emocast.engines.Engine`: the CPU mesh warp and the paper's network."""


@dataclass(frozen=True)
class OptionSpec:
    """How one option is presented and checked.

    Attributes:
        name: field name (keyword argument of :func:`emocast.generate`).
        type: ``bool``, ``int``, ``float`` or ``str``.
        default: default value (``None``: decided at run time, see ``help``).
        help: one line for ``--help`` and the page.
        unit: unit of the value (``"px"``, ``"frames/s"``), or ``""``.
        range: ``(low, high)`` inclusive bounds of a number, or ``None``.
        choices: allowed values of a string, or ``None``.
        short: one-letter CLI flag (``"-e"``), or ``None``.
        web: shown on the web page (``False``: a server-wide setting of ``emocast serve``).
    """

    name: str
    type: type
    default: Any
    help: str
    unit: str = ""
    range: tuple | None = None
    choices: tuple | None = None
    short: str | None = None
    web: bool = True

    @property
    def flag(self) -> str:
        """The long CLI flag, ``--pose-scale`` for ``pose_scale``."""
        return "--" + self.name.replace("_", "-")


def option(default, help: str, *, type: type, unit: str = "", range: tuple | None = None,
           choices: tuple | None = None, short: str | None = None, web: bool = True):
    """A dataclass field of :class:`GenerateOptions` with its presentation in ``metadata``."""
    return field(default=default, metadata=dict(help=help, type=type, unit=unit, range=range, choices=choices,
                                                 short=short, web=web))


@dataclass(frozen=True)
class GenerateOptions:
    """The parameters of one generation (the inputs themselves, portrait, speech and output path,
    are passed beside it). Frozen: derive a changed copy with :meth:`replace`."""

    emotion: str = option("neutral", "MEAD label, mix 'happy:0.6,surprised:0.4', free text, or timeline "
                                     "'0-3s: calm; 3s-: furious'", type=str, short="-e")
    intensity: float | None = option(None, "emotion strength (default: read from the text; labels 0.8)",
                                     type=float, range=(0.0, 1.0))
    transcript: str | None = option(None, "words spoken in the audio (English), for exact lip timing", type=str)
    voice: str = option("en-us", "eSpeak NG voice for text to speak (e.g. en-gb, fr, de)", type=str)
    still: bool = option(False, "no head motion (mouth and expression only)", type=bool)
    pose_scale: float = option(1.0, "head-motion gain: 0 none, 1 natural, 2 lively", type=float, range=(0.0, 2.0))
    size: int | None = option(None, "long side of the video (default: the portrait's, at most 1024)", type=int,
                              unit="px", range=(64, 4096))
    face_index: int | None = option(None, "which face if there are several (0 = the largest)", type=int,
                                    range=(0, 99))
    fps: int = option(25, "frames per second", type=int, unit="frames/s", range=(1, 60))
    seed: int = option(0, "random seed of blinks, head drift and the network's noise", type=int,
                       range=(0, 2 ** 32 - 1))
    render_processes: int | None = option(
        None, "processes for one video: 2 finds the face in a second process while this one "
              "analyses the speech, then both render; 1 does all in this one (default: 2 where two cores are free)",
        type=int, range=(1, 2), web=False)
    engine: str = option("cpu", "renderer: cpu (mesh warp) or neural (the paper's network, GPU)", type=str,
                         choices=ENGINES, web=False)
    weights: str | None = option(None, "folder of the neural engine's weights (laid out like the EmoCAST release)",
                                 type=str, web=False)

    def replace(self, **changes) -> "GenerateOptions":
        """A copy with some fields changed (unknown names raise :class:`InputError`)."""
        return dataclasses.replace(self, **_known(changes))

    def to_dict(self) -> dict:
        """Every field by name, JSON-ready (a job's spec, a benchmark's settings, the web form's call)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "GenerateOptions":
        """Options from :meth:`to_dict`'s output, or any subset of it (the rest at their defaults);
        unknown names raise :class:`InputError`."""
        return cls().replace(**values)

    def validate(self) -> "GenerateOptions":
        """Check every value without loading a model; return ``self``.

        Raises:
            InputError: ``"--flag: problem"`` for the first bad value (wrong type, outside its range,
                not one of its choices, an empty or malformed emotion, a negative mix weight).
        """
        for s in spec():
            _check_value(s, getattr(self, s.name))
        from .emotion.parse import check_emotion

        check_emotion(self.emotion, self.intensity)
        if self.engine == "neural" and not self.weights:
            raise InputError("--weights", "the neural engine needs --weights DIR (a folder laid out like the EmoCAST release)")
        return self


def spec(name: str | None = None):
    """The :class:`OptionSpec` of every field of :class:`GenerateOptions` in order (or of one)."""
    out = [OptionSpec(name=f.name, default=f.default, **f.metadata) for f in fields(GenerateOptions)]
    if name is None:
        return out
    for s in out:
        if s.name == name:
            return s
    raise KeyError(name)


def names() -> list[str]:
    """Field names of :class:`GenerateOptions`, in order."""
    return [f.name for f in fields(GenerateOptions)]


def describe_range(s: OptionSpec) -> str:
    """``"64..4096 px"``: an option's bounds and unit."""
    lo, hi = (f"{v:g}" if isinstance(v, float) else str(v) for v in s.range)
    return f"{lo}..{hi}{' ' + s.unit if s.unit else ''}"


def _known(values: dict) -> dict:
    unknown = sorted(set(values) - set(names()))
    if unknown:
        raise InputError(None, f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                               f"(options: {', '.join(names())})")
    return values


def _check_value(s: OptionSpec, v) -> None:
    if v is None:
        if s.default is not None:
            raise InputError(s.flag, "a value is required")
        return
    if s.type is bool:
        if not isinstance(v, bool):
            raise InputError(s.flag, f"expected true or false, got {v!r}")
        return
    if s.type is int:
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise InputError(s.flag, f"expected a whole number, got {v!r}")
    elif s.type is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(s.flag, f"expected a number, got {v!r}")
    elif s.type is str and not isinstance(v, (str, os.PathLike)):
        raise InputError(s.flag, f"expected text, got {v!r}")
    if s.range is not None and not s.range[0] <= v <= s.range[1]:
        raise InputError(s.flag, f"{v:g}{' ' + s.unit if s.unit else ''} is outside {describe_range(s)}")
    if s.choices is not None and v not in s.choices:
        raise InputError(s.flag, f"unknown value {v!r} (one of {', '.join(s.choices)})")


def add_arguments(parser: argparse.ArgumentParser, defaults: dict | None = None, only: tuple[str, ...] | None = None) -> None:
    """Add one CLI flag per option to ``parser`` (``--pose-scale``; booleans are switches).

    Args:
        parser: the subcommand's parser.
        defaults: other defaults than :class:`GenerateOptions`' (``emocast demo``'s emotion and size).
        only: add just these options (``emocast benchmark``); default all.
    """
    defaults = defaults or {}
    for s in spec():
        if only is not None and s.name not in only:
            continue
        default = defaults.get(s.name, s.default)
        flags = [s.flag] + ([s.short] if s.short else [])
        text = s.help
        if s.range is not None:
            text += f"; {describe_range(s)}"
        if s.type is bool:
            parser.add_argument(*flags, dest=s.name, action="store_true", default=default, help=text)
            continue
        if default is not None:
            text += f" (default: {default})"
        parser.add_argument(*flags, dest=s.name, type=s.type, default=default, choices=s.choices, help=text,
                            metavar=None if s.choices else s.name.upper())


def from_args(args: argparse.Namespace) -> GenerateOptions:
    """Options from a namespace filled by :func:`add_arguments` (other attributes are ignored)."""
    return GenerateOptions(**{n: getattr(args, n) for n in names() if hasattr(args, n)})


def generate_signature() -> inspect.Signature:
    """The signature of :func:`emocast.generate`: the inputs, then one keyword per option with its
    default (``emotion`` may also be given by position), then ``options``, ``progress``, ``log``, ``info``."""
    P = inspect.Parameter
    head = [P("image", P.POSITIONAL_OR_KEYWORD)] + [
        P(n, P.POSITIONAL_OR_KEYWORD, default=d)
        for n, d in (("audio", None), ("text", None), ("emotion", spec("emotion").default), ("output", "out.mp4"))]
    opts = [P(s.name, P.KEYWORD_ONLY, default=s.default,
              annotation=f"{s.type.__name__} | None" if s.default is None else s.type.__name__)
            for s in spec() if s.name != "emotion"]
    tail = [P(n, P.KEYWORD_ONLY, default=None) for n in ("options", "progress", "log", "info")]
    return inspect.Signature(head + opts + tail, return_annotation=str)
