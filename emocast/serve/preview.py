"""The detected-face preview: the portrait with the face and landmarks that will move drawn on it."""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError
from . import limits


def crop_around(image: np.ndarray, box, margin: float = 0.8) -> np.ndarray:
    """Crop ``image`` to the face ``box`` ``(x0, y0, x1, y1)`` grown by ``margin`` × its size per side."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = [float(v) for v in box]
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    l, t = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    r, b = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
    return image[t:b, l:r] if r > l and b > t else image


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
        overlay = crop_around(np.asarray(draw_face(image, face)), face.box)
        face_width = float(face.box[2] - face.box[0])
    except InputError as e:
        return None, str(e).replace(path, name)
    h, w = image.shape[:2]
    oh, ow = overlay.shape[:2]
    if max(oh, ow) > max_side:
        from PIL import Image

        s = max_side / max(oh, ow)
        overlay = np.asarray(Image.fromarray(overlay).resize((max(1, round(ow * s)), max(1, round(oh * s)))))
    n = getattr(face, "n_faces", None)
    which = f"face {(face_index or 0) + 1} of {n}" if n and n > 1 else "face found"
    return overlay, f"{name}: {which}, {face_width:.0f} px wide in a {w}×{h} px portrait; {smallest_size(face, (h, w))}"


def smallest_size(face, image_hw: tuple[int, int]) -> str:
    """A hint naming the smallest output size (long side) at which the face is still big enough."""
    from ..face import MIN_FACE_PX

    x0, _, x1, _ = [float(v) for v in face.box]
    need = MIN_FACE_PX * max(image_hw) / max(1.0, x1 - x0)
    return f"use an output size of at least {int(np.ceil(need))} px (the face must stay {MIN_FACE_PX} px wide)"
