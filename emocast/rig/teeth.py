"""Teeth visibility and lighting from action units: how much of each tooth row the lips uncover."""
from __future__ import annotations

import numpy as np

from .units import AU_INDEX

def teeth_rows(aus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Visibility of the upper and lower teeth rows from action units.

    The upper row shows whenever the lips part (it hangs from the upper lip; the value scales how much
    of it shows, more when the lip is raised or the corners pulled, less when the lips are rounded);
    the lower row shows on a stretched or depressed lower lip (AU20 fear, AU16, AU10 bared teeth) or a
    wide jaw drop.

    Args:
        aus: ``(..., n_AU)`` activations in :data:`AU_NAMES` order.

    Returns:
        ``(upper, lower)``, each ``float32 (...)`` in 0..1.
    """
    a = lambda n: aus[..., AU_INDEX[n]]  # noqa: E731
    # Rounded, protruded lips (AU18: the "oh" of surprise, the rounded vowels OW, UW, W) cover both rows
    # but for the incisal edges of the front teeth.
    pucker = 0.5 * a("AU18")
    lower = np.clip(0.9 * a("AU20") + a("AU16") + 0.8 * np.maximum(a("AU26") - 0.55, 0) + 0.3 * a("AU10") - pucker,
                    0, 1)
    # A relaxed upper lip covers most of the upper teeth; smiling (AU12) or raising it (AU10)
    # bares them; a dropped jaw (surprise) leaves them high in a dark mouth.
    # Corners pulled down (AU15) or a raised chin (AU17) bring the lower lip up and cover more of them.
    upper = np.clip(0.8 + 0.3 * a("AU12") + 0.5 * a("AU10") - 0.35 * np.maximum(a("AU26") - 0.3, 0)
                    - 0.3 * a("AU15") - 0.3 * a("AU17") - pucker, 0.2, 1)
    return upper.astype(np.float32), lower.astype(np.float32)


SHADED_TEETH = 0.65
"""Light on teeth behind relaxed lips, relative to teeth bared by lips drawn back (:func:`teeth_light`)."""


def teeth_light(aus: np.ndarray) -> np.ndarray:
    """How much light reaches the teeth, from action units.

    Relaxed lips (speech, a dropped jaw) overhang the teeth and shade them; lips drawn back from the
    teeth, by the corners (AU12 smile), the upper lip (AU10) or a stretch (AU20, also the spread vowels
    IY, EY, S), bare them to the light falling on the face; teeth as bright as bared ones in a speaking
    mouth read as a grin.

    Args:
        aus: ``(..., n_AU)`` activations in :data:`AU_NAMES` order.

    Returns:
        ``float32 (...)`` in [:data:`SHADED_TEETH`, 1]: a factor on the lit tooth colour
        (:class:`emocast.render.mouth.MouthStyle`).
    """
    a = lambda n: aus[..., AU_INDEX[n]]  # noqa: E731
    drawn_back = np.clip(a("AU12") + a("AU10") + a("AU20"), 0, 1)
    return (SHADED_TEETH + (1 - SHADED_TEETH) * drawn_back).astype(np.float32)
