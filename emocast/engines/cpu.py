"""The CPU engine: face rig -> per-frame motion -> landmark-driven mesh warp of the portrait."""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from ..emotion.aus import to_action_units
from ..emotion.track import EmotionTrack
from ..motion.composer import FaceMotion, compose
from ..render import CPURenderer
from ..rig import FaceRig
from .base import Portrait, Speech
from .fit import fitted_rig
from .workers import RenderWorker


class CPUEngine:
    """The default engine (:class:`emocast.engines.Engine`): no GPU, no downloads.

    ``prepare`` fits the portrait to the output size, builds its :class:`~emocast.rig.FaceRig` and the
    :class:`~emocast.render.CPURenderer` (or takes a copy of the one a render worker built, see
    :meth:`share_with`); ``frames`` decides the expression gain on the rig
    (the displacement budget), composes the motion (:func:`emocast.motion.compose`) and renders it.
    """

    name = "cpu"

    def __init__(self):
        self.options = None
        self.rig: FaceRig | None = None
        self.renderer: CPURenderer | None = None
        self.worker: RenderWorker | None = None
        self.image: np.ndarray | None = None
        self.notes: list[str] = []

    def prepare(self, portrait: Portrait, options) -> None:
        """Set up on ``portrait`` with ``options`` (size, fps, seed, still, pose_scale are read).

        Raises:
            InputError: the face is narrower than the face stage's floor at the output size.
        """
        image, self.rig = fitted_rig(portrait, options)
        self.options = options
        self.image = image
        if self.worker is not None and self.worker.loaded:
            self.renderer = self.worker.renderer()  # built there from the same portrait and options
        else:
            self.renderer = CPURenderer(image, self.rig)
            if self.worker is not None:
                self.worker.build(image, self.rig, self.renderer.warper.rasteriser)
        from ..render.gl import backend

        self.notes = [f"warp rasterised on {'the CPU' if self.renderer.warper.rasteriser == 'cpu' else 'OpenGL'}: "
                      f"{backend()[1]}"]

    def share_with(self, worker: RenderWorker) -> None:
        """Render every other chunk of frames in ``worker`` (:mod:`emocast.engines.workers`); the frames
        are the same.

        When the worker holds the portrait (:meth:`~emocast.engines.workers.RenderWorker.load_portrait`,
        with the portrait and options :meth:`prepare` is given), call this first: :meth:`prepare` then
        takes a copy of the renderer the worker built rather than build its own. Otherwise the worker is
        sent this engine's image and rig, by :meth:`prepare` or now if that has run.
        """
        self.worker = worker
        if self.rig is not None and not worker.loaded:
            worker.build(self.image, self.rig, self.renderer.warper.rasteriser)

    @property
    def frame_size(self) -> tuple[int, int]:
        """``(height, width)`` of the frames, pixels."""
        return tuple(self.rig.face.image_size)

    def motion(self, speech: Speech, track: EmotionTrack, log: Callable[[str], None] | None = None) -> FaceMotion:
        """Per-frame motion of one utterance: the expression gain from the rig, then :func:`compose`."""
        o = self.options
        gain = self.rig.expression_gain(to_action_units(track))
        if gain < 1.0 and log is not None:
            log(f"expression at {gain:.2f} of its strength: the portrait's own expression was undone first, "
                "and the full emotion on top would move the face too far from the person in it")
        return compose(track, speech.analysis, track.n_frames, fps=o.fps, still=o.still, pose_scale=o.pose_scale,
                       seed=o.seed, expression_gain=gain)

    def frames(self, speech: Speech, track: EmotionTrack,
               log: Callable[[str], None] | None = None) -> Iterator[np.ndarray]:
        """``uint8 (H, W, 3)`` RGB frames of one utterance, ``track.n_frames`` of them."""
        m = self.motion(speech, track, log)

        def render(i: int) -> np.ndarray:
            return self.renderer.render(m.aus[i], m.pose[i], m.upper_teeth[i], m.lower_teeth[i])

        if self.worker is None:
            for i in range(m.n_frames):
                yield render(i)
        else:
            yield from self.worker.frames(m.n_frames, (m.aus, m.pose, m.upper_teeth, m.lower_teeth), render,
                                          self.frame_size)
