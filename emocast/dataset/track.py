"""Steps 3-4 of a source video: the face track (the package's own face stage, MediaPipe) and the
speaking segments, each with one fixed square crop."""
from __future__ import annotations

import math
import os

import numpy as np

from ..face import topology as T
from ..evaluate.lipsync import mouth_aperture
from ..face.detect import detect_faces, mesh_landmarks
from ..media.audio import load_audio
from ..media.video import iter_frames
from ..speech.vad import speech_segments
from .config import DatasetConfig
from .normalise import CLIP_AUDIO, CLIP_VIDEO

TRACK = "track.npz"
MAX_GAP_FRAMES = 3
"""Frames without a detection inside a track (a missed detection, a hand passing) that are filled by
interpolating the landmarks on either side, frames."""
INNER_LIP_PAIRS = ((82, 87), (13, 14), (312, 317))
"""Face Mesh inner-lip point pairs (upper, lower): the counterparts of dlib's 61-67, 62-66, 63-65."""


def face_track(folder: str, n_frames: int, cfg: DatasetConfig) -> dict:
    """Largest face and its 478 Face Mesh landmarks in every frame of ``folder/clip.mp4``.

    Writes ``folder/track.npz``: ``landmarks float32 (T, 478, 3)`` pixels (NaN where no face),
    ``box float32 (T, 4)``, ``second float32 (T,)`` area of the second face over the main one's (0 when
    alone).

    Returns:
        ``{"found": frames with a face}``.
    """
    lms = np.full((n_frames, T.N_LANDMARKS, 3), np.nan, np.float32)
    boxes = np.full((n_frames, 4), np.nan, np.float32)
    second = np.zeros(n_frames, np.float32)
    for i, frame in iter_frames(os.path.join(folder, CLIP_VIDEO), 0, n_frames):
        dets = detect_faces(frame)
        if not dets:
            continue
        boxes[i] = dets[0].box
        if len(dets) > 1:
            second[i] = dets[1].area / max(dets[0].area, 1e-6)
        pts = mesh_landmarks(frame, dets[0].box)
        if pts is not None:
            lms[i] = pts
    np.savez_compressed(_tmp := os.path.join(folder, f".{TRACK}.tmp.npz"), landmarks=lms, box=boxes, second=second)
    os.replace(_tmp, os.path.join(folder, TRACK))
    return {"found": int(np.isfinite(lms[:, 0, 0]).sum())}


def load_track(folder: str) -> dict:
    with np.load(os.path.join(folder, TRACK)) as z:
        return {k: z[k] for k in z.files}


def mesh_aperture(landmarks: np.ndarray) -> np.ndarray:
    """Inner-lip aperture per frame from Face Mesh landmarks ``(T, 478, 2|3)``, ``float32 (T,)``: the lip-sync
    judge's :func:`emocast.evaluate.lipsync.mouth_aperture` on the mesh's counterparts of dlib's points."""
    return mouth_aperture(landmarks, INNER_LIP_PAIRS, (T.RIGHT_EYE_CORNERS[0], T.LEFT_EYE_CORNERS[0]))


def yaw_degrees(landmarks: np.ndarray) -> np.ndarray:
    """Head turn per frame from the outer eye corners' depth difference (Face Mesh x, y, z), degrees,
    ``float32 (T,)``; 0 is frontal."""
    a, b = landmarks[:, T.RIGHT_EYE_CORNERS[0]], landmarks[:, T.LEFT_EYE_CORNERS[0]]
    return np.degrees(np.arctan2(np.abs(b[:, 2] - a[:, 2]), np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])))


