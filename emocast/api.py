"""The Python API: ``emocast.generate``."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from .errors import InputError

DEFAULT_MAX_SIZE = 1024


@dataclass
class GenerationInfo:
    """What :func:`generate` did, for printing: messages, timings and the emotion reading."""

    messages: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    emotion: list = field(default_factory=list)
    n_frames: int = 0
    duration: float = 0.0
    size: tuple = (0, 0)


def output_size(h: int, w: int, size: int | None) -> tuple[int, int]:
    """Output ``(height, width)``: the portrait's framing with the long side ``size`` (default: the
    portrait's own, capped at 1024), both even (H.264 yuv420p)."""
    long_side = size if size else min(max(h, w), DEFAULT_MAX_SIZE)
    s = long_side / max(h, w)
    return max(2, int(round(h * s / 2)) * 2), max(2, int(round(w * s / 2)) * 2)


def fit_portrait(img: np.ndarray, face, size: int | None) -> tuple[np.ndarray, object]:
    """Resize a portrait to :func:`output_size` and scale its analysed face to match.

    Args:
        img: ``uint8 (H, W, 3)`` RGB portrait as analysed.
        face: its :class:`emocast.face.FaceModel` (updated in place: landmarks, box, image size).
        size: long side of the output, or ``None`` for the default.

    Returns:
        ``(frame_img, face)``: the resized portrait and the same face.
    """
    H, W = output_size(*img.shape[:2], size)
    scale = W / img.shape[1]
    frame_img = cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    face.landmarks = face.landmarks * np.float32(scale)
    face.box = face.box * np.float32(scale)
    face.image_size = (H, W)
    return frame_img, face


