"""The action units the face rig animates (FACS, Ekman & Friesen 1978) and their column order."""
from __future__ import annotations

AU_NAMES: tuple[str, ...] = (
    "AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU12R", "AU14R", "AU15", "AU16", "AU17",
    "AU18", "AU20", "AU23", "AU24", "AU25", "AU26", "AU43",
)
"""Action units EmoCAST animates. ``AU12R``/``AU14R``: right-side-only (unilateral) units for contempt;
``AU26`` is the jaw drop used both by expressions and by speech; ``AU43`` closes the eyes (blinks)."""
AU_INDEX = {n: i for i, n in enumerate(AU_NAMES)}
