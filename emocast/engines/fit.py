"""Fitting a portrait to the output size, and the CPU engine's rig and renderer built on it: the set-up
that :class:`~emocast.engines.cpu.CPUEngine` and its render worker (:mod:`emocast.engines.workers`)
both do, so that neither imports the other."""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from ..face.model import FaceModel
from ..rig import FaceRig
from .base import Portrait, check_face_size

DEFAULT_MAX_SIZE = 1024
"""Long side of the output in pixels when ``size`` is not given and the portrait is larger."""


def output_size(h: int, w: int, size: int | None) -> tuple[int, int]:
    """Output ``(height, width)``: the portrait's framing with the long side ``size`` (default: the
    portrait's own, capped at :data:`DEFAULT_MAX_SIZE`), both even (H.264 yuv420p)."""
    long_side = size if size else min(max(h, w), DEFAULT_MAX_SIZE)
    s = long_side / max(h, w)
    return max(2, int(round(h * s / 2)) * 2), max(2, int(round(w * s / 2)) * 2)


def fit_portrait(img: np.ndarray, face: FaceModel, size: int | None) -> tuple[np.ndarray, FaceModel]:
    """Resize a portrait to :func:`output_size` and scale its analysed face to match.

    Args:
        img: ``uint8 (H, W, 3)`` RGB portrait as analysed.
        face: its :class:`FaceModel` (updated in place: landmarks, box, image size).
        size: long side of the output in pixels, or ``None`` for the default.

    Returns:
        ``(frame_img, face)``: the resized portrait and the same face.
    """
    H, W = output_size(*img.shape[:2], size)
    scale = W / img.shape[1]
    frame_img = cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    face.landmarks = face.landmarks * np.float32(scale)
    face.box = face.box * np.float32(scale)
    face.image_size = (H, W)
    return frame_img, face


def fitted_rig(portrait: Portrait, options) -> tuple[np.ndarray, FaceRig]:
    """The portrait fitted to ``options.size`` (:func:`fit_portrait`, on a copy of its face) and the
    :class:`~emocast.rig.FaceRig` of that face.

    Returns:
        ``(image, rig)``: ``uint8 (H, W, 3)`` RGB at output size, and its rig.

    Raises:
        InputError: the face is narrower than the face stage's floor at the output size.
    """
    face = dataclasses.replace(portrait.face)
    image, face = fit_portrait(portrait.image, face, options.size)
    check_face_size(face, portrait.name, max(face.image_size))
    return image, FaceRig(face)

