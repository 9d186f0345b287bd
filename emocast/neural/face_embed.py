"""ArcFace identity embedding of the portrait (the face tokens' input, paper Sec. 3.2.1).

The release feeds insightface's raw (unnormalised) 512-d ArcFace embedding of the detected face.
Here the face is aligned from MediaPipe mesh landmarks instead of insightface's detector: five
points (eye centres, nose tip, mouth corners) are mapped to ArcFace's 112x112 template by a
similarity transform, and the ONNX recognition model (``glintr100.onnx`` or ``w600k_r50.onnx``)
is run with onnxruntime on RGB pixels scaled to [-1, 1].
"""
from __future__ import annotations

import cv2
import numpy as np

#: ArcFace 112x112 template: left eye, right eye, nose tip, left mouth corner, right mouth corner
#: (image-left first).
ARCFACE_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)

_EYE_A, _EYE_B, _NOSE, _MOUTH = (33, 133), (362, 263), 1, (61, 291)


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """``(5, 2)`` alignment points from a MediaPipe 468/478-point mesh (pixels), image-left first.

    Raises ``ValueError`` for other landmark counts.
    """
    from .masks import points_2d

    lm = points_2d(landmarks)
    if lm.shape[0] < 468:
        raise ValueError("five-point alignment needs a MediaPipe face mesh (468 or 478 landmarks)")
    eyes = sorted([lm[list(_EYE_A)].mean(0), lm[list(_EYE_B)].mean(0)], key=lambda p: p[0])
    mouth = sorted([lm[_MOUTH[0]], lm[_MOUTH[1]]], key=lambda p: p[0])
    return np.stack([eyes[0], eyes[1], lm[_NOSE], mouth[0], mouth[1]]).astype(np.float32)


def similarity_to_template(points: np.ndarray, size: int = 112) -> np.ndarray:
    """``float64 (2, 3)``: the least-squares similarity (rotation, uniform scale, translation; Umeyama
    1991) taking the five ``points`` onto :data:`ARCFACE_TEMPLATE` scaled to ``size``, fitted to all
    five points as insightface's ``norm_crop`` does (scikit-image's ``SimilarityTransform``); a robust
    fit (LMEDS) could leave points out and align differently from the embeddings ArcFace was trained on.

    Raises ``ValueError`` when the points are degenerate (all in one place).
    """
    from skimage.transform import SimilarityTransform

    src = np.asarray(points, np.float64).reshape(5, 2)
    tform = SimilarityTransform()
    if not tform.estimate(src, ARCFACE_TEMPLATE.astype(np.float64) * (size / 112.0)) or \
            not np.isfinite(tform.params).all():
        raise ValueError("face alignment failed")
    return tform.params[:2]


def align_face(image: np.ndarray, points: np.ndarray, size: int = 112) -> np.ndarray:
    """Warp ``uint8 (H, W, 3)`` so that ``points`` land on :data:`ARCFACE_TEMPLATE` -> ``(size, size, 3)``
    (:func:`similarity_to_template`, then ``cv2.warpAffine`` with a black border, as insightface)."""
    return cv2.warpAffine(image, similarity_to_template(points, size), (size, size), borderValue=0.0)


class ArcFaceEmbedder:
    """ONNX ArcFace: ``embed(image uint8 (H, W, 3) RGB, landmarks (478, 2)) -> float32 (512,)``.

    Args:
        model_path: ArcFace ONNX file. Raises ``InputError`` if it cannot be loaded.
    """

    def __init__(self, model_path: str):
        import onnxruntime as ort

        from emocast.errors import InputError

        try:
            self.session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise InputError(model_path, f"unreadable ArcFace ONNX model ({type(e).__name__})") from e
        self.input_name = self.session.get_inputs()[0].name

    def embed(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        face = align_face(image, five_points(landmarks))
        blob = ((face.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
        return self.session.run(None, {self.input_name: blob})[0][0].astype(np.float32)
