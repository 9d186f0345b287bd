"""Parse the ``--emotion`` argument: a MEAD label, a mix, free text, or a timeline of those.

Grammar::

    emotion  := timeline | spec
    timeline := span (";" span)*          e.g. "0-3s: calm; 3s-: furious"
    span     := [start] "-" [end] ":" spec  (times in seconds, optional "s"; open ends allowed)
    spec     := label | mix | free text   e.g. "sad", "happy:0.6,surprised:0.4", "she just heard her dog died"
"""
from __future__ import annotations

import math
import re

import numpy as np

from ..errors import InputError
from .bank import DEFAULT_INTENSITY, INTENSIFIERS, STRONG_WORDS
from .labels import MEAD_EMOTIONS, canonical
from .track import EmotionSegment, EmotionTrack

LABEL_INTENSITY = 0.8
"""Intensity of a bare label or mix when ``--intensity`` is not given."""

_SPAN = re.compile(r"^\s*(?P<a>\d+(?:\.\d+)?)?\s*s?\s*-\s*(?P<b>\d+(?:\.\d+)?)?\s*s?\s*:\s*(?P<spec>.+?)\s*$", re.S)
_MIX = re.compile(r"^\s*[a-zA-Z]+\s*:\s*[-+]?\d*\.?\d+\s*(,\s*[a-zA-Z]+\s*:\s*[-+]?\d*\.?\d+\s*)*$")


def parse_spec(spec: str, intensity: float | None = None) -> EmotionSegment:
    """Read one emotion spec (label, mix or free text) into a segment spanning all time.

    Args:
        spec: ``"sad"``, ``"happy:0.6,surprised:0.4"`` or free text.
        intensity: overrides the intensity read from the text, in [0, 1].

    Returns:
        :class:`EmotionSegment` with ``start=0, end=inf``.

    Raises:
        InputError: empty spec, unknown label in a mix, a negative weight, weights that sum to zero,
            or an intensity outside [0, 1].
    """
    text = " ".join(spec.split())
    if not text:
        raise InputError("--emotion", "emotion text is empty")
    _check_intensity(intensity)
    w = np.zeros(len(MEAD_EMOTIONS), np.float32)
    scores: dict = {}
    if canonical(text) is not None:
        w[MEAD_EMOTIONS.index(canonical(text))] = 1.0
        inten = LABEL_INTENSITY
    elif _MIX.match(text):
        for part in text.split(","):
            name, val = (x.strip() for x in part.split(":"))
            c = canonical(name)
            if c is None:
                raise InputError("--emotion", f"unknown emotion {name!r} in mix (use {', '.join(MEAD_EMOTIONS)})")
            if float(val) < 0:
                raise InputError("--emotion", f"mix weight {val} of {name} is negative (weights are 0 or more)")
            w[MEAD_EMOTIONS.index(c)] += float(val)
        if w.sum() <= 0:
            raise InputError("--emotion", "emotion mix weights sum to zero")
        w /= w.sum()
        inten = LABEL_INTENSITY
    else:
        from .encoder import emotion_scores, scores_to_weights

        s = emotion_scores(text)
        w = scores_to_weights(s)
        scores = {e: float(v) for e, v in zip(MEAD_EMOTIONS, s)}
        inten = text_intensity(text)
    if intensity is not None:
        inten = float(intensity)
    if w[0] > 0.999:
        inten = 0.0 if intensity is None else inten
    return EmotionSegment(0.0, math.inf, text, w, float(inten), scores)


def _check_intensity(intensity: float | None) -> None:
    if intensity is not None and not 0.0 <= intensity <= 1.0:
        raise InputError("--intensity", f"intensity {intensity} is outside 0..1")


def _check_spec(spec: str, intensity: float | None = None) -> EmotionSegment:
    """:func:`parse_spec` for labels and mixes; free text is only checked to be non-empty (no encoder)."""
    text = " ".join(spec.split())
    if canonical(text) is not None or _MIX.match(text) or not text:
        return parse_spec(spec, intensity)
    _check_intensity(intensity)
    return EmotionSegment(0.0, math.inf, text, np.eye(len(MEAD_EMOTIONS), dtype=np.float32)[0], 0.0, {})


def check_emotion(text: str, intensity: float | None = None) -> None:
    """Check an ``--emotion`` value as :func:`parse_emotion` would, without loading the sentence encoder.

    Raises:
        InputError: as :func:`parse_emotion` (empty text, malformed timeline, unknown label or negative
            weight in a mix, intensity outside [0, 1]).
    """
    _check_intensity(intensity)
    parse_emotion(text, intensity, _spec=_check_spec)


