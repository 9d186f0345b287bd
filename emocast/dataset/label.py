"""Step 8 of a clip: its emotion label and intensity (ETTH labels, paper Sec. 3.3).

MEAD clips carry theirs in the name (``M003_angry_level_2_001`` or MEAD's folders
``M003/video/front/angry/level_2/001.mp4``); every other clip is labelled by a pluggable labeller over
its frames: the bundled FER2013 judge by default (pooled over closed-lip frames, since it reads an open
speaking mouth as happy or surprise), or a user's ONNX model with a class map (the paper's Emotion-FAN).
"""
from __future__ import annotations

import functools
import os
import re

import cv2
import numpy as np

from ..emotion.labels import MEAD_EMOTIONS, canonical
from ..evaluate.emotion import NEUTRAL_MAX_APERTURE, frame_probs
from ..evaluate.fer import FER_CLASSES, JUDGE_NAME
from ..face import topology as T
from ..media.video import iter_frames
from .clip import LANDMARKS, VIDEO
from .config import DatasetConfig
from .track import mesh_aperture

EMOTION = "emotion.npz"
MIN_CLOSED_FRAMES = 5
"""Fewest labelled closed-lip frames to pool over; with fewer, every labelled frame is pooled."""
MEAD_LEVELS = 3
_EMO = "|".join(MEAD_EMOTIONS)
_MEAD_NAME = re.compile(rf"(?P<id>[MW]\d{{3}})_(?P<emo>{_EMO})_level_(?P<lvl>[1-3])_(?P<n>\d{{3}})", re.I)
_MEAD_DIRS = re.compile(rf"(?P<id>[MW]\d{{3}})/video/[^/]+/(?P<emo>{_EMO})/level_(?P<lvl>[1-3])/(?P<n>\d{{3}})\.\w+$", re.I)
_HDTF_NAME = re.compile(r"(?P<id>(?:WDA|WRA|RD)_[A-Za-z0-9]+)_\d{3}(?:\D|$)")


def names(source: str) -> dict:
    """What a source's path says: ``{"identity", "emotion", "level"}`` for MEAD names and folders,
    ``{"identity"}`` for HDTF names (``WDA_KatieHill_000``), else ``{}``."""
    p = source.replace(os.sep, "/")
    m = _MEAD_DIRS.search(p) or _MEAD_NAME.search(os.path.basename(p))
    if m:
        return {"identity": m["id"].upper(), "emotion": m["emo"].lower(), "level": int(m["lvl"]),
                "corpus": "MEAD"}
    m = _HDTF_NAME.search(os.path.basename(p))
    if m:
        return {"identity": m["id"], "corpus": "HDTF"}
    return {}


def level_of(intensity: float) -> int:
    """Intensity in [0, 1] -> level 1-3 (MEAD's levels: weak, medium, strong)."""
    return 1 if intensity < 0.45 else 2 if intensity < 0.75 else 3


@functools.cache
def _onnx(path: str):
    import onnxruntime as ort

    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def onnx_probs(frames: list[np.ndarray], lms: np.ndarray, path: str, classes: list[str]) -> np.ndarray:
    """Per-frame probabilities from a user's ONNX classifier, mapped to FER2013 order
    (:data:`emocast.evaluate.fer.FER_CLASSES`, with contempt added last).

    The model takes ``float32 (N, C, H, W)`` face crops in [0, 1] (C = 3: RGB, C = 1: grey) at its declared
    ``H, W``, cut square around the Face Mesh face oval; its output ``(N, len(classes))`` is read as
    logits (softmaxed) unless its rows already sum to 1.
    """
    sess = _onnx(path)
    inp = sess.get_inputs()[0]
    _, c, h, w = inp.shape
    crops = []
    for f, pts in zip(frames, lms):
        oval = pts[T.FACE_OVAL]
        (x0, y0), (x1, y1) = oval.min(0), oval.max(0)
        s = max(x1 - x0, y1 - y0) / 2 * 1.1
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        M = np.array([[w / (2 * s), 0, -(cx - s) * w / (2 * s)], [0, h / (2 * s), -(cy - s) * h / (2 * s)]], np.float32)
        crop = cv2.warpAffine(f, M, (int(w), int(h)), borderMode=cv2.BORDER_REPLICATE)
        crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)[..., None] if c == 1 else crop
        crops.append(crop.transpose(2, 0, 1).astype(np.float32) / 255.0)
    out = np.asarray(sess.run(None, {inp.name: np.stack(crops)})[0], np.float64)
    if not np.allclose(out.sum(1), 1.0, atol=1e-3) or (out < 0).any():
        out = np.exp(out - out.max(1, keepdims=True))
        out /= out.sum(1, keepdims=True)
    order = [canonical(c) for c in FER_CLASSES] + ["contempt"]
    mapped = np.zeros((len(out), len(order)), np.float32)
    for j, name in enumerate(classes):
        mapped[:, order.index(name)] += out[:, j]
    return mapped


