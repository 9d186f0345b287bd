"""Motion stage: visemes, blinks, head pose and their composition with the emotion's action units
into per-frame :class:`FaceMotion`."""
from .composer import FaceMotion, compose

__all__ = ["FaceMotion", "compose"]
