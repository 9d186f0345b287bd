"""Motion stage: action-unit fields, visemes, blinks, head pose, and their composition per frame."""
from .au import AU_NAMES, au_basis

__all__ = ["AU_NAMES", "au_basis", "FaceMotion", "compose"]


def __getattr__(name):  # lazy: compose imports the emotion stage, which imports .au
    if name in ("FaceMotion", "compose"):
        import importlib

        return getattr(importlib.import_module(".composer", __name__), name)
    raise AttributeError(name)
