"""The Python API: ``emocast.generate``, and the steps it runs.

:func:`generate` reads as its steps, each a function of its own that the live mode and batch drive
too (docs/architecture.md numbers them the same): 1. :func:`check_inputs`; 2. :func:`load_portrait`;
3. :func:`prepare_speech`; 4. :func:`prepare_engine`; 5. :func:`read_emotion`; 6. engine ``frames``
into :func:`encode`. With the CPU engine's second process (:mod:`emocast.engines.workers`) step 2 runs
there, and that process builds its renderer, while this process does step 3. :class:`Reporter` times
each step; :func:`generate` returns the path with its :class:`GenerationInfo`.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from .engines import Engine, Portrait, Speech, make_engine
from .errors import InputError
from .options import GenerateOptions, generate_signature


@dataclass
class GenerationInfo:
    """What :func:`generate` did, for printing: messages, timings and the emotion reading.

    Attributes:
        messages: the one-line status messages, in order.
        timings: seconds per step (``setup_s``: checks, engine and worker start; ``speech_s``; ``face_s``:
            waiting for the face and fitting it; ``emotion_s``; ``render_s``; ``total_s``).
        emotion: the parsed :class:`~emocast.emotion.EmotionSegment` list.
        n_frames: frames written.
        duration: video length, seconds.
        size: ``(height, width)`` of the video, pixels.
    """

    messages: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    emotion: list = field(default_factory=list)
    n_frames: int = 0
    duration: float = 0.0
    size: tuple = (0, 0)


class Reporter:
    """Where the steps send their messages, progress and timings.

    Args:
        progress: ``True`` for a tqdm bar on stderr, a callable ``progress(fraction, message)``, or
            ``None``/``False`` for nothing.
        log: callable receiving one-line status messages.
        info: filled with the messages and timings (default: a new :class:`GenerationInfo`).
    """

    def __init__(self, progress=None, log: Callable[[str], None] | None = None, info: GenerationInfo | None = None):
        self.progress = progress
        self.log = log
        self.info = info if info is not None else GenerationInfo()
        self.start = time.perf_counter()

    def note(self, message: str) -> None:
        """Record and pass on one status line."""
        self.info.messages.append(message)
        if self.log is not None:
            self.log(message)

    def stage(self, fraction: float, message: str) -> None:
        """Coarse progress before the per-frame render (callable progress only)."""
        if callable(self.progress):
            self.progress(fraction, message)

    @contextlib.contextmanager
    def step(self, name: str, message: str | None = None):
        """Time the block as ``info.timings[name + "_s"]``, announcing ``message`` as progress first;
        ``info.timings["total_s"]`` runs from this reporter's creation to the end of the block."""
        if message:
            self.stage(0.0, message)
        t = time.perf_counter()
        yield
        now = time.perf_counter()
        self.info.timings[f"{name}_s"] = now - t
        self.info.timings["total_s"] = now - self.start


class Generated(str):
    """What :func:`generate` returns: the written video's path (a ``str``, so it stands wherever the path
    did) with ``info``, the :class:`GenerationInfo` of the run."""

    info: GenerationInfo

    def __new__(cls, path: str, info: GenerationInfo) -> "Generated":
        out = super().__new__(cls, path)
        out.info = info
        return out


def check_inputs(image, audio, text, output, options: GenerateOptions) -> str:
    """Step 1: check the options and the inputs before any model is loaded.

    Returns:
        ``output`` as a string.

    Raises:
        InputError: a bad option value (:meth:`GenerateOptions.validate`), both or neither of
            ``audio`` and ``text``, an output that is not a writable ``.mp4`` or that is one of the
            inputs, or (neural engine) an incomplete weights folder.
    """
    from .media.files import check_output

    options.validate()
    if (audio is None) == (text is None):
        raise InputError("--audio", "give exactly one of an audio file or --text to speak")
    output = check_output(output, inputs=(image, audio))
    if options.engine == "neural":
        from .neural import check_weights

        check_weights(options.weights)  # one-line InputError listing what is missing
    return output


def load_portrait(image, options: GenerateOptions) -> Portrait:
    """Step 2: decode the portrait and analyse its face.

    Args:
        image: file path, or ``uint8 (H, W, 3)`` RGB array (``(H, W)`` gray, RGBA and floats in
            [0, 1] are converted).
        options: ``face_index`` is read.

    Raises:
        InputError: unreadable image, no face, face too small, ``face_index`` out of range.
    """
    from .face import analyse
    from .media import load_image

    is_path = isinstance(image, (str, os.PathLike))
    name = os.fspath(image) if is_path else "image"
    img = load_image(image) if is_path else _check_array(image)
    return Portrait(image=img, face=analyse(img, face_index=options.face_index, path=name), name=name)