def classify(out: str, cfg: DatasetConfig) -> tuple[np.ndarray, str]:
    """Per-frame probabilities ``float32 (T, 8)`` (FER2013 order + contempt; NaN rows where a frame was
    not labelled or no face was found) and the labeller's name."""
    lms = np.load(os.path.join(out, LANDMARKS))
    n = len(lms)
    picked = list(range(0, n, cfg.label_stride))
    frames = {i: f for i, f in iter_frames(os.path.join(out, VIDEO)) if i % cfg.label_stride == 0}
    probs = np.full((n, len(FER_CLASSES) + 1), np.nan, np.float32)
    if cfg.labeller.startswith("onnx:"):
        path = cfg.labeller[5:]
        classes = [canonical(c) or c for c in cfg.class_map.split(",")]
        idx = [i for i in picked if i in frames]
        probs[idx] = onnx_probs([frames[i] for i in idx], lms[idx], path, classes)
        return probs, f"onnx:{os.path.basename(path)}"
    stack = np.stack([frames[i] for i in picked if i in frames])
    p = frame_probs(stack)
    for k, i in enumerate(i for i in picked if i in frames):
        probs[i, :len(FER_CLASSES)] = p[k]
        probs[i, -1] = 0.0 if np.isfinite(p[k]).all() else np.nan
    return probs, JUDGE_NAME


def label_clip(out: str, source: str, cfg: DatasetConfig) -> dict:
    """Label a clip; writes ``out/emotion.npz`` (``probs float32 (T, 8)``, FER2013 class order + contempt).

    Returns:
        ``{"label", "confidence", "intensity", "level", "labeller", "pooled_over", "neutral_frames"}``:
        the MEAD label, the labeller's pooled probability of it (1.0 for a name), intensity in [0, 1]
        (MEAD level / 3 for a name; the pooled probability for the judge, 0 for neutral), the level 1-3,
        and the frames that read neutral with closed lips (references for emotion-aware sampling).
    """
    probs, labeller = classify(out, cfg)
    np.savez_compressed(_tmp := os.path.join(out, f".{EMOTION}.tmp.npz"), probs=probs)
    os.replace(_tmp, os.path.join(out, EMOTION))
    classes = [canonical(c) for c in FER_CLASSES] + ["contempt"]
    ap = mesh_aperture(np.load(os.path.join(out, LANDMARKS)))
    labelled = np.isfinite(probs).all(1)
    closed = labelled & (ap < NEUTRAL_MAX_APERTURE)
    pool = closed if closed.sum() >= MIN_CLOSED_FRAMES else labelled
    top = np.full(len(probs), -1)
    top[labelled] = np.argmax(probs[labelled], 1)
    neutral = np.flatnonzero(closed & (top == classes.index("neutral")))
    if neutral.size == 0:
        neutral = np.flatnonzero(top == classes.index("neutral"))
    named = names(source)
    if "emotion" in named:
        label, conf, level = named["emotion"], 1.0, named["level"]
        intensity, labeller = (0.0 if label == "neutral" else level / MEAD_LEVELS), "mead-name"
    elif pool.any():
        mean = probs[pool].mean(0)
        k = int(np.argmax(mean))
        label, conf = classes[k], float(mean[k])
        intensity = 0.0 if label == "neutral" else conf
        level = level_of(intensity)
    else:
        return {"rejected": "no face the emotion labeller could read", "labeller": labeller}
    return {"label": label, "confidence": round(conf, 4), "intensity": round(intensity, 4), "level": level,
            "labeller": labeller, "pooled_over": "closed-lip frames" if pool is closed else "all labelled frames",
            "neutral_frames": neutral.tolist()}
