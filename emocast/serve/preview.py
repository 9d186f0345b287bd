"""The detected-face preview: the portrait with the face and landmarks that will move drawn on it."""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError
from . import limits


def face_preview(path: str | None, face_index: int | None = None, max_mb: float = 20.0,
                 max_side: int = 768) -> tuple[np.ndarray | None, str]:
    """Detect the face of a portrait and draw it.

    Args:
        path: the uploaded portrait (``None``: nothing uploaded yet).
        face_index: which face (``None``: the largest).
        max_mb: portrait size limit in MB.
        max_side: the preview is shrunk to at most this many pixels on its longer side.

    Returns:
        ``(image, message)``: the overlay as ``uint8`` RGB (``None`` when there is nothing to show)
        and a one-line status, the :class:`~emocast.errors.InputError` message when the portrait is
        unusable.
    """
    if not path:
        return None, "Upload a portrait (or take a webcam snapshot) to see the face that will move."
    name = os.path.basename(path)
    try:
        limits.check_file_size(path, max_mb, "portrait", name)
        from ..face import analyse, draw_face
        from ..media import load_image

        image = load_image(path)
        face = analyse(image, face_index=face_index, path=name)
        overlay = np.asarray(draw_face(image, face))
    except InputError as e:
        return None, str(e).replace(path, name)
    h, w = overlay.shape[:2]
    if max(h, w) > max_side:
        from PIL import Image

        s = max_side / max(h, w)
        overlay = np.asarray(Image.fromarray(overlay).resize((max(1, round(w * s)), max(1, round(h * s)))))
    return overlay, f"{name}: face found ({w}×{h} px portrait)"
