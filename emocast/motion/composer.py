"""Compose per-frame face motion: expression (emotion AUs) + speech (mouth AUs) + blinks + head pose.

The composition's tuned constants, and the configs of the stages it calls, are the fields of
:class:`ComposeConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..emotion.aus import dynamics, to_action_units
from ..emotion.track import EmotionTrack
from ..speech.analyse import SpeechAnalysis
from ..rig import AU_INDEX, teeth_rows
from .blinks import BLINKS, BlinkConfig, blink_curve
from .pose import POSE, PoseConfig, head_pose
from .visemes import MOUTH_AUS, VISEMES, VisemeConfig, mouth_curves


@dataclass
class FaceMotion:
    """Everything the renderer needs, per frame.

    Attributes:
        aus: ``float32 (T, n_AU)`` action-unit activations, columns :data:`emocast.rig.AU_NAMES`.
        pose: ``float32 (T, 3)`` head yaw, pitch, roll in degrees.
        upper_teeth: ``float32 (T,)`` visibility of the upper teeth row when the lips part.
        lower_teeth: ``float32 (T,)`` visibility of the lower row.
        fps: frames per second.
    """

    aus: np.ndarray
    pose: np.ndarray
    upper_teeth: np.ndarray
    lower_teeth: np.ndarray
    fps: float

    @property
    def n_frames(self) -> int:
        return int(self.aus.shape[0])

    def au(self, name: str) -> np.ndarray:
        """One AU's curve, ``float32 (T,)``."""
        return self.aus[:, AU_INDEX[name]]


@dataclass(frozen=True)
class ComposeConfig:
    """Tuned constants of :func:`compose`, and the configs of the motion stages it runs."""

    ease_in_s: float = 0.4
    """Time (s) over which the expression eases in at the start, so the first frame is the portrait."""
    shut_aus: tuple[str, ...] = ("AU25", "AU26", "AU20", "AU16", "AU10")
    """AUs a bilabial closure takes away, whatever the emotion: what parts the lips, and the stretch (AU20)."""
    stretch_shut_share: float = 0.6
    """Share (unitless) of the AU20 stretch a bilabial takes away: the stretch of fear only eases."""
    au_min: float = -0.2
    """Lowest composed AU activation (AU units)."""
    au_max: float = 1.3
    """Highest composed AU activation (AU units)."""
    visemes: VisemeConfig = VISEMES
    """Constants of the mouth motion (:func:`~emocast.motion.visemes.mouth_curves`)."""
    blinks: BlinkConfig = BLINKS
    """Constants of the blinks (:func:`~emocast.motion.blinks.blink_curve`)."""
    pose: PoseConfig = POSE
    """Constants of the head motion (:func:`~emocast.motion.pose.head_pose`)."""


COMPOSE = ComposeConfig()
"""The default composition constants."""


def _ease(x: np.ndarray, n: int) -> np.ndarray:
    """Expression onset at the start: ease in over ``n`` frames so the first frame is the portrait."""
    r = np.clip(np.arange(len(x)) / max(n, 1), 0, 1)
    return x * (0.5 - 0.5 * np.cos(np.pi * r))[:, None]


def compose(track: EmotionTrack, speech: SpeechAnalysis, n_frames: int, fps: float = 25.0, still: bool = False,
            pose_scale: float = 1.0, seed: int = 0, expression_gain: float = 1.0,
            config: ComposeConfig = COMPOSE) -> FaceMotion:
    """Build the face motion of a video.

    Args:
        track: per-frame emotion.
        speech: analysed audio.
        n_frames: frames.
        fps: frames per second.
        still: no head motion.
        pose_scale: head-motion gain (1 = natural).
        seed: random seed of blinks and head drift (same seed, same video).
        expression_gain: scale on the emotion's action units, not on speech, blinks or head motion
            (:meth:`emocast.rig.FaceRig.expression_gain`).
        config: tuned constants (:class:`ComposeConfig`).

    Returns:
        :class:`FaceMotion`.
    """
    c = config
    rng = np.random.default_rng(seed)
    aus = _ease(to_action_units(track) * np.float32(expression_gain), int(c.ease_in_s * fps))
    mouth, shut = mouth_curves(speech, n_frames, fps, amplitude=dynamics(track, "speech"),
                               smooth_s=dynamics(track, "smooth"), config=c.visemes)
    rate = float(np.mean(dynamics(track, "blink")))
    blink = blink_curve(n_frames, fps, rng, rate_per_min=rate, speech=speech.speech, config=c.blinks)
    head = None if still else head_pose(n_frames, fps, speech.envelope, speech.hop_s, rng,
                                        scale=pose_scale * dynamics(track, "head"), speed=dynamics(track, "tempo"),
                                        pitch_offset=pose_scale * dynamics(track, "pitch"), config=c.pose)
    aus, pose, upper, lower = compose_frame(aus, mouth, shut, blink, head, c)
    return FaceMotion(aus=aus, pose=pose, upper_teeth=upper, lower_teeth=lower, fps=fps)


