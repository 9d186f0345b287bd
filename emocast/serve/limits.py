"""Upload limits of the web page: portrait and audio size, speech length, text length.

Each check raises :class:`emocast.errors.InputError` with a one-line message naming the user's file,
like every other bad-input error, so the page shows it the way the CLI would print it.
"""
from __future__ import annotations

import os

from ..errors import InputError
from .config import MB


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:.1f} MB"


def check_file_size(path: str, limit_mb: float, what: str, name: str | None = None) -> None:
    """Reject a file larger than ``limit_mb`` megabytes.

    Args:
        path: the file on disk.
        limit_mb: the limit in MB (1 MB = 2**20 bytes).
        what: ``"portrait"`` or ``"audio"``, for the message.
        name: what to call the file in the message (default: its base name).
    """
    size = os.path.getsize(path)
    if size > limit_mb * MB:
        raise InputError(name or os.path.basename(path),
                         f"{what} is {_mb(size)}, larger than the {limit_mb:g} MB limit")


def audio_seconds(path: str) -> float:
    """Length of the first audio stream of ``path`` in seconds.

    Reads the container's header when it states a duration, otherwise decodes the file.

    Raises:
        InputError: unreadable file or no audio stream.
    """
    import av

    try:
        with av.open(path) as c:
            if not c.streams.audio:
                raise InputError(os.path.basename(path), "no audio stream in file")
            s = c.streams.audio[0]
            if s.duration is not None and s.time_base is not None:
                return float(s.duration * s.time_base)
            if c.duration is not None:
                return c.duration / 1_000_000
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as e:
        raise InputError(os.path.basename(path), f"cannot read audio ({type(e).__name__})") from None
    from ..media import SAMPLE_RATE, load_audio

    return len(load_audio(path, check_silence=False)) / SAMPLE_RATE


def check_audio_length(seconds: float, limit_s: float, name: str) -> None:
    """Reject speech longer than ``limit_s`` seconds (``name`` is what the message calls it)."""
    if seconds > limit_s:
        raise InputError(name, f"speech is {seconds:.1f} s long, longer than the {limit_s:g} s limit")


def check_text(text: str, max_chars: int, limit_s: float, voice: str = "en-us") -> float:
    """Check text to speak: not too many characters, and its speech not over ``limit_s`` seconds.

    Returns:
        The length of the synthesised speech in seconds.

    Raises:
        InputError: empty or too long text, or unknown voice (``"--text"`` / ``"--voice"``).
    """
    if len(text) > max_chars:
        raise InputError("--text", f"text to speak has {len(text)} characters, more than the {max_chars} limit")
    from ..speech.tts import synthesize

    tts = synthesize(text, voice=voice)
    seconds = len(tts.audio) / tts.sr
    check_audio_length(seconds, limit_s, "--text")
    return seconds
