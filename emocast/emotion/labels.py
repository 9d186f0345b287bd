"""The eight MEAD emotions and their canonical order."""
from __future__ import annotations

MEAD_EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fear", "disgusted", "surprised", "contempt")
"""MEAD's emotion classes (Wang et al., ECCV 2020); every emotion vector in EmoCAST uses this order."""

ALIASES = {
    "neutral": "neutral", "calm": "neutral", "none": "neutral",
    "happy": "happy", "happiness": "happy", "joy": "happy", "joyful": "happy",
    "sad": "sad", "sadness": "sad",
    "angry": "angry", "anger": "angry", "mad": "angry",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "disgusted": "disgusted", "disgust": "disgusted",
    "surprised": "surprised", "surprise": "surprised",
    "contempt": "contempt", "contemptuous": "contempt",
}


def canonical(label: str) -> str | None:
    """Map a label or common alias (``"anger"``, ``"Surprise"``) to its MEAD name, or ``None``."""
    return ALIASES.get(label.strip().lower())


def index(label: str) -> int:
    """Position of a MEAD label in :data:`MEAD_EMOTIONS`. Raises ``KeyError`` for unknown labels."""
    c = canonical(label)
    if c is None:
        raise KeyError(label)
    return MEAD_EMOTIONS.index(c)
