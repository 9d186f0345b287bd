"""Video encoding and decoding with PyAV: H.264 (yuv420p) + AAC mp4 that plays in browsers."""
from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterable

import numpy as np

from ..errors import InputError
from .audio import SAMPLE_RATE
from .files import check_writable, temp_path_beside


SMALL_MACHINE_CORES = 2
"""Cores at or below which the encoder runs one x264 thread (:func:`encoder_threads`)."""


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def encoder_threads() -> int:
    """x264 threads for this process: 1 where it may run on at most :data:`SMALL_MACHINE_CORES` cores, else
    0 (x264's own choice). On 2 cores the render already fills both, and x264's frame threads there
    cost 10-20 % more encoder CPU a frame (2.7-2.8 against 3.0-3.5 ms at 512², 300 rendered frames)
    for the same PSNR."""
    return 1 if available_cores() <= SMALL_MACHINE_CORES else 0


class VideoWriter:
    """Write RGB frames and an audio track to an mp4, atomically.

    Frames go to a temporary file beside ``path``; :meth:`close` muxes the audio and renames it onto
    ``path``. :meth:`abort` (or leaving a ``with`` block by an exception) removes it, so a failed
    render never leaves a half-written output.

    Args:
        path: output ``.mp4``.
        width, height: frame size in pixels (odd sizes are padded by one pixel for yuv420p).
        fps: frames per second.
        audio: ``float32`` mono waveform at ``sr`` Hz, or ``None`` for no audio track.
        sr: audio sample rate in Hz.
        crf: x264 constant rate factor (lower is better quality; 18 is visually lossless).
        preset: x264 speed preset (default :data:`PRESET`).
        x264_params: extra x264 settings, ``"key=value:key=value"`` (default :data:`X264_PARAMS`).
        threads: x264's threads (0: its own choice, about 1.5 a core); default :func:`encoder_threads`.
        threaded: encode in a background thread (frames wait in a queue of :data:`QUEUE_FRAMES`),
            so rendering and encoding use two cores; errors of the encoder surface in :meth:`write`
            or :meth:`close`.
    """

    PRESET = "superfast"
    """x264 speed preset. Superfast's motion search with veryfast's macroblock tree
    (:data:`X264_PARAMS`) costs 35-45 % less encoder CPU than veryfast on a talking head (still
    background, moving face) at the same CRF, for files 5-10 % larger and a PSNR within 0.1 dB (300
    rendered frames at 512² and 1024²); superfast alone, without the tree, makes files three times
    larger at CRF 18."""

    X264_PARAMS = "mbtree=1:rc-lookahead=10"
    """Extra x264 settings: the macroblock tree over a 10-frame look-ahead, as veryfast has it."""

    AAC_CODER = "fast"
    """FFmpeg AAC encoder's quantisation search. ``fast`` encodes speech in about a third of the default
    ``twoloop``'s time (12 s at 16 kHz: 68 against 185 ms, all of it after the last frame) for an SNR
    1.2 dB lower (32.2 against 33.4 dB, decoded against the source), far below what speech needs."""

    QUEUE_FRAMES = 8
    """Frames that may wait for the encoder thread (bounded: a slow encoder slows the renderer down
    instead of filling memory)."""

    def __init__(self, path, width: int, height: int, fps: int = 25, audio: np.ndarray | None = None,
                 sr: int = SAMPLE_RATE, crf: int = 18, preset: str | None = None, x264_params: str | None = None,
                 threaded: bool = True, threads: int | None = None):
        import av

        self.path = check_writable(path)
        self.width, self.height = int(width), int(height)
        self.enc_w, self.enc_h = self.width + self.width % 2, self.height + self.height % 2
        self.fps = int(fps)
        self.audio = audio
        self.sr = int(sr)
        # A fresh hidden name beside the output; FFmpeg creates the file, so it gets the usual
        # permissions (0666 less the umask), not mkstemp's 0600, and keeps them through the rename.
        self.tmp = temp_path_beside(self.path, ".mp4")
        self._c = av.open(self.tmp, "w", format="mp4", options={"movflags": "+faststart"})
        self._v = self._c.add_stream("libx264", rate=self.fps)
        self._v.width, self._v.height = self.enc_w, self.enc_h
        self._v.pix_fmt = "yuv420p"
        params = self.X264_PARAMS if x264_params is None else x264_params
        threads = encoder_threads() if threads is None else int(threads)
        if threads:
            params = f"{params}:threads={threads}" if params else f"threads={threads}"
        self._v.options = {"crf": str(crf), "preset": preset or self.PRESET, "x264-params": params}
        self._v.codec_context.time_base = Fraction(1, self.fps)
        self._a = None
        if audio is not None:
            self._a = self._c.add_stream("aac", rate=self.sr)
            self._a.layout = "mono"
            self._a.bit_rate = 128000
            self._a.codec_context.options = {"aac_coder": self.AAC_CODER}
        self.n_frames = 0
        self._closed = False
        self._queue = self._thread = self._error = None
        if threaded:
            import queue
            import threading

            self._queue = queue.Queue(maxsize=self.QUEUE_FRAMES)
            self._thread = threading.Thread(target=self._encode_loop, name="emocast-encoder", daemon=True)
            self._thread.start()

    def write(self, frame: np.ndarray) -> None:
        """Append one ``uint8`` RGB frame of shape ``(height, width, 3)``.

        Raises:
            ValueError: a frame of another size.
            Exception: what the encoder thread raised, if it failed.
        """
        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame shape {frame.shape} != ({self.height}, {self.width}, 3)")
        frame = np.asarray(frame, dtype=np.uint8)
        if self._queue is None:
            self._encode(frame, self.n_frames)
        else:
            self._raise_encoder_error()
            self._queue.put((frame.copy(), self.n_frames))  # the caller may reuse its buffer meanwhile
        self.n_frames += 1

    def _encode(self, frame: np.ndarray, index: int) -> None:
        import av
        import cv2

        if (self.enc_w, self.enc_h) != (self.width, self.height):
            frame = np.pad(frame, ((0, self.enc_h - self.height), (0, self.enc_w - self.width), (0, 0)), mode="edge")
        # OpenCV's BT.601 RGB -> I420 (what libswscale's default gives, in a fifth of its time).
        vf = av.VideoFrame.from_ndarray(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420),
                                        format="yuv420p")
        vf.pts = index
        vf.time_base = Fraction(1, self.fps)
        for pkt in self._v.encode(vf):
            self._c.mux(pkt)

    def _encode_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    self._encode(*item)
                except BaseException as e:  # handed to the writing thread
                    self._error = e

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _raise_encoder_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _write_audio(self) -> None:
        import av

        wav = np.asarray(self.audio, dtype=np.float32).reshape(1, -1)
        step = 1024
        for i in range(0, wav.shape[1], step):
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(wav[:, i:i + step]), format="flt", layout="mono")
            af.sample_rate = self.sr
            af.pts = i
            af.time_base = Fraction(1, self.sr)
            for pkt in self._a.encode(af):
                self._c.mux(pkt)
        for pkt in self._a.encode(None):
            self._c.mux(pkt)

    def close(self) -> str:
        """Flush, mux the audio, and move the file onto ``path``. Returns ``path``.

        Raises:
            Exception: what the encoder raised (the partial file is removed first).
        """
        if self._closed:
            return self.path
        try:
            self._finish_thread()
            self._raise_encoder_error()
            for pkt in self._v.encode(None):
                self._c.mux(pkt)
            if self._a is not None:
                self._write_audio()
            self._c.close()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial output."""
        self._finish_thread()
        if not self._closed:
            try:
                self._c.close()
            except Exception:
                pass
            self._closed = True
        if os.path.exists(self.tmp):
            os.remove(self.tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def write_video(path, frames: Iterable[np.ndarray], audio: np.ndarray | None = None, fps: int = 25,
                sr: int = SAMPLE_RATE, **kw) -> str:
    """Encode ``frames`` (iterable of ``uint8`` RGB ``(H, W, 3)``) and ``audio`` to ``path`` atomically.

    Returns:
        ``path``.
    """
    it = iter(frames)
    first = next(it)
    h, w = first.shape[:2]
    with VideoWriter(path, w, h, fps=fps, audio=audio, sr=sr, **kw) as vw:
        vw.write(first)
        for f in it:
            vw.write(f)
    return os.fspath(path)


def read_video(path, max_frames: int | None = None, with_audio: bool = True, budget_bytes: int | None = None,
               return_scale: bool = False):
    """Decode a video.

    Args:
        path: video file.
        max_frames: stop after this many frames.
        with_audio: also decode the first audio stream to 16 kHz mono.
        budget_bytes: when the decoded frames would exceed this many bytes, every frame is shrunk by
            the same factor (area interpolation) so they fit.
        return_scale: also return the scale applied to each side (1.0 = original size).

    Returns:
        ``(frames, fps, audio)`` (plus ``scale`` with ``return_scale``): ``uint8 (T, H, W, 3)`` RGB,
        frames per second (float), and ``float32`` waveform at 16 kHz (or ``None`` when there is no
        audio or ``with_audio`` is false).

    Raises:
        InputError: missing or unreadable file, no video stream, or no frames.
    """
    import math

    import av
    import cv2

    from .audio import load_audio

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "video file not found")
    frames = []
    scale = 1.0
    try:
        with av.open(path) as c:
            if not c.streams.video:
                raise InputError(path, "no video stream in file")
            vs = c.streams.video[0]
            fps = float(vs.average_rate or vs.guessed_rate or 25)
            if budget_bytes:
                n_est = vs.frames or (int(float(vs.duration * vs.time_base) * fps) + 1 if vs.duration else 0)
                w, h = vs.codec_context.width, vs.codec_context.height
                if n_est and w and h:
                    scale = min(1.0, math.sqrt(budget_bytes / (n_est * w * h * 3)))
            for f in c.decode(vs):
                a = f.to_ndarray(format="rgb24")
                if scale < 1.0:
                    a = cv2.resize(a, (max(2, round(a.shape[1] * scale)), max(2, round(a.shape[0] * scale))),
                                   interpolation=cv2.INTER_AREA)
                frames.append(a)
                if max_frames is not None and len(frames) >= max_frames:
                    break
            has_audio = bool(c.streams.audio)
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as e:
        raise InputError(path, f"cannot read video ({type(e).__name__})") from None
    if not frames:
        raise InputError(path, "video has no frames")
    audio = load_audio(path, check_silence=False) if (with_audio and has_audio) else None
    out = (np.stack(frames), fps, audio)
    return out + (scale,) if return_scale else out


def iter_frames(path, start: int = 0, stop: int | None = None):
    """Decode a video's frames one at a time, in order (bounded memory).

    Args:
        path: video file.
        start, stop: frame index range ``[start, stop)`` (decode order, 0-based); ``stop=None`` to the end.

    Yields:
        ``(index, frame)``: ``int`` and ``uint8 (H, W, 3)`` RGB.

    Raises:
        InputError: missing or unreadable file, or no video stream.
    """
    import av

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "video file not found")
    try:
        with av.open(path) as c:
            if not c.streams.video:
                raise InputError(path, "no video stream in file")
            vs = c.streams.video[0]
            vs.thread_type = "AUTO"
            for i, f in enumerate(c.decode(vs)):
                if stop is not None and i >= stop:
                    break
                if i >= start:
                    yield i, f.to_ndarray(format="rgb24")
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as e:
        raise InputError(path, f"cannot read video ({type(e).__name__})") from None
