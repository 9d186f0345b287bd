"""Face stage: find the face, its 478 landmarks, its face frame and current expression."""
from __future__ import annotations

import cv2
import numpy as np

from .detect import MIN_FACE_PX, detect_faces, find_face
from .model import FaceModel, estimate_expression

__all__ = ["FaceModel", "analyse", "draw_face", "detect_faces", "MIN_FACE_PX"]


def analyse(image: np.ndarray, face_index: int | None = None, path: str | None = None) -> FaceModel:
    """Analyse the portrait's face.

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait.
        face_index: which face when there are several (0 = largest, the default).
        path: file name for error messages.

    Returns:
        :class:`FaceModel` with landmarks in ``image`` pixels and the estimated current expression.

    Raises:
        InputError: no face found, face smaller than 64 px, or ``face_index`` out of range.
    """
    lm, box, n = find_face(image, face_index=face_index, path=path)
    fm = FaceModel(landmarks=lm, box=box, image_size=image.shape[:2], n_faces=n, index=face_index or 0)
    fm.expression = estimate_expression(fm.normalised())
    return fm


def draw_face(image: np.ndarray, face: FaceModel) -> np.ndarray:
    """Overlay of the detected face: its box, landmarks and lip/eye contours, ``uint8 (H, W, 3)``."""
    from . import topology as T

    out = image.copy()
    s = max(1, round(max(image.shape[:2]) / 512))
    x0, y0, x1, y1 = face.box.astype(int)
    cv2.rectangle(out, (x0, y0), (x1, y1), (0, 255, 0), s)
    for x, y in face.points[:468].astype(int):
        cv2.circle(out, (int(x), int(y)), s, (80, 200, 255), -1)
    for idx in (T.LIPS_OUTER_UPPER, T.LIPS_OUTER_LOWER, T.RIGHT_EYE_UPPER, T.LEFT_EYE_UPPER):
        cv2.polylines(out, [face.points[idx].astype(np.int32)], False, (255, 60, 60), s)
    return out
