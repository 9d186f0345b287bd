"""The neural engine: the paper's diffusion network (Sec. 3.2) behind :class:`emocast.engines.Engine`."""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from ..emotion.track import EmotionTrack
from ..errors import InputError
from .base import Portrait, Speech, check_face_size

DEFAULT_SIZE = 512
"""Side of the network's square frames when ``size`` is not given, pixels (the release's)."""


class NeuralEngine:
    """The EmoCAST network (:mod:`emocast.neural`): honours ``size`` (a square side, a multiple of 64),
    ``fps`` and ``seed`` (the noise seed); reads the weights folder given by ``weights``.

    Args:
        progress: show a progress bar over the denoising steps.
    """

    name = "neural"

    def __init__(self, progress: bool = False):
        self.progress = progress
        self.options = None
        self.portrait: Portrait | None = None
        self.notes: list[str] = []

    def share_with(self, worker) -> None:
        """Ignored: the network renders in this process (``emocast.api.start_worker`` starts no worker
        for this engine)."""

    def prepare(self, portrait: Portrait, options) -> None:
        """Check the weights folder and the face at the network's size.

        Raises:
            InputError: missing weights (one line listing the parts), a size that is not a multiple
                of 64, or a face narrower than the face stage's floor at that size.
        """
        from ..neural import check_weights

        size = options.size or DEFAULT_SIZE
        if size % 64:
            raise InputError("--size", f"the neural engine needs a multiple of 64, got {size}")
        check_weights(options.weights)
        face = portrait.face
        scale = size / max(portrait.image.shape[:2])
        check_face_size(type(face)(landmarks=face.landmarks * scale, box=face.box * scale,
                                   image_size=(size, size)), portrait.name, size)
        self.options, self.portrait = options, portrait

    @property
    def frame_size(self) -> tuple[int, int]:
        """``(size, size)`` pixels."""
        s = self.options.size or DEFAULT_SIZE
        return s, s

    def frames(self, speech: Speech, track: EmotionTrack,
               log: Callable[[str], None] | None = None) -> Iterator[np.ndarray]:
        """``uint8 (size, size, 3)`` RGB frames at ``track.fps`` (the emotion text is re-read per clip)."""
        from ..neural import generate_frames

        o, p = self.options, self.portrait
        frames = generate_frames(p.image, speech.wav, track, o.weights, progress=self.progress,
                                 landmarks=p.face.landmarks[:, :2], size=self.frame_size[0], seed=o.seed,
                                 fps=float(o.fps))
        for i, f in enumerate(frames):
            if i >= track.n_frames:
                break
            yield np.asarray(f)
