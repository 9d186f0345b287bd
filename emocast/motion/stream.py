"""Face motion on a stream: the file mode's rules (:mod:`.visemes`, :mod:`.pose`, :mod:`.blinks`) run
frame by frame as audio arrives, with a bounded look-ahead.

:class:`MouthStream` turns 16 kHz audio pushed in chunks of any size into per-frame mouth action units.
Frame ``k`` (the span ``[k, k + 1) / fps``) is made once the audio reaches the end of its span plus
:attr:`StreamConfig.lookahead_s`: the coarticulation kernel's half-width, so every rule of
:func:`~emocast.motion.visemes.mouth_curves` (Gaussian coarticulation, loudness gains, bilabial
closure and its spread to the neighbouring frames) runs on the same grid as in the file mode. What
differs, because it cannot run causally: phones come from the phone loop's partial best path
(:class:`~emocast.speech.recognise.PhoneStream`) instead of the whole-utterance decode, loudness is
normalised on what has been heard so far (:class:`~emocast.speech.acoustic.RunningLoudness`), the
voice-activity gate is the hysteresis of silero-vad's rules without the minimum-speech rule, and the
kernel is cut at the look-ahead. Everything depends only on the samples pushed, never on how they
were split into chunks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..speech.acoustic import RunningLoudness
from ..speech.phonemes import Phone
from ..speech.recognise import PhoneStream
from ..speech.vad import WINDOW, SileroStream
from .blinks import BLINKS, BlinkConfig, lid_closure
from .pose import POSE, PoseConfig, drift, drift_sinusoids, nod
from .visemes import (MOUTH_AUS, VISEMES, VisemeConfig, articulate, bilabial_closed, close_lips, frame_hops,
                      phone_grid)

HOP_SAMPLES = 160
"""Samples per 10 ms hop of the grid (:attr:`VisemeConfig.hop_s` at 16 kHz)."""
BLOCK_SAMPLES = 2 * HOP_SAMPLES
"""Samples per update (20 ms): the phone decoder's block; frames are made only at block ends."""


@dataclass(frozen=True)
class StreamConfig:
    """Constants of the streaming motion (times in seconds)."""

    lookahead_s: float = 0.1
    """Audio past a frame's end that the frame waits for: the half-width of the coarticulation kernel
    (3 sigma of the neutral 35 ms kernel is 105 ms; the wider kernels of sad speech are cut here)."""
    vad_threshold: float = 0.5
    """Speech probability (silero-vad) that starts speech, as in :func:`~emocast.speech.vad.speech_segments`."""
    vad_release: float = 0.35
    """Probability below which speech may end (silero-vad's ``threshold - 0.15``)."""
    vad_min_silence_s: float = 0.1
    """Time below :attr:`vad_release` that ends speech; the hops since it started become silence."""
    vad_pad_s: float = 0.03
    """Speech that starts is dated this much earlier (silero-vad's padding)."""
    nod_delay_s: float = 0.25
    """A nod starts this long after its stressed syllable, later than in the file mode: a syllable is
    known to be a loudness peak only once the next frame is heard, and a nod drawn from that moment
    starts at rest instead of jumping into its rise."""
    history_s: float = 2.0
    """Grid kept behind the next frame (s): enough for the kernel and the bilabial spread."""


STREAM = StreamConfig()
"""The default streaming constants."""


@dataclass
class MouthFrame:
    """The speech-driven part of one frame.

    Attributes:
        index: frame number ``k`` (its span is ``[k, k + 1) / fps`` of stream time).
        mouth: ``float32 (6,)`` activations over :data:`~emocast.motion.visemes.MOUTH_AUS`.
        shut: lip closure 0-1 (1 on bilabials).
        loudness: loudness 0-1 at the frame's start.
        speaking: whether voice activity covers the frame's centre.
    """

    index: int
    mouth: np.ndarray
    shut: float
    loudness: float
    speaking: bool


