"""Emotion -> facial action units (EMFACS-style prototypes) and emotion-specific speech dynamics.

Prototypes follow the EMFACS / Ekman & Friesen (1978) emotion predictions, as used by
"Think-Before-Draw" (emotion -> facial muscle movements): happiness 6+12, sadness 1+4+15(+17),
surprise 1+2+5+26, fear 1+2+4+5+7+20+26, anger 4+5+7+23(+24), disgust 9+10+15+16(+17),
contempt unilateral 12+14.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..rig.units import AU_INDEX, AU_NAMES
from .labels import MEAD_EMOTIONS
from .track import EmotionTrack

PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"AU6": 0.9, "AU12": 1.0, "AU25": 0.35, "AU26": 0.08},
    "sad": {"AU1": 1.2, "AU4": 0.6, "AU6": 0.35, "AU7": 0.4, "AU15": 1.3, "AU17": 0.25, "AU23": 0.25,
            "AU26": 0.45, "AU43": 0.5},
    "angry": {"AU4": 1.2, "AU5": 0.6, "AU7": 0.7, "AU9": 0.3, "AU10": 0.5, "AU15": 0.3, "AU17": 0.4, "AU23": 0.6,
              "AU24": 0.3},
    "fear": {"AU1": 1.3, "AU2": 0.9, "AU5": 1.3, "AU9": 0.2, "AU15": 1.3, "AU16": 1.3, "AU17": 0.15, "AU20": 1.3,
             "AU23": 1.1, "AU26": 0.55},
    "disgusted": {"AU1": 0.1, "AU4": 0.8, "AU7": 0.5, "AU9": 1.0, "AU10": 1.0, "AU15": 0.65},
    "surprised": {"AU1": 1.2, "AU2": 1.2, "AU5": 1.0, "AU18": 0.6, "AU25": 0.6, "AU26": 0.8},
    "contempt": {"AU12R": 0.8, "AU14R": 0.8, "AU7": 0.2},
}
"""AU activations at intensity 1 per MEAD emotion (columns of :data:`emocast.rig.AU_NAMES`).

