"""A live session: one portrait, speech pushed as it comes, frames out at a steady rate.

The session runs the file mode's stages: the portrait is analysed by :func:`emocast.api.load_portrait`
and set up by the CPU engine (:class:`emocast.engines.CPUEngine`: its face rig and renderer); the
emotion is read by the emotion stage; speech becomes mouth motion in :class:`~emocast.motion.stream.MouthStream`
(the viseme rules of the file mode, run causally with a 100 ms look-ahead); head motion, blinks and the
composition are the motion stage's own steps (:mod:`emocast.motion.stream`, :func:`~emocast.motion.composer.add_speech`).

Timing: frame ``k`` shows stream time ``[k, k + 1) / fps``. Audio is appended to the stream as it
is pushed. A frame is drawn as soon as the audio through its end plus the look-ahead is there; in
real-time mode it is never handed out before its time (``start + k / fps``), and when no audio has
come for :attr:`LiveConfig.stall_s` the stream is filled with silence, so the face idles (mouth
closed, blinks, head drift, the emotion held) and speech pushed later starts on the next frame.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from ..emotion.aus import Dynamics, au_index, to_action_units
from ..errors import InputError
from ..media.audio import SAMPLE_RATE, StreamResampler
from ..motion.composer import COMPOSE, compose_frame
from ..motion.stream import BLOCK_SAMPLES, STREAM, BlinkStream, HeadStream, MouthFrame, MouthStream, StreamConfig
from ..options import GenerateOptions


@dataclass(frozen=True)
class LiveConfig:
    """Constants of a live session (times in seconds)."""

    emotion_blend_s: float = 0.4
    """A new emotion is blended in over this long (raised cosine), from whatever the face showed."""
    max_buffer_s: float = 20.0
    """Most audio that may wait ahead of the frames; a push beyond it blocks until frames catch up
    (or fails after its ``timeout``), so a producer faster than real time cannot grow memory."""
    stall_s: float = 0.12
    """With no audio for this long, a frame that is due is drawn on silence (the face idles)."""
    max_chunk_s: float = 60.0
    """Longest chunk one push may carry."""
    stream: StreamConfig = STREAM
    """The streaming motion's constants (look-ahead, voice-activity gate, nods)."""


LIVE = LiveConfig()
"""The default live constants."""


@dataclass
class LiveFrame:
    """One frame of a live session.

    Attributes:
        index: frame number ``k``.
        timestamp: stream time of the frame's start, seconds (``k / fps``).
        image: ``uint8 (H, W, 3)`` RGB.
        audio: ``float32 (n,)`` the stream's 16 kHz samples of the frame's span (silence while idle).
        jaw: the jaw-drop activation (AU26) drawn, for measurements.
        shown_at: clock time (s, :func:`time.monotonic` unless the session was given another clock)
            at which the frame was handed out.
    """

    index: int
    timestamp: float
    image: np.ndarray
    audio: np.ndarray
    jaw: float
    shown_at: float = 0.0


@dataclass(frozen=True)
class _Emotion:
    """An emotion as the renderer uses it: expression AUs at strength and its dynamics."""

    aus: np.ndarray
    dyn: Dynamics = Dynamics()
    text: str = "neutral"

    @staticmethod
    def blend(a: "_Emotion", b: "_Emotion", w: float) -> "_Emotion":
        return _Emotion(aus=(1 - w) * a.aus + w * b.aus, dyn=a.dyn.blend(b.dyn, w), text=b.text)


