"""Render stage: the CPU renderer (mesh warp + texture layers); the neural engine is the second renderer."""
from .cpu import CPURenderer

__all__ = ["CPURenderer"]
