"""Writing output files atomically, and checking output paths before any work."""
from __future__ import annotations

import json
import math
import os
import uuid
from contextlib import contextmanager
from typing import Iterator

from ..errors import InputError


def temp_path_beside(path: str | os.PathLike, suffix: str = "") -> str:
    """A fresh hidden file name in ``path``'s folder (same file system, so a rename is atomic)."""
    path = os.fspath(path)
    ext = suffix or os.path.splitext(path)[1]
    return os.path.join(os.path.dirname(os.path.abspath(path)), f".emocast-{uuid.uuid4().hex}{ext}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``, on an exception it
    is removed, so ``path`` is either the old file or the complete new one, never half written."""
    path = os.fspath(path)
    tmp = temp_path_beside(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **open_kw):
    """``open`` a file that appears at ``path`` only when the ``with`` block succeeds (:func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **open_kw) as f:
            yield f


def json_safe(o):
    """A JSON-safe copy: NaN and infinities become ``null``, numpy scalars and arrays Python values."""
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    if hasattr(o, "tolist") and not isinstance(o, (str, bytes)):
        return json_safe(o.tolist())
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def write_json(path: str | os.PathLike, obj, indent: int | None = 1) -> None:
    """Write ``obj`` as JSON atomically (:func:`json_safe` first)."""
    with atomic_write(path) as f:
        json.dump(json_safe(obj), f, indent=indent)


def check_writable(path: str | os.PathLike) -> str:
    """Return ``path`` as str after checking its folder exists and is writable.

    Raises:
        InputError: the folder is missing or not writable, or ``path`` is a folder.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(path, "output path is a folder")
    if not os.path.isdir(folder):
        raise InputError(path, "output folder does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(path, "output folder is not writable")
    return path


def check_output(path: str | os.PathLike, inputs=(), ext: str = ".mp4") -> str:
    """Check an output path before any work: writable (:func:`check_writable`), named ``*{ext}``, and
    not one of the ``inputs`` (which it would overwrite).

    Args:
        path: the output file.
        inputs: the input files of the job (``None`` and non-paths are skipped).
        ext: the extension the written file will have (its format).

    Returns:
        ``path`` as str.

    Raises:
        InputError: an unwritable folder, another extension, or an output that is an input file.
    """
    path = check_writable(path)
    if os.path.splitext(path)[1].lower() != ext:
        raise InputError(path, f"output must be a {ext} file (the video is H.264 + AAC in MP4)")
    for inp in inputs:
        if isinstance(inp, (str, os.PathLike)) and os.path.exists(inp) and os.path.exists(path) \
                and os.path.samefile(inp, path):
            raise InputError(path, "output is one of the input files; choose another output name")
    return path
