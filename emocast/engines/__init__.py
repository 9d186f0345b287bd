"""Engines: the renderers behind one interface (:class:`Engine`), so file mode, live mode and batch
drive the same steps: ``prepare(portrait, options)`` once per portrait, then
``frames(speech, emotion_track)`` for each utterance.

- ``cpu`` (:class:`CPUEngine`): face rig -> motion -> landmark mesh warp (the default, no GPU).
- ``neural`` (:class:`NeuralEngine`): the paper's diffusion network (Sec. 3.2), GPU and weights.
"""
from ..errors import InputError
from ..options import ENGINES
from .base import Engine, Portrait, Speech


def make_engine(name: str, progress: bool = False) -> Engine:
    """The engine called ``name`` (``"cpu"`` or ``"neural"``); nothing heavy is loaded yet.

    Args:
        name: one of :data:`emocast.options.ENGINES`.
        progress: let the engine show its own progress bar (the neural engine's denoising steps).

    Raises:
        InputError: an unknown name.
    """
    # Imported here, not at the top: each engine's module loads its stack (the renderer and OpenGL, or
    # torch and diffusers), and a run needs only one of them.
    if name == "cpu":
        from .cpu import CPUEngine

        return CPUEngine()
    if name == "neural":
        from .neural import NeuralEngine

        return NeuralEngine(progress=progress)
    raise InputError("--engine", f"unknown engine {name!r} (cpu or neural)")


__all__ = ["Engine", "Portrait", "Speech", "make_engine", "ENGINES"]
