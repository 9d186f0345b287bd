"""Identity judge: dlib 128-d face-descriptor distance between the portrait and the video's frames.

Source: dlib's ResNet face-recognition model (``dlib_face_recognition_resnet_model_v1``, 99.38% on
LFW); Euclidean distance below 0.6 means the same person by dlib's own calibration.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from . import dlib_face

JUDGE_NAME = "dlib ResNet 128-d face descriptor (face_recognition_models)"
SAME_PERSON_BELOW = 0.6
"""dlib's threshold: descriptor distance below this = same person."""


def portrait_descriptor(image: np.ndarray, name: str = "portrait") -> np.ndarray:
    """Descriptor ``float32 (128,)`` of the best face in a ``uint8 (H, W, 3)`` RGB image.

    Raises:
        InputError: dlib finds no face in the image.
    """
    m = dlib_face.get()
    face = m.detect(image)
    if face is None:
        raise InputError(name, "the identity judge (dlib) finds no face in the portrait")
    return m.descriptor(image, face.box)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two descriptors (dimensionless; < 0.6 = same person)."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def sample_indices(n_frames: int, n_samples: int) -> np.ndarray:
    """``n_samples`` frame indices spread evenly over ``n_frames`` (all frames when fewer)."""
    if n_frames <= n_samples:
        return np.arange(n_frames)
    return np.unique(np.round(np.linspace(0, n_frames - 1, n_samples)).astype(int))


def judge_identity(portrait: np.ndarray, frames: np.ndarray, track: dlib_face.FaceTrack | None = None,
                   n_samples: int = 16, portrait_name: str = "portrait") -> dict:
    """Distance between the portrait's face and the face in sampled frames.

    Args:
        portrait: ``uint8 (H, W, 3)`` RGB.
        frames: ``uint8 (T, H', W', 3)`` RGB video frames.
        track: dlib boxes of the frames (from :func:`dlib_face.track`); detected here when ``None``.
        n_samples: number of evenly spaced frames to compare (dlib's descriptor costs ~55 ms).

    Returns:
        dict with ``mean_distance``, ``max_distance`` (floats, NaN when no sampled frame has a face),
        ``same_person`` (mean < 0.6), ``frames_sampled``, ``frames_with_face``, ``distances``
        (per sampled frame, ``None`` where no face), ``frame_indices``, ``threshold``, ``judge``.

    Raises:
        InputError: no face in the portrait.
    """
    m = dlib_face.get()
    ref = portrait_descriptor(portrait, portrait_name)
    idx = sample_indices(len(frames), n_samples)
    dists: list[float | None] = []
    for i in idx:
        if track is not None:
            box = track.boxes[i]
            box = None if not np.isfinite(box).all() else tuple(float(v) for v in box)
        else:
            f = m.detect(frames[i])
            box = None if f is None else f.box
        dists.append(None if box is None else distance(ref, m.descriptor(frames[i], box)))
    valid = np.array([d for d in dists if d is not None], dtype=np.float64)
    mean = float(valid.mean()) if valid.size else float("nan")
    return {
        "judge": JUDGE_NAME,
        "mean_distance": mean,
        "max_distance": float(valid.max()) if valid.size else float("nan"),
        "same_person": bool(valid.size and mean < SAME_PERSON_BELOW),
        "threshold": SAME_PERSON_BELOW,
        "frames_sampled": int(len(idx)),
        "frames_with_face": int(valid.size),
        "frame_indices": [int(i) for i in idx],
        "distances": dists,
    }
