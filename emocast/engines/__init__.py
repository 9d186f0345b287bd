"""Engines: the renderers behind one interface (:class:`Engine`), so file mode, live mode and batch
drive the same steps: ``prepare(portrait, options)`` once per portrait, then
``frames(speech, emotion_track)`` for each utterance.

- ``cpu`` (:class:`CPUEngine`): face rig -> motion -> landmark mesh warp (the default, no GPU).
- ``neural`` (:class:`NeuralEngine`): the paper's diffusion network (Sec. 3.2), GPU and weights.
"""
from ..options import ENGINES
from .base import Engine, Portrait, Speech, make_engine

__all__ = ["Engine", "Portrait", "Speech", "make_engine", "ENGINES"]
