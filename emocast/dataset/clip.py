"""Steps 6-7 of a segment: the square clip (video, audio, landmarks) and its region masks, made by
the neural engine's own mask code (:func:`emocast.neural.masks.region_masks`), so training and
inference see the same masks."""
from __future__ import annotations

import os

import cv2
import numpy as np

from ..face import topology as T
from ..media.audio import load_audio, write_wav
from ..media.video import VideoWriter, iter_frames
from ..neural.masks import MP_FACE_OVAL, MP_LIPS_OUTER, region_masks
from ..render.sharpness import edge_blur_sigma
from .config import DatasetConfig
from .normalise import CLIP_AUDIO, CLIP_VIDEO
from .sync import segment_audio
from .track import segment_landmarks

VIDEO, AUDIO, LANDMARKS, MASKS = "video.mp4", "audio.wav", "landmarks.npy", "masks.npz"
CLIP_CRF = 16
"""x264 CRF of the training clips (visually lossless at 512 px)."""
BLUR_SAMPLES = 5
"""Frames of a clip whose face blur is measured (evenly spaced; the median is kept)."""


def crop_landmarks(lms: np.ndarray, crop: list[int], size: int) -> np.ndarray:
    """Source-pixel landmarks ``(T, N, 2|3)`` in the clip's pixels, ``float32 (T, N, 2)``."""
    x0, y0, side = crop
    s = size / side
    out = lms[..., :2].astype(np.float32).copy()
    out[..., 0] = (out[..., 0] - x0) * s
    out[..., 1] = (out[..., 1] - y0) * s
    return out


def _crop(frame: np.ndarray, crop: list[int], size: int) -> np.ndarray:
    x0, y0, side = crop
    sq = frame[y0:y0 + side, x0:x0 + side]
    return cv2.resize(sq, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_CUBIC)


def write_clip(work: str, out: str, seg: dict, shift: int, cfg: DatasetConfig) -> dict:
    """Cut, crop and write one segment.

    Writes ``out/video.mp4`` (H.264 ``size``², 25 fps, with AAC audio for viewing), ``out/audio.wav``
    (16 kHz mono PCM, ``n_frames * 640`` samples, shifted by ``shift`` frames when the sync filter repaired
    it) and ``out/landmarks.npy`` (``float32 (T, 478, 2)`` clip pixels).

    Returns:
        ``{"n_frames", "blur_px"}`` plus ``"rejected"`` when the face is blurrier than ``cfg.max_blur``
        (then nothing is left in ``out``).
    """
    start, end, crop = seg["start"], seg["end"], seg["crop"]
    n = end - start
    lms = crop_landmarks(segment_landmarks(work, start, end), crop, cfg.size)
    wav = segment_audio(load_audio(os.path.join(work, CLIP_AUDIO), sr=cfg.sample_rate, check_silence=False),
                        start, end, shift, cfg)
    sample_at = set(np.linspace(0, n - 1, BLUR_SAMPLES).round().astype(int).tolist())
    blurs = []
    os.makedirs(out, exist_ok=True)
    writer = VideoWriter(os.path.join(out, VIDEO), cfg.size, cfg.size, fps=cfg.fps, audio=wav,
                         sr=cfg.sample_rate, crf=CLIP_CRF)
    try:
        for i, frame in iter_frames(os.path.join(work, CLIP_VIDEO), start, end):
            img = _crop(frame, crop, cfg.size)
            if i - start in sample_at:
                blurs.append(edge_blur_sigma(img, _face_box(lms[i - start], cfg.size)))
            writer.write(img)
    except BaseException:
        writer.abort()
        raise
    blur = float(np.median(blurs))
    result = {"n_frames": n, "blur_px": round(blur, 2)}
    if blur > cfg.max_blur:
        writer.abort()
        result["rejected"] = f"face blurred (edge blur {blur:.1f} px > {cfg.max_blur:g} px at {cfg.size} px)"
        return result
    writer.close()
    write_wav(os.path.join(out, AUDIO), wav, cfg.sample_rate)
    np.save(_tmp := os.path.join(out, f".{LANDMARKS}.tmp.npy"), lms)
    os.replace(_tmp, os.path.join(out, LANDMARKS))
    return result


def _face_box(pts: np.ndarray, size: int) -> tuple[int, int, int, int]:
    oval = pts[T.FACE_OVAL]
    x0, y0 = np.clip(oval.min(0), 0, size).astype(int)
    x1, y1 = np.clip(oval.max(0), 0, size).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def box_corners(pts: np.ndarray) -> np.ndarray:
    """The 4 corners ``float32 (4, 2)`` of the bounding box of points ``(..., 2)``."""
    p = pts.reshape(-1, 2)
    (x0, y0), (x1, y1) = p.min(0), p.max(0)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)


def write_masks(out: str, cfg: DatasetConfig) -> dict:
    """The FaceLocator box image and the full / face / lip masks of a clip, from the union of its frames'
    face-oval and outer-lip landmarks (the region the face covers over the clip), by
    :func:`emocast.neural.masks.region_masks` with the release's recipe.

    Writes ``out/masks.npz``: ``face_box_image uint8 (size, size)``; ``full_k``, ``face_k``, ``lip_k``
    ``float16 (side_k², )`` per UNet level ``k`` (side 64, 32, 16, 8 at 512 px).

    Returns:
        ``{"face_box": [x0, y0, x1, y1], "lip_box": [...]}`` in clip pixels.
    """
    lms = np.load(os.path.join(out, LANDMARKS))
    rm = region_masks(box_corners(lms[:, MP_FACE_OVAL]), (cfg.size, cfg.size), cfg.size,
                      lip_landmarks=box_corners(lms[:, MP_LIPS_OUTER]))
    arrays = {"face_box_image": (rm.face_box_image > 0.5).astype(np.uint8)}
    for name in ("full", "face", "lip"):
        for k, m in enumerate(getattr(rm, name)):
            arrays[f"{name}_{k}"] = m.astype(np.float16)
    np.savez_compressed(_tmp := os.path.join(out, f".{MASKS}.tmp.npz"), **arrays)
    os.replace(_tmp, os.path.join(out, MASKS))
    return {"face_box": [round(float(v), 1) for v in rm.face_box], "lip_box": [round(float(v), 1) for v in rm.lip_box]}
