"""Steps 1-2 of a source video: a constant-rate copy (25 fps, 16 kHz mono) and its shots."""
from __future__ import annotations

import math
import os

import numpy as np

from ..errors import InputError
from ..media.audio import load_audio, write_wav
from ..media.video import VideoWriter
from .config import DatasetConfig


class Rejected(Exception):
    """A source or segment that cannot become a training clip; ``str(err)`` is the reason (one line)."""


CLIP_VIDEO, CLIP_AUDIO = "clip.mp4", "clip.wav"
INTERMEDIATE_CRF = 12
"""x264 CRF of the constant-rate intermediate copy: near-lossless, since the crops are encoded again."""


def _resampled_frames(container, stream, fps: int, max_side: int):
    """Frames at a constant ``fps`` from a stream of any (or variable) rate: output frame ``i`` is the last
    source frame whose presentation time is at most ``i / fps`` seconds after the first one."""
    import cv2

    tb = float(stream.time_base or 1 / 90000)
    src_fps = float(stream.average_rate or stream.guessed_rate or fps)
    t0 = prev = prev_t = None
    k = 0
    for f in container.decode(stream):
        t = (f.pts if f.pts is not None else 0) * tb
        if t0 is None:
            t0 = t
        t -= t0
        while prev is not None and k / fps < t - 1e-6:
            yield prev
            k += 1
        a = f.to_ndarray(format="rgb24")
        s = min(1.0, max_side / max(a.shape[:2]))
        if s < 1.0:
            a = cv2.resize(a, (round(a.shape[1] * s) // 2 * 2, round(a.shape[0] * s) // 2 * 2),
                           interpolation=cv2.INTER_AREA)
        prev, prev_t = a, t
    if prev is not None:
        while k / fps < prev_t + 1.0 / src_fps - 1e-6:
            yield prev
            k += 1


def normalise(source: str, folder: str, cfg: DatasetConfig) -> dict:
    """Re-time a source to ``cfg.fps`` and its audio to ``cfg.sample_rate`` mono.

    Writes ``folder/clip.mp4`` (H.264, no audio) and ``folder/clip.wav`` (16-bit PCM), whose lengths
    agree exactly: ``n_samples == n_frames * sample_rate / fps`` (the audio is padded with silence or cut).

    Returns:
        ``{"n_frames", "n_samples", "width", "height", "source_fps", "duration_s"}``.

    Raises:
        Rejected: unreadable file, no video stream, no audio track, or no frames.
    """
    import av

    try:
        container = av.open(source)
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise Rejected(f"unreadable video ({type(e).__name__})") from None
    with container:
        if not container.streams.video:
            raise Rejected("no video stream")
        if not container.streams.audio:
            raise Rejected("no audio track")
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        src_fps = float(vs.average_rate or vs.guessed_rate or 0)
        writer = None
        n = 0
        try:
            for frame in _resampled_frames(container, vs, cfg.fps, cfg.max_side):
                if writer is None:
                    writer = VideoWriter(os.path.join(folder, CLIP_VIDEO), frame.shape[1], frame.shape[0],
                                         fps=cfg.fps, crf=INTERMEDIATE_CRF)
                writer.write(frame)
                n += 1
        except av.error.FFmpegError as e:
            if writer:
                writer.abort()
            raise Rejected(f"cannot decode video ({type(e).__name__})") from None
        if writer is None:
            raise Rejected("video has no frames")
        writer.close()
        h, w = frame.shape[:2]
    try:
        wav = load_audio(source, sr=cfg.sample_rate, check_silence=False)
    except InputError as e:
        raise Rejected(e.problem) from None
    n_samples = int(round(n * cfg.sample_rate / cfg.fps))
    wav = np.pad(wav[:n_samples], (0, max(0, n_samples - len(wav))))
    write_wav(os.path.join(folder, CLIP_AUDIO), wav, cfg.sample_rate)
    return {"n_frames": n, "n_samples": n_samples, "width": w, "height": h,
            "source_fps": round(src_fps, 3), "duration_s": round(n / cfg.fps, 3)}


def shots(folder: str, n_frames: int, cfg: DatasetConfig) -> list[list[int]]:
    """Shot boundaries of ``folder/clip.mp4`` with PySceneDetect's ContentDetector (HSV content change).

    Returns:
        ``[[start, end), ...]`` frame ranges covering ``0..n_frames``, in order.
    """
    from scenedetect import ContentDetector, SceneManager
    from scenedetect.backends.pyav import VideoStreamAv

    # FFmpeg's log stays quiet (suppress_output), which PyAV allows only without decoder threads.
    video = VideoStreamAv(os.path.join(folder, CLIP_VIDEO), threading_mode=None, suppress_output=True)
    manager = SceneManager()
    manager.add_detector(ContentDetector(threshold=cfg.shot_threshold,
                                         min_scene_len=max(1, math.ceil(cfg.min_shot_s * cfg.fps))))
    manager.detect_scenes(video, show_progress=False)
    cuts = sorted({s[0].get_frames() for s in manager.get_scene_list()} - {0})
    bounds = [0] + [c for c in cuts if 0 < c < n_frames] + [n_frames]
    return [[a, b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
