"""One render request of the web page: from the page's inputs to an mp4, inside its own folder.

:class:`Renderer` is independent of Gradio (so it can be tested without a browser): it copies the
uploads into a fresh :class:`~emocast.serve.workspace.Workspace`, applies the upload limits, calls
:func:`emocast.generate` and returns a :class:`RenderResult`. The Gradio glue in
:mod:`emocast.serve.app` turns its :class:`~emocast.errors.InputError` into the page's error message.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

from ..errors import InputError
from ..options import GenerateOptions
from . import limits
from .config import ServeConfig
from .readout import emotion_text
from .workspace import Workspace, safe_name

@dataclass
class RenderInputs:
    """What the page sends for one render.

    Attributes:
        portrait: path of the uploaded portrait or webcam snapshot (``None`` when missing).
        audio: path of the uploaded or recorded speech, or ``None`` to speak ``text``.
        text: text to speak (used as the transcript of ``audio`` when both are given).
        timeline: the optional timeline box (used instead of ``options.emotion`` when not blank).
        options: the page's generation options (:class:`~emocast.options.GenerateOptions`; its
            ``emotion`` is the free-text emotion box; engine and weights come from the server's settings).
    """

    portrait: str | None
    audio: str | None = None
    text: str = ""
    timeline: str = ""
    options: GenerateOptions = field(default_factory=GenerateOptions)


@dataclass
class RenderResult:
    """A finished render.

    Attributes:
        video: path of the mp4 (inside the request's workspace).
        seconds: video length in seconds.
        frames: number of video frames.
        elapsed: wall time of the render in seconds.
        summary: one line for the page.
        notes: the generator's status lines (speech length, how the emotion was read, face choice).
    """

    video: str
    seconds: float
    frames: int
    elapsed: float
    summary: str
    notes: list[str] = field(default_factory=list)


def video_info(path: str) -> tuple[int, float, int, int]:
    """``(frames, seconds, width, height)`` of the first video stream of ``path``."""
    import av

    with av.open(path) as c:
        vs = c.streams.video[0]
        fps = float(vs.average_rate or 25)
        n = vs.frames or sum(1 for p in c.demux(vs) if p.size)
        w, h = vs.codec_context.width, vs.codec_context.height
    return int(n), n / fps, w, h


class Renderer:
    """Runs renders for the page, each in its own folder under ``config``'s work root.

    Args:
        config: the server's settings (limits, engine, weights).
        root: folder under which each request gets its own folder.
        generate: the generator function (default :func:`emocast.generate`); tests pass a stand-in.
    """

    def __init__(self, config: ServeConfig, root: str, generate: Callable | None = None):
        self.config = config
        self.root = root
        self._generate = generate

    def workspace(self) -> Workspace:
        """A fresh folder for one request (the caller removes it, e.g. ``with``)."""
        return Workspace(self.root)

    def prepare(self, ws: Workspace, inp: RenderInputs) -> dict:
        """Check the inputs against the limits, copy uploads into ``ws``, return ``generate`` kwargs.

        Raises:
            InputError: a missing or too large portrait, missing speech, too long audio or text.
        """
        cfg = self.config
        if not inp.portrait:
            raise InputError("portrait", "no portrait given: upload a photo or take a webcam snapshot")
        name = os.path.basename(inp.portrait)
        limits.check_file_size(inp.portrait, cfg.max_portrait_mb, "portrait", name)
        stem, ext = os.path.splitext(safe_name(name, "portrait.png"))
        image = ws.add(inp.portrait, stem + (ext or ".png"), "portrait.png")

        text = (inp.text or "").strip()
        voice = inp.options.voice or "en-us"
        kw: dict = {"audio": None, "text": None}
        changes: dict = {"engine": cfg.engine, "weights": cfg.weights, "voice": voice,
                         "render_processes": cfg.processes_per_render}
        if inp.audio:
            aname = os.path.basename(inp.audio)
            limits.check_file_size(inp.audio, cfg.max_audio_mb, "audio", aname)
            audio = ws.add(inp.audio, aname, "speech.wav")
            limits.check_audio_length(limits.audio_seconds(audio), cfg.max_audio_seconds, os.path.basename(audio))
            kw["audio"] = audio
            changes["transcript"] = text or None
        elif text:
            limits.check_text(text, cfg.max_text_chars, cfg.max_audio_seconds, voice)
            kw["text"] = text
        else:
            raise InputError("speech", "no speech given: upload or record audio, or type text to speak")

        from ..emotion import parse_emotion

        changes["emotion"] = emotion_text(inp.options.emotion, inp.timeline)
        options = inp.options.replace(**changes).validate()
        label = parse_emotion(options.emotion, intensity=options.intensity)[0].label  # bad text fails here
        kw.update(image=image, output=ws.file(f"{stem}-{label}.mp4"), **options.to_dict())
        return kw

    def run(self, ws: Workspace, inp: RenderInputs,
            progress: Callable[[float, str], None] | None = None) -> RenderResult:
        """Render ``inp`` inside ``ws`` and return the result (the mp4 lives in ``ws``).

        Args:
            ws: this request's folder.
            inp: the page's inputs.
            progress: ``progress(fraction, message)``, forwarded to the generator.

        Raises:
            InputError: bad input, with file names as the user knows them.
        """
        t0 = time.perf_counter()
        notes: list[str] = []

        def log(message: str) -> None:
            notes.append(message)
            if progress is not None:
                progress(0.0, message)

        try:
            kw = self.prepare(ws, inp)
            if progress is not None:
                progress(0.0, "reading the portrait, the speech and the emotion")
            generate = self._generate
            if generate is None:
                from .. import generate
            video = generate(progress=progress, log=log, **kw)
        except InputError as e:
            raise InputError(None, ws.relative_message(str(e))) from None
        frames, seconds, w, h = video_info(video)
        elapsed = time.perf_counter() - t0
        summary = (f"{seconds:.2f} s, {frames} frames at {w}×{h} px, "
                   f"rendered in {elapsed:.1f} s on the {kw['engine']} engine")
        return RenderResult(video=video, seconds=seconds, frames=frames, elapsed=elapsed, summary=summary,
                            notes=[ws.relative_message(n) for n in notes])