Source: the EMFACS predictions of Ekman & Friesen (1978) above, weighted by eye for happy, angry,
surprised and contempt. Fear, sad and disgusted were tuned with ``benchmarks/tune_prototype.py`` and
pruned with ``benchmarks/ablate_prototype.py`` on the FER2013 judge over the fixture portraits
(in-sample; docs/tuning-history.md has the record). Fear's tense mouth stretched wide and pulled down
(AU15, AU16, AU23) follows Ekman & Friesen, *Unmasking the Face* (1975); surprise's slack, dropped jaw
with lightly rounded lips (AU26 0.8, AU18 0.6, not in EMFACS) follows the same source ("the jaw drops
open ... there is no tension or stretching of the mouth"). AUs stay within the composer's 1.3 clip.
"""

DYNAMICS: dict[str, dict[str, float]] = {
    # speech: gain on speech-driven mouth motion; smooth: coarticulation sigma (s);
    # head: head-motion gain; tempo: head-motion speed; pitch: head pitch offset (deg, + = down);
    # blink: blinks per minute.
    "neutral": dict(speech=1.0, smooth=0.035, head=1.0, tempo=1.0, pitch=0.0, blink=17),
    "happy": dict(speech=1.1, smooth=0.032, head=1.15, tempo=1.1, pitch=-1.0, blink=18),
    "sad": dict(speech=1.0, smooth=0.04, head=0.6, tempo=0.7, pitch=4.0, blink=12),
    "angry": dict(speech=1.25, smooth=0.025, head=1.35, tempo=1.25, pitch=1.5, blink=14),
    "fear": dict(speech=0.9, smooth=0.028, head=0.8, tempo=1.6, pitch=1.0, blink=24),
    "disgusted": dict(speech=0.85, smooth=0.038, head=0.9, tempo=0.9, pitch=-1.5, blink=16),
    "surprised": dict(speech=1.1, smooth=0.03, head=1.1, tempo=1.2, pitch=-2.5, blink=10),
    "contempt": dict(speech=0.85, smooth=0.04, head=0.9, tempo=0.9, pitch=-2.0, blink=15),
}
"""How each emotion changes the speech-driven motion (the idea of the paper's emotive audio
attention, Sec. 3.2.2: anger larger and sharper, sadness smaller and slower)."""

INTENSITY_GAMMA: dict[str, float] = {
    "neutral": 1.0, "happy": 1.0, "sad": 1.0, "surprised": 1.0, "fear": 0.8, "angry": 0.6, "disgusted": 0.55,
    "contempt": 1.0,
}
"""Per-emotion response curve (unitless exponent): the prototype is scaled by ``intensity ** gamma``, so
that intensity 0.5 reads as a mild version of 1.0; cues carried by texture and fine lines (anger,
disgust) need more than a linear share to show at half strength (``benchmarks/intensity_calibration.py``)."""

def to_action_units(track: EmotionTrack) -> np.ndarray:
    """Per-frame expression action units: each emotion's prototype, scaled by its weight and by
    ``intensity ** INTENSITY_GAMMA[emotion]``.

    Args:
        track: per-frame emotion weights ``(T, 8)`` and intensity ``(T,)``.

    Returns:
        ``float32 (T, n_AU)`` activations in the order of :data:`emocast.rig.AU_NAMES`.
    """
    protos = np.array([[PROTOTYPES[e].get(a, 0.0) for a in AU_NAMES] for e in MEAD_EMOTIONS], np.float32)
    gamma = np.array([INTENSITY_GAMMA[e] for e in MEAD_EMOTIONS], np.float32)
    scale = np.clip(track.intensity, 0, None)[:, None] ** gamma[None, :]  # (T, 8)
    return ((track.weights * scale) @ protos).astype(np.float32)


def dynamics(track: EmotionTrack, key: str) -> np.ndarray:
    """Per-frame value of one :data:`DYNAMICS` entry, blended by emotion weight and intensity.

    Returns:
        ``float32 (T,)``.
    """
    vals = np.array([DYNAMICS[e][key] for e in MEAD_EMOTIONS], np.float32)
    neutral = DYNAMICS["neutral"][key]
    return (neutral + (track.weights @ (vals - neutral)) * track.intensity).astype(np.float32)


@dataclass(frozen=True)
class Dynamics:
    """One instant of an emotion's :data:`DYNAMICS`: how it changes the speech-driven motion.

    Attributes:
        speech: gain on the speech-driven mouth motion (unitless).
        smooth: coarticulation sigma, seconds.
        head: head-motion gain (unitless).
        tempo: head-motion speed (unitless).
        pitch: head pitch offset, degrees (+ = down).
        blink: blinks per minute.
    """

    speech: float = DYNAMICS["neutral"]["speech"]
    smooth: float = DYNAMICS["neutral"]["smooth"]
    head: float = DYNAMICS["neutral"]["head"]
    tempo: float = DYNAMICS["neutral"]["tempo"]
    pitch: float = DYNAMICS["neutral"]["pitch"]
    blink: float = DYNAMICS["neutral"]["blink"]

    @classmethod
    def at(cls, track: EmotionTrack, frame: int = 0) -> "Dynamics":
        """The dynamics of ``track`` at ``frame`` (:func:`dynamics` of each entry)."""
        return cls(**{f.name: float(dynamics(track, f.name)[frame]) for f in fields(cls)})

    def blend(self, other: "Dynamics", w: float) -> "Dynamics":
        """``(1 - w) * self + w * other``, entry by entry."""
        return Dynamics(**{f.name: (1 - w) * getattr(self, f.name) + w * getattr(other, f.name) for f in fields(self)})


def au_index(name: str) -> int:
    """Column of an AU in :func:`to_action_units`' output."""
    return AU_INDEX[name]