class MouthStream:
    """Audio in, one :class:`MouthFrame` per video frame out (module docstring).

    Args:
        fps: frames per second.
        dynamics: ``dynamics(k) -> (amplitude, sigma_s)``: the speech gain and coarticulation sigma
            (seconds) of frame ``k`` (the emotion's, :data:`~emocast.emotion.aus.DYNAMICS`).
        config: streaming constants; ``visemes``: the file mode's viseme constants.

    Attributes:
        samples: samples pushed so far.
        frames: frames made so far.
    """

    def __init__(self, fps: float = 25.0, dynamics: Callable[[int], tuple[float, float]] | None = None,
                 config: StreamConfig = STREAM, visemes: VisemeConfig = VISEMES):
        self.fps, self.config, self.visemes = float(fps), config, visemes
        self.dynamics = dynamics or (lambda k: (1.0, 0.035))
        self._phones = PhoneStream(block_hops=BLOCK_SAMPLES // HOP_SAMPLES)
        self._loud, self._vad = RunningLoudness(), SileroStream()
        self._base = 0  # hop index of row 0 of the grids
        self._tgt = np.zeros((0, len(MOUTH_AUS)), np.float32)
        self._bil = np.zeros(0, np.float32)
        self._env = np.zeros(0, np.float32)
        self._voiced = np.zeros(0, bool)  # voice activity, or phones given by the caller (TTS)
        self._given = np.zeros(0, bool)
        self._triggered, self._quiet_since = False, None
        self._closed_prev = 0.0
        self.samples = 0
        self.frames = 0

    @property
    def lookahead_s(self) -> float:
        """The look-ahead, seconds: :attr:`lookahead_hops` hops of ``visemes.hop_s``."""
        return self.lookahead_hops * self.visemes.hop_s

    @property
    def lookahead_hops(self) -> int:
        """The look-ahead in 10 ms hops."""
        return int(round(self.config.lookahead_s / self.visemes.hop_s))

    def push(self, samples: np.ndarray, phones: list[Phone] | None = None) -> list[MouthFrame]:
        """Add audio; return the frames it completes.

        Args:
            samples: ``float32 (n,)`` mono at 16 kHz, following the previous push.
            phones: exact phone timings of these samples (seconds from their first sample), e.g. from
                eSpeak NG; they are used instead of recognition and voice activity.

        Returns:
            The :class:`MouthFrame` s now complete, in order (none while the look-ahead is short).
        """
        x = np.asarray(samples, np.float32).reshape(-1)
        start_hop = self.samples // HOP_SAMPLES
        self._grow((self.samples + len(x) + HOP_SAMPLES - 1) // HOP_SAMPLES + 1)
        if phones:
            spans = [(start_hop + int(round(p.start * 100)), start_hop + int(round(p.end * 100)), p.label) for p in phones]
            self._write(spans, given=True)
        out = []
        while len(x):  # block by block, so the frames made never depend on how the audio was chunked
            n = min(len(x), BLOCK_SAMPLES - self.samples % BLOCK_SAMPLES)
            piece, x = x[:n], x[n:]
            self.samples += n
            self._add_loudness(self._loud.push(piece))
            self._add_voicing(self._vad.push(piece))
            self._write(self._phones.push(piece), given=False)
            if self.samples % BLOCK_SAMPLES == 0:
                while self._need(self.frames) < self._ready():
                    out.append(self._frame(self.frames))
                    self.frames += 1
        self._trim()
        return out

    def _ready(self) -> int:
        """Hops every part of the grid (phones, loudness, voice activity) has been filled for."""
        return min(self._phones.hops, self._loud.hops, self._vad.windows * WINDOW // HOP_SAMPLES)

    def _hops(self, k: int) -> np.ndarray:
        """Grid hops (absolute) averaged into frame ``k``, ``int (frame_subsamples,)``."""
        return frame_hops(np.array([k]), self.fps, 1 << 30, self.visemes)[0]

    def _need(self, k: int) -> int:
        """Last hop (inclusive) frame ``k`` reads: its own and the next frame's span, plus the kernel."""
        centre = int((k + 1.5) / self.fps / self.visemes.hop_s)
        return max(int(self._hops(k).max()) + self.lookahead_hops, int(self._hops(k + 1).max()), centre)

    # --- the grid -------------------------------------------------------------------------------
    def _grow(self, end_hop: int) -> None:
        n = end_hop - self._base - len(self._bil)
        if n > 0:
            self._tgt = np.concatenate([self._tgt, np.zeros((n, len(MOUTH_AUS)), np.float32)])
            self._bil = np.concatenate([self._bil, np.zeros(n, np.float32)])
            self._env = np.concatenate([self._env, np.zeros(n, np.float32)])
            self._voiced = np.concatenate([self._voiced, np.zeros(n, bool)])
            self._given = np.concatenate([self._given, np.zeros(n, bool)])

    def _write(self, spans, given: bool) -> None:
        n = len(self._bil)
        for a, b, label in spans:
            a, b = max(a - self._base, 0), min(b - self._base, n)
            if b <= a:
                continue
            if not given:  # recognition never relabels phones the caller gave
                keep = self._given[a:b]
                if keep.all():
                    continue
                idx = np.arange(a, b)[~keep]
                t, bl = phone_grid([(0, 1, label)], 1, self.visemes.hop_s)
                self._tgt[idx], self._bil[idx] = t[0], bl[0]
                continue
            t, bl = phone_grid([(a, b, label)], b, self.visemes.hop_s)
            self._tgt[a:b], self._bil[a:b] = t[a:b], bl[a:b]
            self._given[a:b] = True

    def _add_loudness(self, env: np.ndarray) -> None:
        first = self._loud.hops - len(env) - self._base
        lo = max(first, 0)
        self._env[lo:first + len(env)] = env[lo - first:]

    def _add_voicing(self, probs: np.ndarray) -> None:
        c = self.config
        first_window = self._vad.windows - len(probs)
        for i, p in enumerate(probs):
            w = first_window + i
            a = (w * WINDOW) // HOP_SAMPLES - self._base
            b = ((w + 1) * WINDOW) // HOP_SAMPLES - self._base
            if p >= c.vad_threshold:
                if not self._triggered:
                    a = max(a - int(round(c.vad_pad_s * 100)), 0)
                self._triggered, self._quiet_since = True, None
            elif p < c.vad_release and self._triggered:
                if self._quiet_since is None:
                    self._quiet_since = a
                if (b - self._quiet_since) * self.visemes.hop_s >= c.vad_min_silence_s:
                    self._voiced[max(self._quiet_since, 0):b] = False
                    self._triggered, self._quiet_since = False, None
                    continue
            self._voiced[max(a, 0):max(b, 0)] = self._triggered

    def _trim(self) -> None:
        keep_from = max(0, int(self.frames / self.fps / self.visemes.hop_s) - int(self.config.history_s * 100))
        cut = keep_from - self._base
        if cut > 500:
            for name in ("_tgt", "_bil", "_env", "_voiced", "_given"):
                setattr(self, name, getattr(self, name)[cut:])
            self._base = keep_from
            if self._quiet_since is not None:
                self._quiet_since -= cut

    # --- one frame --------------------------------------------------------------------------------
    def _frame(self, k: int) -> MouthFrame:
        v, amp_sigma = self.visemes, self.dynamics(k)
        amplitude, sigma = float(amp_sigma[0]), float(amp_sigma[1])
        own, nxt = self._hops(k), self._hops(k + 1)
        r = self.lookahead_hops
        lo, hi = max(int(own.min()) - r, self._base), self._need(k) + 1
        sl = slice(lo - self._base, hi - self._base)
        on = self._voiced | self._given  # phones count where there is voice, or where the caller gave them
        sm = articulate(self._tgt[sl] * on[sl, None], self._env[sl], sigma, v, radius=r)
        out = sm[own - lo].mean(0, keepdims=True) * np.float32(amplitude)
        closed = bilabial_closed((self._bil * on)[sl], np.array([k, k + 1]), np.stack([own, nxt]), self.fps, v, offset=lo)
        spread = np.dot(v.shut_spread_kernel, [self._closed_prev, closed[0], closed[1]]) * v.shut_spread_gain
        shut = max(float(closed[0]), float(spread))
        self._closed_prev = float(closed[0])
        mouth = close_lips(out, closed[:1], np.array([shut], np.float32), v)[0]
        start = int(k / self.fps / v.hop_s) - self._base
        centre = int((k + 0.5) / self.fps / v.hop_s) - self._base
        return MouthFrame(index=k, mouth=mouth, shut=shut, loudness=float(self._env[min(start, len(self._env) - 1)]),
                          speaking=bool(on[min(centre, len(self._env) - 1)]))


class HeadStream:
    """:func:`~emocast.motion.pose.head_pose` frame by frame: the same drift sinusoids, and a nod on
    each stressed syllable (a loudness peak above :attr:`PoseConfig.stress_loudness` after a rise),
    started :attr:`StreamConfig.nod_delay_s` after it.

    Args:
        fps: frames per second.
        rng: random generator (drift phases, nod sides).
    """

    def __init__(self, fps: float, rng: np.random.Generator, config: PoseConfig = POSE, stream: StreamConfig = STREAM):
        self.fps, self.rng, self.config, self.stream = fps, rng, config, stream
        self.freqs, self.phases = drift_sinusoids(rng, config)
        self._phase_t = 0.0
        self._env: list[float] = []
        self._nods: list[tuple[float, float, int]] = []  # (time s, loudness, side)
        self._last_nod = -np.inf

    def step(self, loudness: float, scale: float = 1.0, tempo: float = 1.0, pitch_offset: float = 0.0) -> np.ndarray:
        """Head yaw, pitch, roll (degrees, ``float32 (3,)``) of the next frame.

        Args:
            loudness: the frame's loudness 0-1 (:attr:`MouthFrame.loudness`).
            scale: head-motion gain (0 = still).
            tempo: drift speed factor.
            pitch_offset: constant pitch, degrees (positive = chin down).
        """
        c, k = self.config, len(self._env)
        self._env.append(float(loudness))
        self._phase_t += np.float32(tempo) / self.fps
        if k >= 2:  # frame k-1 is a peak if it rose from k-2 and does not rise to k
            e0, e1, e2 = self._env[-3:]
            t1 = (k - 1) / self.fps
            if e1 > c.stress_loudness and e1 > e0 and e2 <= e1 and t1 - self._last_nod >= c.nod_min_gap_s:
                self._last_nod = t1
                self._nods.append((t1 + self.stream.nod_delay_s, e1, int(self.rng.choice([-1, 1]))))
        t = k / self.fps
        out = drift(np.array([self._phase_t], np.float32), self.freqs, self.phases, c)[0].astype(np.float64)
        self._nods = [n for n in self._nods if t - n[0] < 4 * c.nod_time_s]
        for t0, e, side in self._nods:
            out += nod(np.array([t - t0]), e, side, c)[0]
        out *= scale
        out[1] += pitch_offset
        return out.astype(np.float32)


class BlinkStream:
    """Spontaneous blinks frame by frame, by the rules of :func:`~emocast.motion.blinks.blink_curve`:
    gamma-distributed intervals around ``60 / rate`` seconds; a blink due during speech waits up to
    :attr:`BlinkConfig.pause_snap_s` for a pause.

    Args:
        fps: frames per second.
        rng: random generator.
        duration_s: length of one blink, seconds.
    """

    def __init__(self, fps: float, rng: np.random.Generator, config: BlinkConfig = BLINKS, duration_s: float = 0.22):
        self.fps, self.rng, self.config, self.duration_s = fps, rng, config, duration_s
        self._frame = 0
        self._due: float | None = None
        self._times: list[float] = []

    def step(self, speaking: bool, rate_per_min: float = 17.0) -> float:
        """Lid closure (0 open, 1 shut) of the next frame; ``speaking`` is its voice activity."""
        c = self.config
        t = (self._frame + 0.5) / self.fps
        self._frame += 1
        mean = 60.0 / max(rate_per_min, 1.0)
        if self._due is None:
            self._due = self.rng.uniform(c.first_min_s, min(mean, c.first_max_s))
        if t >= self._due and (not speaking or t >= self._due + c.pause_snap_s):
            if not self._times or t - self._times[-1] >= c.min_separation_s:
                self._times.append(t)
            self._due = t + max(c.min_interval_s, self.rng.gamma(c.interval_shape, mean / c.interval_shape))
        self._times = [b for b in self._times if t - b < 2 * self.duration_s]
        return float(lid_closure(np.array([t]), self._times, self.duration_s, c)[0])