def fill_gaps(lms: np.ndarray, ok: np.ndarray, max_gap: int = MAX_GAP_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate landmarks over runs of at most ``max_gap`` missing frames between two found
    ones; returns the filled landmarks and the new ``ok`` mask."""
    lms, ok = lms.copy(), ok.copy()
    idx = np.flatnonzero(ok)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= max_gap + 1:
            w = ((np.arange(a + 1, b) - a) / (b - a))[:, None, None]
            lms[a + 1:b] = (1 - w) * lms[a] + w * lms[b]
            ok[a + 1:b] = True
    return lms, ok


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` runs of True."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def speech_frames(folder: str, n_frames: int, cfg: DatasetConfig) -> np.ndarray:
    """``bool (T,)``: silero-vad finds speech in the frame, with pauses up to ``cfg.max_pause_s`` closed."""
    wav = load_audio(os.path.join(folder, CLIP_AUDIO), sr=cfg.sample_rate, check_silence=False)
    active = np.zeros(n_frames, bool)
    spans = speech_segments(wav, cfg.sample_rate)
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a - merged[-1][1] <= cfg.max_pause_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    for a, b in merged:
        active[int(math.floor(a * cfg.fps)):int(math.ceil(b * cfg.fps))] = True
    return active


def split_evenly(a: int, b: int, cfg: DatasetConfig) -> list[tuple[int, int]]:
    """``[a, b)`` cut into equal pieces of at most ``cfg.max_segment_s``; none when shorter than the minimum."""
    lo, hi = cfg.min_segment_s * cfg.fps, cfg.max_segment_s * cfg.fps
    if b - a < lo:
        return []
    k = math.ceil((b - a) / hi)
    edges = np.linspace(a, b, k + 1).round().astype(int)
    return [(int(x), int(y)) for x, y in zip(edges[:-1], edges[1:])]


def choose_crop(lms: np.ndarray, width: int, height: int, cfg: DatasetConfig) -> tuple[list[int] | None, str | None]:
    """One square for a whole segment (the head keeps its real motion inside it).

    The side puts the median face height (forehead to chin) at ``cfg.face_fraction`` of it, centred on the
    median face centre, and grows (down to a 50 % face) when the face leaves it somewhere in the segment;
    a square that leaves the frame is shifted back inside.

    Returns:
        ``([x0, y0, side], None)`` in source pixels, or ``(None, reason)``.
    """
    pts = lms[..., :2]
    oval = pts[:, T.FACE_OVAL]
    face_h = float(np.median(pts[:, T.CHIN, 1] - pts[:, T.FOREHEAD, 1]))
    if face_h < cfg.min_face_px:
        return None, f"face too small ({face_h:.0f} px < {cfg.min_face_px} px)"
    cx = float(np.median((oval[..., 0].min(1) + oval[..., 0].max(1)) / 2))
    cy = float(np.median((oval[..., 1].min(1) + oval[..., 1].max(1)) / 2))
    reach = max(float(np.max(np.abs(oval[..., 0] - cx))), float(np.max(np.abs(oval[..., 1] - cy))))
    side = max(face_h / cfg.face_fraction, min(2 * reach * 1.05, face_h / 0.5))
    side = min(side, width, height)
    if face_h / side > 0.7 + 1e-6:
        return None, f"face too large for a square crop ({face_h / side:.0%} of the side)"
    side = int(round(side))
    x0 = int(round(min(max(cx - side / 2, 0), width - side)))
    y0 = int(round(min(max(cy - side / 2, 0), height - side)))
    return [x0, y0, side], None


def segments(folder: str, info: dict, shot_list: list[list[int]], cfg: DatasetConfig) -> list[dict]:
    """Speaking segments of 3-15 s with one face, inside one shot, each with its crop or its rejection.

    Returns:
        list of ``{"start", "end"}`` (frames ``[start, end)``) with ``"crop": [x0, y0, side]`` and
        ``"yaw"``, or ``"rejected": reason``.
    """
    tr = load_track(folder)
    n = info["n_frames"]
    lms = tr["landmarks"]
    ok = np.isfinite(lms[:, :, :2]).all(axis=(1, 2))
    lms, ok = fill_gaps(lms, ok)
    ok &= tr["second"] < cfg.second_face
    talk = speech_frames(folder, n, cfg)
    out = []
    for s0, s1 in shot_list:
        shot_ok = np.zeros(n, bool)
        shot_ok[s0:s1] = ok[s0:s1] & talk[s0:s1]
        for a, b in _runs(shot_ok):
            for x, y in split_evenly(int(a), int(b), cfg):
                seg = {"start": x, "end": y, "shot": [int(s0), int(s1)]}
                yaw = float(np.median(yaw_degrees(lms[x:y])))
                crop, reason = choose_crop(lms[x:y], info["width"], info["height"], cfg)
                if reason is None and yaw > cfg.max_yaw:
                    reason = f"face turned away (median yaw {yaw:.0f} deg > {cfg.max_yaw:g})"
                seg["yaw"] = round(yaw, 1)
                if reason:
                    seg["rejected"] = reason
                else:
                    seg["crop"] = crop
                out.append(seg)
    return out


def segment_landmarks(folder: str, start: int, end: int) -> np.ndarray:
    """Gap-filled landmarks ``float32 (end-start, 478, 3)`` of a segment, source pixels (the frames a gap
    fill can reach, :data:`MAX_GAP_FRAMES` + 1 either side, are filled with it; the rest is not touched)."""
    lms = load_track(folder)["landmarks"]
    a = max(0, start - MAX_GAP_FRAMES - 1)
    window = lms[a:end + MAX_GAP_FRAMES + 1]
    window, _ = fill_gaps(window, np.isfinite(window[:, :, :2]).all(axis=(1, 2)))
    return window[start - a:end - a]