class LiveSession:
    """A real-time talking head (module docstring).

    Args:
        image: portrait file path, ``uint8 (H, W, 3)`` RGB array, or a portrait analysed already
            (:func:`emocast.api.load_portrait`), which skips the face analysis.
        emotion: the starting emotion (a MEAD label, a mix, or free text; not a timeline).
        options: size, fps, seed, still, pose_scale, voice, intensity and face_index are read
            (:class:`~emocast.options.GenerateOptions`; keyword arguments override it). The engine
            is the CPU engine.
        config: :class:`LiveConfig`.
        realtime: pace frames by the clock and idle on silence; ``False`` draws frames as fast as the
            pushed audio allows (for files and tests) and ends after :meth:`finish`.
        clock: monotonic clock in seconds.

    Raises:
        InputError: a bad option, an unreadable portrait, no face or a face too small, a bad emotion.
    """

    def __init__(self, image, emotion: str = "neutral", *, options: GenerateOptions | None = None,
                 config: LiveConfig = LIVE, realtime: bool = True, clock: Callable[[], float] = time.monotonic,
                 **option_values):
        from ..api import load_portrait
        from ..engines import Portrait
        from ..engines.cpu import CPUEngine

        t0 = clock()
        self.options = (options or GenerateOptions()).replace(emotion=emotion, **option_values).validate()
        self.config, self.realtime, self.clock = config, realtime, clock
        self.fps = int(self.options.fps)
        self.engine = CPUEngine()
        portrait = image if isinstance(image, Portrait) else load_portrait(image, self.options)
        self.engine.prepare(portrait, self.options)
        self.analysis_s = clock() - t0
        rng = np.random.default_rng(self.options.seed)
        self._head = HeadStream(self.fps, rng, config=COMPOSE.pose, stream=config.stream)
        self._blinks = BlinkStream(self.fps, rng, config=COMPOSE.blinks)
        self._mouth = MouthStream(self.fps, dynamics=self._mouth_dynamics, config=config.stream, visemes=COMPOSE.visemes)
        self._resampler = StreamResampler()
        self._cond = threading.Condition()
        self._push_lock = threading.Lock()
        self._ready: deque[MouthFrame] = deque()
        self._audio = np.zeros(0, np.float32)  # stream samples from _audio_base on
        self._audio_base = 0
        self._next = 0  # next frame to hand out
        self._last_push = -np.inf
        self._heard = 0
        self._pushed = 0  # samples pushed by the caller (the silence of idling not counted)
        self._finished = self._closed = False
        self._start: float | None = None
        rest = _Emotion(aus=np.zeros_like(self._read_emotion("neutral").aus))
        self._from, self._to = rest, self._read_emotion(self.options.emotion)
        self._switch_at, self._blend_frames = 0, max(1, int(COMPOSE.ease_in_s * self.fps))

    # --- properties ---------------------------------------------------------------------------
    @property
    def frame_size(self) -> tuple[int, int]:
        """``(height, width)`` of the frames, pixels."""
        return self.engine.frame_size

    @property
    def emotion(self) -> str:
        """The emotion text the face is showing or blending to."""
        return self._to.text

    @property
    def buffered_s(self) -> float:
        """Audio pushed but not yet shown, seconds."""
        return max(0.0, self._mouth.samples / SAMPLE_RATE - self._next / self.fps)

    @property
    def heard_s(self) -> float:
        """Audio pushed by the caller so far (not the silence of idling), seconds."""
        return self._heard / SAMPLE_RATE

    @property
    def lookahead_s(self) -> float:
        """Audio past a frame's end that the frame waits for, seconds."""
        return self._mouth.lookahead_s

    # --- input --------------------------------------------------------------------------------
    def set_emotion(self, text: str, intensity: float | None = None, at_s: float | None = None) -> None:
        """Blend to a new emotion over :attr:`LiveConfig.emotion_blend_s`.

        Args:
            text: a MEAD label, a mix or free text (not a timeline).
            intensity: strength in [0, 1] (default: the session's, else read from the text).
            at_s: stream time (s) at which the blend starts; default the next frame shown. A time
                before that also means the next frame.

        Raises:
            InputError: empty or malformed emotion text, a timeline, an intensity outside [0, 1].
        """
        target = self._read_emotion(text, intensity)
        with self._cond:
            k = self._next if at_s is None else max(self._next, int(round(at_s * self.fps)))
            self._from = self._emotion_at(k)
            self._to, self._switch_at = target, k
            self._blend_frames = max(1, int(round(self.config.emotion_blend_s * self.fps)))

    def push_audio(self, samples, sample_rate: int, timeout: float | None = None) -> float:
        """Append speech to the stream.

        Args:
            samples: ``(n,)`` mono or ``(n, channels)`` interleaved; ``float32``/``float64`` in
                [-1, 1] or ``int16``; any length up to :attr:`LiveConfig.max_chunk_s`.
            sample_rate: Hz (8000-192000).
            timeout: seconds to wait while :attr:`LiveConfig.max_buffer_s` of audio is already waiting
                (``None``: wait as long as it takes).

        Returns:
            Stream time (s) of the chunk's first sample: frame ``int(t * fps)`` shows it.

        Raises:
            InputError: a wrong sample format or rate, NaN or infinite samples, a chunk too long, a
                closed session, or the buffer still full after ``timeout``. The session is unchanged.
        """
        x = self._check_chunk(samples, sample_rate)
        return self._feed(self._resampler.push(x, int(sample_rate)), None, timeout)

    def push_text(self, text: str, voice: str | None = None, timeout: float | None = None) -> tuple[float, float]:
        """Speak ``text`` with eSpeak NG; its exact phoneme timings drive the mouth.

        Returns:
            ``(start_s, seconds)``: stream time of the speech's start and its length.

        Raises:
            InputError: empty text, an unknown voice, a closed session, a full buffer after ``timeout``.
        """
        from ..media.audio import resample
        from ..speech.tts import synthesize

        tts = synthesize(text, voice=voice or self.options.voice)
        wav = resample(tts.audio, tts.sr, SAMPLE_RATE)
        return self._feed(wav, tts.phones, timeout), len(wav) / SAMPLE_RATE

    def finish(self) -> None:
        """No more input: the frames end once the audio pushed so far has been shown."""
        with self._cond:
            self._finished = True
            self._cond.notify_all()

    def close(self) -> None:
        """Stop now: the frame iterator ends and later pushes fail."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- output -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[LiveFrame]:
        return self.frames()

    def frames(self) -> Iterator[LiveFrame]:
        """Frames in order, one per ``1 / fps`` of stream time (module docstring for the timing).

        Ends after :meth:`close`, or after :meth:`finish` once every pushed sample has been shown.
        """
        while True:
            mf = self._next_mouth()
            if mf is None:
                return
            k = mf.index
            if self.realtime:
                if self._start is None:
                    self._start = self.clock() - k / self.fps
                wait = self._start + k / self.fps - self.clock()
                if wait > 0:
                    time.sleep(wait)
            image, jaw = self._draw(mf)
            audio = self._take_audio(k)
            with self._cond:
                self._next = k + 1
                self._cond.notify_all()
            yield LiveFrame(index=k, timestamp=k / self.fps, image=image, audio=audio, jaw=jaw, shown_at=self.clock())

    # --- internals ----------------------------------------------------------------------------
    def _read_emotion(self, text: str, intensity: float | None = None) -> _Emotion:
        from ..emotion import build_track, parse_emotion

        intensity = self.options.intensity if intensity is None else intensity
        segs = parse_emotion(text, intensity=intensity)
        if len(segs) > 1:
            raise InputError("--emotion", "a timeline is for files; a live session takes one emotion at a time")
        track = build_track(segs, 1, self.fps)
        aus = to_action_units(track)
        gain = self.engine.rig.expression_gain(aus)
        return _Emotion(aus=aus[0] * np.float32(gain), dyn=Dynamics.at(track), text=str(text))

    def _emotion_at(self, k: int) -> _Emotion:
        x = np.clip((k - self._switch_at) / self._blend_frames, 0.0, 1.0)
        return _Emotion.blend(self._from, self._to, float(0.5 - 0.5 * np.cos(np.pi * x)))

    def _mouth_dynamics(self, k: int) -> tuple[float, float]:
        e = self._emotion_at(k)
        return e.dyn.speech, e.dyn.smooth

    def _check_chunk(self, samples, sample_rate) -> np.ndarray:
        a = np.asarray(samples)
        if not isinstance(sample_rate, (int, np.integer)) or not 8000 <= int(sample_rate) <= 192000:
            raise InputError("audio chunk", f"sample rate must be an integer 8000-192000 Hz, got {sample_rate!r}")
        if a.dtype == np.int16:
            a = a.astype(np.float32) / 32768.0
        elif a.dtype not in (np.float32, np.float64):
            raise InputError("audio chunk", f"samples must be float32, float64 or int16, got {a.dtype}")
        if a.ndim == 2 and 1 <= a.shape[1] <= 8:
            a = a.mean(1)
        if a.ndim != 1:
            raise InputError("audio chunk", f"expected (n,) mono or (n, channels) samples, got shape {a.shape}")
        if not np.isfinite(a).all():
            raise InputError("audio chunk", "contains NaN or infinite samples")
        if len(a) > self.config.max_chunk_s * int(sample_rate):
            raise InputError("audio chunk", f"chunk is {len(a) / int(sample_rate):.1f} s, longer than "
                                            f"{self.config.max_chunk_s:g} s; push it in pieces")
        return np.clip(a, -1.0, 1.0).astype(np.float32)

    def _feed(self, wav: np.ndarray, phones, timeout: float | None) -> float:
        deadline = None if timeout is None else self.clock() + timeout
        with self._cond:
            while not self._closed and self.buffered_s > self.config.max_buffer_s:
                left = None if deadline is None else deadline - self.clock()
                if left is not None and left <= 0:
                    raise InputError("audio", f"more than {self.config.max_buffer_s:g} s of audio is waiting to "
                                              "be shown; push at the pace of speech")
                self._cond.wait(left if left is not None else 0.5)
            if self._closed or self._finished:
                raise InputError("audio", "the live session is closed")
        with self._push_lock:
            return self._append(wav, phones)

    def _append(self, wav: np.ndarray, phones=None, heard: bool = True) -> float:
        """Add samples to the stream (caller holds ``_push_lock``); returns the stream time of the first.
        ``heard=False``: the silence of idling, not counted as the caller's audio."""
        start = self._mouth.samples / SAMPLE_RATE
        frames = self._mouth.push(wav, phones)
        with self._cond:
            self._audio = np.concatenate([self._audio, wav])
            self._ready.extend(frames)
            if heard:
                self._last_push = self.clock()
                self._pushed = self._mouth.samples
                self._heard += len(wav)
                self._cond.notify_all()
        return start

    def _fill_silence(self, k: int) -> None:
        """Silence into the stream until frame ``k`` is complete (the face idles)."""
        with self._push_lock:
            while self._mouth.frames <= k:
                self._append(np.zeros(BLOCK_SAMPLES, np.float32), heard=False)

    def _next_mouth(self) -> MouthFrame | None:
        """The next frame's mouth, waiting for audio or idling on silence (``None``: the end)."""
        while True:
            with self._cond:
                if self._closed:
                    return None
                if self._ready:
                    return self._ready.popleft()
                k = self._mouth.frames
                pushed_shown = self._next * SAMPLE_RATE / self.fps >= self._pushed
                if self._finished and pushed_shown:
                    return None
                now = self.clock()
                due = None if self._start is None else self._start + k / self.fps
                stalled = now - self._last_push >= self.config.stall_s
                idle = self._finished or (self.realtime and stalled and (due is None or now >= due))
                if not idle:
                    self._cond.wait(0.01)
                    continue
            self._fill_silence(k)

    def _take_audio(self, k: int) -> np.ndarray:
        with self._cond:
            a = int(round(k * SAMPLE_RATE / self.fps)) - self._audio_base
            b = int(round((k + 1) * SAMPLE_RATE / self.fps)) - self._audio_base
            out = self._audio[max(a, 0):max(b, 0)].copy()
            if b > 0:
                self._audio, self._audio_base = self._audio[b:], self._audio_base + b
        return out

    def _draw(self, mf: MouthFrame) -> tuple[np.ndarray, float]:
        """Compose one frame's action units and pose (the motion stage's steps) and render it."""
        o = self.options
        with self._cond:
            e = self._emotion_at(mf.index)
        blink = self._blinks.step(mf.speaking, e.dyn.blink)
        head = self._head.step(mf.loudness, scale=o.pose_scale * e.dyn.head, tempo=e.dyn.tempo,
                               pitch_offset=o.pose_scale * e.dyn.pitch)
        aus, pose, upper, lower = compose_frame(e.aus[None].astype(np.float32), mf.mouth[None],
                                                np.array([mf.shut], np.float32), np.array([blink], np.float32),
                                                None if o.still else np.asarray(head, np.float32)[None], COMPOSE)
        return (self.engine.renderer.render(aus[0], pose[0], float(upper[0]), float(lower[0])),
                float(aus[0, au_index("AU26")]))
