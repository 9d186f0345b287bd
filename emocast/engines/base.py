"""The engine interface and the inputs every engine reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

import numpy as np

from ..emotion.track import EmotionTrack
from ..errors import InputError
from ..face.model import FaceModel
from ..speech.analyse import SpeechAnalysis


@dataclass
class Portrait:
    """An analysed portrait, as loaded (before any resizing for output).

    Attributes:
        image: ``uint8 (H, W, 3)`` RGB.
        face: its :class:`FaceModel`, landmarks in ``image`` pixels.
        name: file name for messages (``"image"`` for an array).
    """

    image: np.ndarray
    face: FaceModel
    name: str


@dataclass
class Speech:
    """The speech of one utterance.

    Attributes:
        wav: ``float32 (n,)`` mono at 16 kHz: what the motion and the network read.
        audio: ``float32 (m,)`` mono at ``sr`` Hz: the output's sound track.
        sr: sample rate of ``audio``, Hz.
        analysis: phoneme segments, loudness envelope and voice activity of ``wav``.
    """

    wav: np.ndarray
    audio: np.ndarray
    sr: int
    analysis: SpeechAnalysis

    @property
    def duration(self) -> float:
        """Length in seconds."""
        from ..media.audio import SAMPLE_RATE

        return len(self.wav) / SAMPLE_RATE

    def n_frames(self, fps: float) -> int:
        """Video frames that cover the speech at ``fps`` (at least one)."""
        return max(1, int(round(self.duration * fps)))


class Engine(Protocol):
    """A renderer: set up on one portrait, then frames for any number of utterances.

    ``prepare`` raises :class:`InputError` for a portrait or an option the engine cannot use;
    ``frames`` yields exactly ``track.n_frames`` frames of :attr:`frame_size` (``uint8 (H, W, 3)``
    RGB) at ``track.fps``. ``notes`` holds status lines of ``prepare`` (which rasteriser runs).
    """

    name: str
    notes: list[str]

    def prepare(self, portrait: Portrait, options) -> None: ...

    def share_with(self, worker) -> None:
        """Render part of the frames in ``worker`` (:class:`emocast.engines.workers.RenderWorker`),
        called before :meth:`prepare`; an engine that renders only in this process ignores it."""

    @property
    def frame_size(self) -> tuple[int, int]: ...

    def frames(self, speech: Speech, track: EmotionTrack,
               log: Callable[[str], None] | None = None) -> Iterator[np.ndarray]: ...


def check_face_size(face: FaceModel, name: str, long_side: int) -> None:
    """Raise :class:`InputError` when the face is narrower than the face stage's floor at the output size.

    Args:
        face: landmarks in output pixels.
        name: the portrait's file name.
        long_side: the output's long side in pixels (for the message).
    """
    from ..face import MIN_FACE_PX

    width = float(face.box[2] - face.box[0])
    if width < MIN_FACE_PX:
        raise InputError(name, f"face is only {width:.0f} px wide at output size {long_side}; use a larger --size")