def text_intensity(text: str) -> float:
    """Intensity in [0, 1] from modifiers ("slightly", "very") and strong words ("furious")."""
    t = " " + re.sub(r"[^a-z' ]", " ", text.lower()) + " "
    base = DEFAULT_INTENSITY
    for word, val in STRONG_WORDS.items():
        if f" {word} " in t:
            base = val if val > 0 else base
    mult = 1.0
    for word, m in INTENSIFIERS.items():
        if f" {word} " in t:
            mult = m if abs(m - 1) > abs(mult - 1) else mult
    if "!" in text:
        mult *= 1.1
    return float(np.clip(base * mult, 0.0, 1.0))


def parse_emotion(text: str, intensity: float | None = None, duration: float | None = None,
                  _spec=parse_spec) -> list[EmotionSegment]:
    """Parse ``--emotion`` into time-ordered segments.

    Args:
        text: label, mix, free text, or a timeline ``"0-3s: calm; 3s-: furious"``.
        intensity: overrides every segment's intensity, in [0, 1].
        duration: audio duration in seconds (closes open-ended spans; spans past it are dropped).

    Returns:
        Segments covering ``[0, duration or inf)`` in order; a gap before the first span is neutral.

    Raises:
        InputError: malformed timeline (overlapping or reversed spans), or a bad spec.
    """
    if text is None or not str(text).strip():
        raise InputError("--emotion", "emotion text is empty")
    parts = [p for p in str(text).split(";") if p.strip()]
    spans = [_SPAN.match(p) for p in parts]
    if not all(spans):
        if any(spans):
            raise InputError("--emotion", "timeline spans must all look like 'START-END: emotion', e.g. '0-3s: calm; 3s-: furious'")
        seg = _spec(str(text), intensity)
        seg.end = duration if duration is not None else math.inf
        return [seg]
    segs: list[EmotionSegment] = []
    t = 0.0
    for m in spans:
        a = float(m["a"]) if m["a"] else t
        b = float(m["b"]) if m["b"] else math.inf
        if b <= a:
            raise InputError("--emotion", f"timeline span {a:g}-{b:g}s ends before it starts")
        if a < t - 1e-6:
            raise InputError("--emotion", f"timeline span starting at {a:g}s overlaps the previous one")
        if a > t + 1e-6:
            gap = _spec("neutral", None)
            gap.start, gap.end = t, a
            segs.append(gap)
        seg = _spec(m["spec"], intensity)
        seg.start, seg.end = a, b
        segs.append(seg)
        t = b
    if duration is not None:
        segs = [s for s in segs if s.start < duration] or segs[:1]
        segs[-1].end = max(segs[-1].end if math.isfinite(segs[-1].end) else duration, duration)
    return segs


def build_track(segments: list[EmotionSegment], n_frames: int, fps: float, transition_s: float = 0.6) -> EmotionTrack:
    """Per-frame emotion from segments, with smooth (raised-cosine) transitions between spans.

    Args:
        segments: from :func:`parse_emotion`.
        n_frames: frames.
        fps: frames per second.
        transition_s: duration of each cross-fade in seconds, centred on the span boundary.

    Returns:
        :class:`EmotionTrack`.
    """
    t = (np.arange(n_frames) + 0.5) / fps
    W = np.zeros((n_frames, len(MEAD_EMOTIONS)), np.float32)
    I = np.zeros(n_frames, np.float32)
    for k, s in enumerate(segments):
        lo = np.ones(n_frames) if k == 0 else _ramp((t - s.start) / transition_s)
        hi = np.ones(n_frames) if k == len(segments) - 1 else 1 - _ramp((t - s.end) / transition_s)
        m = (lo * hi).astype(np.float32)
        # Weighting by intensity keeps the resulting action units a linear cross-fade of the spans'.
        W += (m * s.intensity)[:, None] * s.weights[None, :]
        I += m * s.intensity
    neutral = np.eye(len(MEAD_EMOTIONS), dtype=np.float32)[0]
    W = np.where(I[:, None] > 1e-6, W / np.maximum(I[:, None], 1e-6), neutral)
    return EmotionTrack(weights=W.astype(np.float32), intensity=np.clip(I, 0, 1).astype(np.float32), fps=fps,
                        segments=segments)


def _ramp(x: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x + 0.5, 0, 1))