def prepare_speech(audio, text: str | None, options: GenerateOptions) -> Speech:
    """Step 3: the speech as 16 kHz samples and the output's sound track (text is spoken first), and
    its analysis: phones, loudness, voice activity (:func:`emocast.speech.analyse`).

    Args:
        audio: speech file or ``float32`` 16 kHz mono array, or ``None`` with ``text``.
        text: words to speak with eSpeak NG (``options.voice``); also the transcript.
        options: ``transcript`` and ``voice`` are read.

    Raises:
        InputError: unreadable, empty or silent audio; an unknown voice.
    """
    from .speech import analyse

    wav, sound, sr, phones = _read_speech(audio, text, options)
    return Speech(wav=wav, audio=sound, sr=sr,
                  analysis=analyse(wav, transcript=options.transcript or text, phones=phones))


def _read_speech(audio, text: str | None, options: GenerateOptions) -> tuple[np.ndarray, np.ndarray, int, list | None]:
    """``(wav, audio, sr, phones)``: 16 kHz samples, the sound track at ``sr`` Hz, and the exact phones
    when the speech is synthesised (else ``None``)."""
    from .media.audio import MIN_SECONDS, SAMPLE_RATE, is_silent, load_audio, native_sample_rate, output_rate, \
        resample

    if text is not None:
        from .speech.tts import synthesize

        tts = synthesize(text, voice=options.voice)
        return resample(tts.audio, tts.sr, SAMPLE_RATE), tts.audio, tts.sr, tts.phones
    if isinstance(audio, np.ndarray):
        wav = np.asarray(audio, np.float32).reshape(-1)
        if wav.size < int(SAMPLE_RATE * MIN_SECONDS) or is_silent(wav):
            raise InputError("audio", "audio is empty or silent")
        return wav, wav, SAMPLE_RATE, None
    out_sr = output_rate(native_sample_rate(audio))
    out_audio = load_audio(audio, sr=out_sr)
    return resample(out_audio, out_sr, SAMPLE_RATE), out_audio, out_sr, None


def read_emotion(options: GenerateOptions, duration: float, n_frames: int):
    """Step 4: the emotion text as per-frame MEAD weights and intensity.

    Returns:
        ``(track, segments)``: :class:`~emocast.emotion.EmotionTrack` of ``n_frames`` frames at
        ``options.fps``, and the parsed segments.

    Raises:
        InputError: bad emotion text.
    """
    from .emotion import build_track, parse_emotion

    segs = parse_emotion(options.emotion, intensity=options.intensity, duration=duration)
    return build_track(segs, n_frames, options.fps), segs


def encode(frames: Iterable[np.ndarray], output: str, size: tuple[int, int], fps: int, speech: Speech,
           n_frames: int, report: Reporter) -> int:
    """Step 6: write ``n_frames`` frames and the speech's sound track as H.264 + AAC mp4, atomically.

    Args:
        frames: ``uint8 (H, W, 3)`` RGB frames (more than ``n_frames`` are ignored).
        output: ``.mp4`` path (a failed render leaves no file).
        size: ``(H, W)`` pixels.
        fps: frames per second.
        speech: its ``audio`` at ``sr`` becomes the sound track.
        n_frames: frames to write.
        report: progress (a bar with ETA when ``report.progress is True``).

    Returns:
        Frames written.
    """
    from .media.video import VideoWriter

    H, W = size
    bar = None
    if report.progress is True:
        from tqdm import tqdm

        bar = tqdm(total=n_frames, unit="frame", desc="rendering", file=sys.stderr, leave=False)
    written = 0
    with VideoWriter(output, W, H, fps=fps, audio=speech.audio, sr=speech.sr) as vw:
        for frame in frames:
            vw.write(frame)
            written += 1
            if bar is not None:
                bar.update(1)
            elif callable(report.progress):
                report.progress(written / n_frames, f"frame {written}/{n_frames}")
            if written >= n_frames:
                break
    if bar is not None:
        bar.close()
    return written


