"""dlib face models for the judges: HOG detector, 68-point landmarks, 128-d face descriptor.

Source: King, *Dlib-ml: A Machine Learning Toolkit* (JMLR 2009); models from the
``face_recognition_models`` package (iBUG 300-W 68-point shape predictor, 5-point predictor and the
ResNet face-recognition model, 99.38% on LFW, distance < 0.6 = same person). Model paths are built
from ``importlib.util.find_spec`` because the package's own import needs ``pkg_resources``.

These models did not drive the CPU engine's warp (that uses mediapipe's mesh): they are independent
judges and are never imported by generation code.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

from ..assets import package_dir

DETECT_MAX_SIDE = 640
"""Frames are shrunk to at most this many pixels per side for the HOG detector (boxes are scaled back)."""

# 68-point indices (iBUG 300-W)
JAW = slice(0, 17)
RIGID = np.r_[17:27, 27:36, 36:48]  # brows, nose, eyes: move with the head, not with speech
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))  # upper / lower inner-lip points
LEFT_EYE_OUTER, RIGHT_EYE_OUTER = 36, 45


def models_dir() -> str:
    """Folder of the ``face_recognition_models`` model files.

    Raises:
        RuntimeError: the package is not installed.
    """
    return os.path.join(package_dir("face_recognition_models",
                                    "the 'face_recognition_models' package is not installed (dlib face models)"),
                        "models")


@dataclass
class Face:
    """One detected face.

    Attributes:
        box: ``(left, top, right, bottom)`` in pixels of the full image (float).
        score: HOG detector score (higher = more confident).
    """

    box: tuple[float, float, float, float]
    score: float


class DlibFace:
    """Lazily loaded dlib models (shared per process through :func:`get`)."""

    def __init__(self):
        import dlib

        d = models_dir()
        self.detector = dlib.get_frontal_face_detector()
        self.sp68 = dlib.shape_predictor(os.path.join(d, "shape_predictor_68_face_landmarks.dat"))
        self._sp5 = None
        self._rec = None
        self._d = d

    @property
    def sp5(self):
        import dlib

        if self._sp5 is None:
            self._sp5 = dlib.shape_predictor(os.path.join(self._d, "shape_predictor_5_face_landmarks.dat"))
        return self._sp5

    @property
    def rec(self):
        import dlib

        if self._rec is None:
            self._rec = dlib.face_recognition_model_v1(os.path.join(self._d, "dlib_face_recognition_resnet_model_v1.dat"))
        return self._rec

    def detect(self, rgb: np.ndarray) -> Face | None:
        """The best-scoring face in a ``uint8 (H, W, 3)`` RGB image, or ``None``.

        The HOG detector can return a weak second face; the highest score wins. The image is shrunk to
        :data:`DETECT_MAX_SIDE`; when nothing is found it is searched again upsampled once.
        """
        import cv2

        h, w = rgb.shape[:2]
        s = min(1.0, DETECT_MAX_SIDE / max(h, w))
        img = rgb if s == 1.0 else cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        img = np.ascontiguousarray(img)
        for up in (0, 1):
            rects, scores, _ = self.detector.run(img, up, 0.0)
            if len(rects):
                i = int(np.argmax(scores))
                r = rects[i]
                return Face((r.left() / s, r.top() / s, r.right() / s, r.bottom() / s), float(scores[i]))
        return None

    @staticmethod
    def _rect(box):
        import dlib

        l, t, r, b = box
        return dlib.rectangle(int(round(l)), int(round(t)), int(round(r)), int(round(b)))

    def landmarks(self, rgb: np.ndarray, box) -> np.ndarray:
        """68 iBUG landmarks ``float32 (68, 2)`` (x, y pixels) inside ``box`` ``(l, t, r, b)``."""
        shp = self.sp68(np.ascontiguousarray(rgb), self._rect(box))
        return np.array([(p.x, p.y) for p in shp.parts()], dtype=np.float32)

    def descriptor(self, rgb: np.ndarray, box) -> np.ndarray:
        """dlib's 128-d face descriptor ``float32 (128,)`` (5-point alignment, no jitter, as
        ``face_recognition.face_encodings`` does by default)."""
        img = np.ascontiguousarray(rgb)
        shp = self.sp5(img, self._rect(box))
        return np.asarray(self.rec.compute_face_descriptor(img, shp), dtype=np.float32)


@functools.cache
def get() -> DlibFace:
    """The process-wide :class:`DlibFace`."""
    return DlibFace()


@dataclass
class FaceTrack:
    """dlib faces over a video.

    Attributes:
        boxes: ``float32 (T, 4)`` ``(l, t, r, b)`` pixels, NaN where no face was found.
        scores: ``float32 (T,)`` detector scores, NaN where no face.
        landmarks: ``float32 (T, 68, 2)`` pixels, NaN where no face.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    @property
    def found(self) -> np.ndarray:
        """``bool (T,)``: a face was found in the frame."""
        return np.isfinite(self.scores)

    def interocular(self) -> np.ndarray:
        """Outer-eye-corner distance per frame, ``float32 (T,)`` pixels (NaN without a face)."""
        d = self.landmarks[:, RIGHT_EYE_OUTER] - self.landmarks[:, LEFT_EYE_OUTER]
        return np.hypot(d[:, 0], d[:, 1]).astype(np.float32)


def track(frames: np.ndarray, progress=None) -> FaceTrack:
    """Detect the best face and its 68 landmarks in every frame.

    Args:
        frames: ``uint8 (T, H, W, 3)`` RGB.
        progress: optional callable ``progress(i)`` after each frame.

    Returns:
        :class:`FaceTrack`.
    """
    m = get()
    t = len(frames)
    boxes = np.full((t, 4), np.nan, np.float32)
    scores = np.full(t, np.nan, np.float32)
    lms = np.full((t, 68, 2), np.nan, np.float32)
    for i, f in enumerate(frames):
        face = m.detect(f)
        if face is not None:
            boxes[i] = face.box
            scores[i] = face.score
            lms[i] = m.landmarks(f, face.box)
        if progress:
            progress(i)
    return FaceTrack(boxes, scores, lms)