def compose_frame(expression: np.ndarray, mouth: np.ndarray, shut: np.ndarray, blink: np.ndarray,
                  head: np.ndarray | None, config: ComposeConfig = COMPOSE):
    """The motion of frames from their parts, in the one order both the file and the live mode use:
    speech on the expression (:func:`add_speech`), then the blink (:func:`add_blink`), then the teeth
    rows and the clip (:func:`finish`); the head pose as given (``None``: still).

    Args:
        expression: ``float32 (T, n_AU)`` the emotion's AUs (T frames; 1 in the live mode).
        mouth: ``float32 (T, 6)`` over :data:`~emocast.motion.visemes.MOUTH_AUS`.
        shut: ``float32 (T,)`` lip closure, 0-1.
        blink: ``float32 (T,)`` lid closure, 0-1.
        head: ``float32 (T, 3)`` yaw, pitch, roll in degrees, or ``None`` for no head motion.

    Returns:
        ``(aus (T, n_AU), pose (T, 3), upper_teeth (T,), lower_teeth (T,))``, all ``float32``.
    """
    aus = add_blink(add_speech(expression, mouth, shut, config), blink)
    pose = np.zeros((len(aus), 3), np.float32) if head is None else np.asarray(head, np.float32)
    aus, upper, lower = finish(aus, config)
    return aus, pose, upper, lower


def add_speech(aus: np.ndarray, mouth: np.ndarray, shut: np.ndarray, config: ComposeConfig = COMPOSE) -> np.ndarray:
    """Speech on top of the expression: the mouth AUs add to the expression's own mouth posture, and a
    bilabial shuts the lips whatever the emotion: what parts them (jaw, lips apart, the raised upper lip
    of disgust, the lowered lower lip) goes for its frames; the stretch of fear only eases.

    Args:
        aus: ``float32 (T, n_AU)`` expression activations.
        mouth: ``float32 (T, 6)`` over :data:`~emocast.motion.visemes.MOUTH_AUS`.
        shut: ``float32 (T,)`` lip closure, 0-1.

    Returns:
        A new ``float32 (T, n_AU)`` array.
    """
    aus = aus.copy()
    cols = [AU_INDEX[a] for a in MOUTH_AUS]
    aus[:, cols] = aus[:, cols] + mouth
    for a in config.shut_aus:
        aus[:, AU_INDEX[a]] *= 1 - shut * (config.stretch_shut_share if a == "AU20" else 1.0)
    return aus


def add_blink(aus: np.ndarray, blink: np.ndarray) -> np.ndarray:
    """The lids' closure ``blink (T,)`` (0 open, 1 shut) over the expression's own AU43, in place."""
    k = AU_INDEX["AU43"]
    aus[:, k] = 1 - (1 - np.clip(aus[:, k], 0, 1)) * (1 - blink)
    return aus


def finish(aus: np.ndarray, config: ComposeConfig = COMPOSE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Teeth rows from the composed AUs, then the AUs clipped to ``[au_min, au_max]``.

    Returns:
        ``(aus float32 (T, n_AU), upper_teeth float32 (T,), lower_teeth float32 (T,))``.
    """
    upper, lower = teeth_rows(aus)
    return np.clip(aus, config.au_min, config.au_max).astype(np.float32), upper, lower