def generate(image, audio=None, text: str | None = None, emotion: str | None = None, output="out.mp4", *,
             options: GenerateOptions | None = None, progress: bool | Callable[[float, str], None] | None = None,
             log: Callable[[str], None] | None = None, **option_values) -> Generated:
    """Make an emotional talking-head video from one portrait.

    The steps (docs/architecture.md gives the same numbers): 1. check the inputs; 2. the portrait, its
    face found (in the render worker when there is one, while step 3 runs here); 3. the speech, read
    and analysed; 4. the engine prepared on the portrait; 5. the emotion read; 6. the frames rendered
    and encoded.

    Args:
        image: portrait file path, or ``uint8 (H, W, 3)`` RGB array.
        audio: speech file (WAV, MP3, M4A/AAC, FLAC, OGG or a video's audio track), or ``float32``
            16 kHz mono array. Exactly one of ``audio`` and ``text``.
        text: words to speak with eSpeak NG instead of ``audio``.
        emotion: MEAD label, mix (``"happy:0.6,surprised:0.4"``), free text, or timeline
            (``"0-3s: calm; 3s-: furious"``); default ``options.emotion``.
        output: ``.mp4`` path, written atomically; never one of the inputs.
        options: every other parameter (:class:`emocast.options.GenerateOptions`); keyword arguments
            named like its fields (``intensity=0.8, size=512, seed=1, ...``) override it.
        progress: ``True`` for a progress bar on stderr, or a callable ``progress(fraction, message)``.
        log: callable receiving one-line status messages (emotion reading, face choice).

    Returns:
        :class:`Generated`: ``output`` as a string, with ``.info`` (messages, timings per step, the
        emotion reading, frames, duration and size).

    Raises:
        InputError: a bad option, bad image (unreadable, no face, face too small), bad audio
            (unreadable, empty, silent), bad emotion text, an output that is unwritable, not ``.mp4``
            or one of the inputs, or both/neither of ``audio`` and ``text``.
    """
    options = (options or GenerateOptions()).replace(**option_values)
    if emotion is not None:
        options = options.replace(emotion=emotion)
    report = Reporter(progress, log)
    with contextlib.ExitStack() as stack:
        with report.step("setup"):
            output = check_inputs(image, audio, text, output, options)  # 1
            worker = stack.enter_context(start_worker(options))
            portrait_job = worker.load_portrait(load_portrait, image, options) if worker else None  # 2 begins
            engine: Engine = make_engine(options.engine, progress=progress is True)
        with report.step("speech", "analysing speech"):
            speech = prepare_speech(audio, text, options)  # 3
            report.note(f"speech: {speech.duration:.2f} s, phonemes from {speech.analysis.phone_source} "
                        f"({len(speech.analysis.phones)} segments)")
        with report.step("face", "finding the face"):
            portrait = portrait_job.result() if worker else load_portrait(image, options)  # 2 ends
            prepare_engine(engine, portrait, options, worker, report)  # 4
        n_frames = speech.n_frames(options.fps)
        with report.step("emotion", "reading the emotion"):
            track = read_emotion_reported(options, speech.duration, n_frames, report)  # 5
        with report.step("render"):
            encode(engine.frames(speech, track, log=report.note), output, engine.frame_size, options.fps, speech,
                   n_frames, report)  # 6
    report.info.n_frames, report.info.duration, report.info.size = n_frames, speech.duration, engine.frame_size
    return Generated(output, report.info)


def prepare_engine(engine: Engine, portrait: Portrait, options: GenerateOptions, worker, report: Reporter) -> None:
    """Step 4: ``engine.prepare`` on the portrait (after ``share_with(worker)`` when there is a worker,
    so that it takes the renderer the worker built), noting which face of several is animated and the
    engine's own status lines."""
    if portrait.face.n_faces > 1:
        which = "the largest" if portrait.face.index == 0 else "by --face-index"
        report.note(f"{portrait.face.n_faces} faces found; animating face {portrait.face.index} ({which})")
    if worker:
        engine.share_with(worker)
    engine.prepare(portrait, options)
    for line in engine.notes:
        report.note(line)


def read_emotion_reported(options: GenerateOptions, duration: float, n_frames: int, report: Reporter):
    """Step 5: :func:`read_emotion`, its reading noted (one line per timeline segment) and kept in
    ``report.info.emotion``; returns the :class:`~emocast.emotion.EmotionTrack`."""
    track, segs = read_emotion(options, duration, n_frames)
    for s in segs:
        span = "" if len(segs) == 1 else f"{s.start:.1f}-{s.end:.1f}s: "
        report.note(f"emotion: {span}{s.text!r} -> {s.describe()}")
    report.info.emotion = segs
    return track


generate.__signature__ = generate_signature()


def start_worker(options: GenerateOptions):
    """Context manager yielding a :class:`~emocast.engines.workers.RenderWorker` for the CPU engine when
    ``options.render_processes`` (default :func:`~emocast.engines.workers.default_processes`) is 2, else
    ``None``. The process ends on exit."""
    from .engines.workers import RenderWorker, default_processes

    n = options.render_processes or default_processes()
    if options.engine != "cpu" or n < 2:
        return contextlib.nullcontext(None)
    return RenderWorker()


def _check_array(image) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, 2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] < 2 or a.shape[1] < 2:
        raise InputError("image", f"expected an (H, W, 3) RGB array, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(a * (255.0 if a.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a[..., :3])
