"""Face detection and 478-point landmarks with MediaPipe (0.10.14 legacy solutions, models bundled).

Method: the full-range BlazeFace detector finds every face at any scale (small faces in big frames
too); each face is cropped with a margin, resized to 512 px and given to Face Mesh with refined
irises (Kartynnik et al., 2019; Grishchenko et al., 2020) for 478 landmarks, mapped back to image pixels.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError

MIN_FACE_PX = 64
"""Smallest face (box width in the input image, pixels) that EmoCAST animates."""

_lock = threading.Lock()
warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype\(\) is deprecated")


@contextlib.contextmanager
def _quiet_stderr():
    """Silence MediaPipe's C++ (absl/glog, TF Lite) log lines, which ignore Python's logging."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


@dataclass
class Detection:
    """One face found by the detector: ``box`` = ``(x0, y0, x1, y1)`` pixels, ``score`` in [0, 1]."""

    box: np.ndarray
    score: float

    @property
    def area(self) -> float:
        return float((self.box[2] - self.box[0]) * (self.box[3] - self.box[1]))


DRAWING_MODULES = ("drawing_utils", "drawing_styles")
"""MediaPipe's drawing helpers (``mediapipe.solutions.<name>``), which ``import mediapipe`` loads and which
import matplotlib (0.3-0.5 s on 2 cores, a quarter of the start-up); this package never draws with them."""


def import_mediapipe():
    """``import mediapipe``, without loading its drawing helpers (:data:`DRAWING_MODULES`) until they are
    used: empty modules stand in for them while mediapipe's ``__init__`` runs, and the package's
    ``__getattr__`` (PEP 562) imports the real ones on first access, so ``mp.solutions.drawing_utils``
    still works for other code in the process.
    """
    import importlib
    import types

    if "mediapipe" in sys.modules:
        return sys.modules["mediapipe"]
    names = [f"mediapipe.python.solutions.{n}" for n in DRAWING_MODULES]
    stand_ins = {n: types.ModuleType(n) for n in names if n not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        import mediapipe as mp
    finally:
        for n, m in stand_ins.items():
            if sys.modules.get(n) is m:
                del sys.modules[n]
    solutions = sys.modules.get("mediapipe.python.solutions")
    if solutions is not None and "__getattr__" not in vars(solutions):
        def __getattr__(name):
            if name in DRAWING_MODULES:
                return importlib.import_module(f"{solutions.__name__}.{name}")
            raise AttributeError(f"module {solutions.__name__!r} has no attribute {name!r}")

        solutions.__getattr__ = __getattr__
    return mp


@functools.lru_cache(maxsize=None)
def _detector(model_selection: int):
    os.environ.setdefault("GLOG_minloglevel", "3")
    mp = import_mediapipe()

    return mp.solutions.face_detection.FaceDetection(model_selection=model_selection, min_detection_confidence=0.5)


@functools.lru_cache(maxsize=1)
def _mesh():
    mp = import_mediapipe()

    return mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1,
                                           min_detection_confidence=0.3)


def detect_faces(image: np.ndarray) -> list[Detection]:
    """All faces in ``image`` (``uint8 (H, W, 3)`` RGB), largest first.

    Runs the full-range detector on a copy whose long side is at most 1280 px, then the short-range
    one when nothing was found. Boxes are in ``image`` pixels.
    """
    h, w = image.shape[:2]
    scale = min(1.0, 1280.0 / max(h, w))
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    dets: list[Detection] = []
    for sel in (1, 0):
        with _lock, _quiet_stderr():
            res = _detector(sel).process(np.ascontiguousarray(small))
        for d in res.detections or []:
            bb = d.location_data.relative_bounding_box
            box = np.array([bb.xmin * w, bb.ymin * h, (bb.xmin + bb.width) * w, (bb.ymin + bb.height) * h], np.float32)
            dets.append(Detection(box=box, score=float(d.score[0])))
        if dets:
            break
    dets = _nms(dets)
    return sorted(dets, key=lambda d: -d.area)


def _nms(dets: list[Detection], iou_max: float = 0.4) -> list[Detection]:
    keep: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        if all(_iou(d.box, k.box) < iou_max and not (k.box[0] < cx < k.box[2] and k.box[1] < cy < k.box[3]) for k in keep):
            keep.append(d)
    return keep


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / max(union, 1e-6))


def mesh_landmarks(image: np.ndarray, box: np.ndarray, crop_px: int = 512) -> np.ndarray | None:
    """478 Face Mesh landmarks of the face in ``box``.

    Args:
        image: ``uint8 (H, W, 3)`` RGB.
        box: ``(x0, y0, x1, y1)`` face box in pixels.
        crop_px: side of the square crop given to Face Mesh.

    Returns:
        ``float32 (478, 3)``: x, y in ``image`` pixels and z (depth, same pixel scale, negative
        towards the camera), or ``None`` when Face Mesh finds no face in the crop.
    """
    h, w = image.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = 2.0 * max(box[2] - box[0], box[3] - box[1])
    x0, y0 = cx - side / 2, cy - side / 2
    s = crop_px / side
    M = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], np.float32)
    crop = cv2.warpAffine(image, M, (crop_px, crop_px), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    with _lock, _quiet_stderr():
        res = _mesh().process(crop)
    if not res.multi_face_landmarks:
        return None
    pts = np.array([(p.x, p.y, p.z) for p in res.multi_face_landmarks[0].landmark], np.float32) * crop_px
    pts[:, 0] = pts[:, 0] / s + x0
    pts[:, 1] = pts[:, 1] / s + y0
    pts[:, 2] = pts[:, 2] / s
    return pts


def find_face(image: np.ndarray, face_index: int | None = None, path: str | None = None,
              min_face_px: float = MIN_FACE_PX) -> tuple[np.ndarray, np.ndarray, int]:
    """Landmarks of one face of the portrait.

    Args:
        image: ``uint8 (H, W, 3)`` RGB.
        face_index: which face (0 = largest); default the largest.
        path: file name used in error messages.
        min_face_px: smallest accepted face width, pixels of ``image``.

    Returns:
        ``(landmarks float32 (478, 3), box float32 (4,), n_faces)``.

    Raises:
        InputError: no face, face smaller than ``min_face_px``, or ``face_index`` out of range.
    """
    name = path or "image"
    dets = detect_faces(image)
    if not dets:
        # The detector misses some tightly cropped faces that Face Mesh still finds on the whole frame.
        h, w = image.shape[:2]
        lm = mesh_landmarks(image, np.array([w * 0.25, h * 0.25, w * 0.75, h * 0.75], np.float32))
        if lm is None:
            raise InputError(name, "no face found")
        box = np.array([*lm[:, :2].min(0), *lm[:, :2].max(0)], np.float32)
        dets = [Detection(box, 0.5)]
    if face_index is not None and not 0 <= face_index < len(dets):
        raise InputError(name, f"--face-index {face_index} out of range: {len(dets)} face(s) found")
    det = dets[face_index or 0]
    lm = mesh_landmarks(image, det.box)
    if lm is None:
        raise InputError(name, "no face found (a face was detected but its landmarks could not be located)")
    width = float(lm[:, 0].max() - lm[:, 0].min())
    if width < min_face_px:
        raise InputError(name, f"face too small ({width:.0f} px wide, at least {min_face_px:.0f} px needed)")
    box = np.array([*lm[:, :2].min(0), *lm[:, :2].max(0)], np.float32)
    return lm, box, len(dets)