def generate(image, audio=None, text: str | None = None, emotion: str = "neutral", output="out.mp4", *,
             intensity: float | None = None, transcript: str | None = None, voice: str = "en-us", still: bool = False,
             pose_scale: float = 1.0, size: int | None = None, face_index: int | None = None, fps: int = 25,
             seed: int = 0, engine: str = "cpu", weights: str | None = None,
             progress: bool | Callable[[float, str], None] | None = None,
             log: Callable[[str], None] | None = None, info: GenerationInfo | None = None) -> str:
    """Make an emotional talking-head video from one portrait.

    Args:
        image: portrait file path, or ``uint8 (H, W, 3)`` RGB array.
        audio: speech file (WAV, MP3, M4A/AAC, FLAC, OGG or a video's audio track), or ``float32``
            16 kHz mono array. Exactly one of ``audio`` and ``text``.
        text: words to speak with eSpeak NG instead of ``audio``.
        emotion: MEAD label, mix (``"happy:0.6,surprised:0.4"``), free text, or timeline
            (``"0-3s: calm; 3s-: furious"``).
        output: ``.mp4`` path, written atomically.
        intensity: emotion strength in [0, 1] (default: read from the text; labels 0.8).
        transcript: words spoken in ``audio`` (English) for forced alignment.
        voice: eSpeak NG voice for ``text``.
        still: no head motion.
        pose_scale: head-motion gain.
        size: long side of the output in pixels (default: the portrait's, at most 1024).
        face_index: which face when the portrait has several (0 = largest).
        fps: frames per second.
        seed: random seed for blinks and head drift.
        engine: ``"cpu"`` (default) or ``"neural"`` (the paper's network; needs ``weights`` and a GPU).
        weights: folder of the neural engine's weights.
        progress: ``True`` for a progress bar on stderr, or a callable ``progress(fraction, message)``.
        log: callable receiving one-line status messages (emotion reading, face choice).
        info: filled with messages and timings when given.

    Returns:
        ``output`` as a string.

    Raises:
        InputError: bad image (unreadable, no face, face too small), bad audio (unreadable, empty,
            silent), bad emotion text, unwritable output, or both/neither of ``audio`` and ``text``.
    """
    from .media import load_image, load_audio
    from .media.audio import native_sample_rate, resample, SAMPLE_RATE
    from .media.video import check_writable, VideoWriter

    info = info if info is not None else GenerationInfo()
    say = log or (lambda m: None)

    def note(m):
        info.messages.append(m)
        say(m)

    def stage(frac, msg):  # coarse progress before the per-frame render (callable progress only)
        if callable(progress):
            progress(frac, msg)

    t0 = time.perf_counter()
    output = check_writable(output)
    if (audio is None) == (text is None):
        raise InputError("--audio", "give exactly one of an audio file or --text to speak")
    if engine not in ("cpu", "neural"):
        raise InputError("--engine", f"unknown engine {engine!r} (cpu or neural)")
    if engine == "neural":
        if not weights:
            raise InputError("--weights", "the neural engine needs --weights DIR (a folder laid out like the EmoCAST release)")
        from .neural import check_weights

        check_weights(weights)  # one-line InputError listing what is missing, before any heavy work
    if not 0 < fps <= 60:
        raise InputError("--fps", f"fps {fps} is outside 1..60")
    if size is not None and not 64 <= size <= 4096:
        raise InputError("--size", f"size {size} is outside 64..4096")

    # Portrait
    stage(0.0, "finding the face")
    img_name = image if isinstance(image, (str, os.PathLike)) else "image"
    img = load_image(image) if isinstance(image, (str, os.PathLike)) else _check_array(image)
    from .face import analyse

    face = analyse(img, face_index=face_index, path=str(img_name))
    if face.n_faces > 1:
        note(f"{face.n_faces} faces found; animating face {face.index} ({'the largest' if face.index == 0 else 'by --face-index'})")
    frame_img, face = fit_portrait(img, face, size if engine == "cpu" else 512)
    H, W = face.image_size
    scale = W / img.shape[1]
    if face.box[2] - face.box[0] < 64:
        raise InputError(str(img_name), f"face is only {face.box[2] - face.box[0]:.0f} px wide at output size {max(H, W)}; use a larger --size")
    info.timings["face_s"] = time.perf_counter() - t0

    # Speech
    stage(0.0, "analysing speech")
    t1 = time.perf_counter()
    phones = None
    if text is not None:
        from .speech.tts import synthesize

        tts = synthesize(text, voice=voice)
        wav = resample(tts.audio, tts.sr, SAMPLE_RATE)
        out_audio, out_sr = tts.audio, tts.sr
        phones = tts.phones
        transcript = transcript or text
    elif isinstance(audio, np.ndarray):
        wav = np.asarray(audio, np.float32).reshape(-1)
        if wav.size < SAMPLE_RATE // 10 or np.abs(wav).max() < 10 ** (-50 / 20):
            raise InputError("audio", "audio is empty or silent")
        out_audio, out_sr = wav, SAMPLE_RATE
    else:
        sr = native_sample_rate(audio) or SAMPLE_RATE
        out_sr = sr if sr in (16000, 22050, 24000, 32000, 44100, 48000) else 48000
        out_audio = load_audio(audio, sr=out_sr)
        wav = resample(out_audio, out_sr, SAMPLE_RATE)
    from .speech import analyse as analyse_speech

    speech = analyse_speech(wav, transcript=transcript, phones=phones)
    duration = len(wav) / SAMPLE_RATE
    n_frames = max(1, int(round(duration * fps)))
    info.timings["speech_s"] = time.perf_counter() - t1
    note(f"speech: {duration:.2f} s, phonemes from {speech.phone_source} ({len(speech.phones)} segments)")

    # Emotion
    stage(0.0, "reading the emotion")
    from .emotion import build_track, parse_emotion

    segs = parse_emotion(emotion, intensity=intensity, duration=duration)
    for s in segs:
        span = "" if len(segs) == 1 else f"{s.start:.1f}-{s.end:.1f}s: "
        note(f"emotion: {span}{s.text!r} -> {s.describe()}")
    info.emotion = segs
    track = build_track(segs, n_frames, fps)

    if engine == "neural":
        from .neural import generate_frames

        frames = generate_frames(img, wav, track, weights, progress=progress is True, landmarks=face.landmarks[:, :2] / scale)
        render_iter = (np.asarray(f) for f in frames)
        H, W = 512, 512
    else:
        from .motion.composer import compose
        from .render import CPURenderer

        from .emotion.aus import to_action_units

        renderer = CPURenderer(frame_img, face)
        gain = renderer.rig.expression_gain(to_action_units(track))
        if gain < 1.0:
            note(f"expression at {gain:.2f} of its strength: the portrait's own expression was undone first, "
                 "and the full emotion on top would move the face too far from the person in it")
        motion = compose(track, speech, n_frames, fps=fps, still=still, pose_scale=pose_scale, seed=seed,
                         expression_gain=gain)
        render_iter = (renderer.render(motion.aus[i], motion.pose[i], motion.upper_teeth[i], motion.lower_teeth[i])
                       for i in range(n_frames))

    # Render + encode, atomically.
    t2 = time.perf_counter()
    bar = None
    if progress is True:
        from tqdm import tqdm

        bar = tqdm(total=n_frames, unit="frame", desc="rendering", file=sys.stderr, leave=False)
    with VideoWriter(output, W, H, fps=fps, audio=out_audio, sr=out_sr) as vw:
        for i, frame in enumerate(render_iter):
            vw.write(frame)
            if bar is not None:
                bar.update(1)
            elif callable(progress):
                progress((i + 1) / n_frames, f"frame {i + 1}/{n_frames}")
            if i + 1 >= n_frames:
                break
    if bar is not None:
        bar.close()
    info.timings["render_s"] = time.perf_counter() - t2
    info.timings["total_s"] = time.perf_counter() - t0
    info.n_frames, info.duration, info.size = n_frames, duration, (H, W)
    return output


def _check_array(image) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, 2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] < 2 or a.shape[1] < 2:
        raise InputError("image", f"expected an (H, W, 3) RGB array, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(a * (255.0 if a.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(a[..., :3])
