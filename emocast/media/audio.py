"""Audio decoding with PyAV (bundled FFmpeg): any container or codec, any rate, to 16 kHz mono."""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError

SAMPLE_RATE = 16000
"""Sample rate of every waveform inside EmoCAST, Hz."""

SILENCE_DBFS = -50.0
"""Peak level in dBFS below which audio counts as silent (no speech to animate)."""

MIN_SECONDS = 0.1
"""Shortest audio accepted, seconds."""

AAC_RATES = (16000, 22050, 24000, 32000, 44100, 48000)
"""Sample rates (Hz) the output's AAC track keeps as they are; other rates are resampled to 48 kHz."""


def is_silent(wav: np.ndarray) -> bool:
    """Whether a waveform's peak is below :data:`SILENCE_DBFS` (an empty one is silent)."""
    return wav.size == 0 or float(np.abs(wav).max()) < 10 ** (SILENCE_DBFS / 20)


def output_rate(sr: int | None) -> int:
    """The AAC track's sample rate for audio decoded at ``sr`` Hz (:data:`AAC_RATES`)."""
    sr = sr or SAMPLE_RATE
    return sr if sr in AAC_RATES else 48000


def load_audio(path: str | os.PathLike, sr: int = SAMPLE_RATE, check_silence: bool = True) -> np.ndarray:
    """Decode the first audio stream of ``path`` to mono float32 at ``sr`` Hz.

    WAV (PCM, float, 24-bit WAVE_FORMAT_EXTENSIBLE), MP3, M4A/AAC, FLAC, OGG/Opus, and the audio
    track of a video file all go through FFmpeg's decoders and resampler (PyAV).

    Args:
        path: audio or video file.
        sr: output sample rate in Hz.
        check_silence: raise when the audio holds no sound.

    Returns:
        ``float32`` array of shape ``(n_samples,)`` in [-1, 1].

    Raises:
        InputError: missing, empty or unreadable file, no audio stream, no samples, or silence
            (peak below :data:`SILENCE_DBFS`) when ``check_silence``.
    """
    import av

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "audio file not found")
    if os.path.getsize(path) == 0:
        raise InputError(path, "audio file is empty")
    chunks = []
    try:
        with av.open(path) as container:
            streams = container.streams.audio
            if not streams:
                raise InputError(path, "no audio stream in file")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sr)
            for frame in container.decode(streams[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as e:
        raise InputError(path, f"cannot read audio ({type(e).__name__})") from None
    wav = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if wav.size < int(sr * MIN_SECONDS):
        raise InputError(path, f"audio is empty (shorter than {MIN_SECONDS:g} s)")
    if not np.isfinite(wav).all():
        wav = np.nan_to_num(wav)
    if check_silence and is_silent(wav):
        raise InputError(path, "audio is silent")
    return np.clip(wav, -1.0, 1.0)


def native_sample_rate(path: str | os.PathLike) -> int | None:
    """Sample rate in Hz of the first audio stream of ``path``, or ``None`` if it cannot be read."""
    import av

    try:
        with av.open(os.fspath(path)) as c:
            return int(c.streams.audio[0].rate) if c.streams.audio else None
    except (av.error.FFmpegError, ValueError, OSError):
        return None


def resample(wav: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample a mono waveform with FFmpeg's resampler (PyAV), ``float32 (~n * sr_out / sr_in,)``."""
    if sr_in == sr_out:
        return wav.astype(np.float32)
    rs = StreamResampler(sr_out)
    return np.concatenate([rs.push(wav, sr_in), rs.flush()])


class StreamResampler:
    """FFmpeg's resampler (PyAV) on a stream of chunks: mono ``float32`` at any rate in, ``sr_out`` (16 kHz) out,
    with the filter's state carried from chunk to chunk (no clicks at chunk edges). A change of input
    rate starts a new resampler."""

    def __init__(self, sr_out: int = SAMPLE_RATE):
        self.sr_out = int(sr_out)
        self._sr_in: int | None = None
        self._rs = None

    @staticmethod
    def _samples(frames) -> np.ndarray:
        out = [f.to_ndarray().reshape(-1) for f in frames]
        return np.concatenate(out).astype(np.float32) if out else np.zeros(0, np.float32)

    def push(self, samples: np.ndarray, sr_in: int) -> np.ndarray:
        """Resample one chunk ``float32 (n,)`` at ``sr_in`` Hz; returns ``float32 (~n * sr_out / sr_in,)``
        (the filter's delay is held back until later chunks)."""
        import av

        x = np.ascontiguousarray(samples, np.float32).reshape(-1)
        if int(sr_in) == self.sr_out:
            return x
        if sr_in != self._sr_in:
            self._sr_in, self._rs = int(sr_in), av.AudioResampler(format="flt", layout="mono", rate=self.sr_out)
        if not len(x):
            return np.zeros(0, np.float32)
        frame = av.AudioFrame.from_ndarray(x.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self._sr_in
        return self._samples(self._rs.resample(frame))

    def flush(self) -> np.ndarray:
        """The samples the filter still holds back (end of the stream), ``float32 (k,)``."""
        return self._samples(self._rs.resample(None)) if self._rs is not None else np.zeros(0, np.float32)


def write_wav(path: str | os.PathLike, wav: np.ndarray, sr: int = SAMPLE_RATE) -> str:
    """Write mono audio as 16-bit PCM WAV, atomically.

    Args:
        path: output file.
        wav: ``float32 (n,)`` samples in [-1, 1] (clipped).
        sr: sample rate in Hz.

    Returns:
        ``path`` as a string.
    """
    import wave

    from .files import atomic_path

    pcm = (np.clip(np.asarray(wav, np.float32), -1.0, 1.0) * 32767.0).round().astype("<i2")
    with atomic_path(path) as tmp:
        with wave.open(tmp, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(int(sr))
            w.writeframes(pcm.tobytes())
    return os.fspath(path)
