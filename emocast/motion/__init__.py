"""Motion stage: action-unit fields, visemes, blinks, head pose, and their composition per frame."""
from .au import AU_NAMES, au_basis
from .compose import FaceMotion, compose

__all__ = ["AU_NAMES", "au_basis", "FaceMotion", "compose"]
