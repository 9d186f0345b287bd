"""Emotion over time: what the emotion stage hands to motion and to the neural engine."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .labels import MEAD_EMOTIONS


EMOTION_NOUNS = {"neutral": "calm", "happy": "happiness", "sad": "sadness", "angry": "anger", "fear": "fear",
                 "disgusted": "disgust", "surprised": "surprise", "contempt": "contempt"}
"""The noun of each MEAD emotion in a prompt (:meth:`EmotionSegment.prompt`)."""
PROMPT_DEGREES = ((0.35, "slight "), (0.85, ""), (float("inf"), "intense "))
"""Intensity (upper bound, inclusive) -> the word before the emotion in a prompt."""


@dataclass
class EmotionSegment:
    """One span of a timeline as the user wrote it.

    Attributes:
        start: start time in seconds.
        end: end time in seconds (``inf`` = until the end of the audio).
        text: the user's words for this span (a label, a mix, or free text).
        weights: ``float32 (8,)`` weights over :data:`MEAD_EMOTIONS`, summing to 1.
        intensity: strength in [0, 1].
        scores: per-emotion similarity scores of free text (empty for labels and mixes).
    """

    start: float
    end: float
    text: str
    weights: np.ndarray
    intensity: float
    scores: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The dominant MEAD emotion."""
        return MEAD_EMOTIONS[int(np.argmax(self.weights))]

    def prompt(self) -> str:
        """The span as a sentence in the style of the ETTH descriptions the EmoCAST release was trained
        on (paper Sec. 3.3: "The portrait is experiencing ..."): the user's own words when they wrote
        free text, else a sentence made from the label or mix and the intensity."""
        if self.scores:
            return self.text
        order = [i for i in np.argsort(-self.weights) if self.weights[i] >= 0.05]
        if MEAD_EMOTIONS[order[0]] == "neutral" and len(order) == 1:
            return "The portrait is calm, with a neutral expression."
        degree = next(word for limit, word in PROMPT_DEGREES if self.intensity <= limit)
        names = [EMOTION_NOUNS[MEAD_EMOTIONS[i]] for i in order if MEAD_EMOTIONS[i] != "neutral"][:2]
        what = names[0] if len(names) == 1 else f"{names[0]} mixed with {names[1]}"
        return f"The portrait is experiencing {degree}{what}."

    def describe(self) -> str:
        """Human-readable reading, e.g. ``"fear 0.82 (+ surprised 0.18), intensity 0.70"``."""
        order = np.argsort(-self.weights)
        parts = [f"{MEAD_EMOTIONS[i]} {self.weights[i]:.2f}" for i in order if self.weights[i] >= 0.05]
        head = parts[0] + (f" (+ {', '.join(parts[1:])})" if len(parts) > 1 else "")
        return f"{head}, intensity {self.intensity:.2f}"


@dataclass
class EmotionTrack:
    """Per-frame emotion.

    Attributes:
        weights: ``float32 (T, 8)`` per-frame weights over :data:`MEAD_EMOTIONS` (rows sum to 1).
        intensity: ``float32 (T,)`` per-frame intensity in [0, 1].
        fps: frames per second of the track.
        segments: the timeline spans the track was built from, in time order.
    """

    weights: np.ndarray
    intensity: np.ndarray
    fps: float
    segments: list[EmotionSegment]

    @property
    def n_frames(self) -> int:
        return int(self.weights.shape[0])

    def segment_at(self, t: float) -> EmotionSegment:
        """The timeline span covering time ``t`` (seconds)."""
        for s in self.segments:
            if s.start <= t < s.end:
                return s
        return self.segments[-1] if t >= self.segments[-1].start else self.segments[0]

    def prompt_at(self, t: float) -> str:
        """Emotion text for time ``t`` as the neural engine's text encoder wants it
        (:meth:`EmotionSegment.prompt`)."""
        return self.segment_at(t).prompt()
