"""Per-request work folders: every render gets its own folder, removed when the request ends.

Two renders running at once never share a path: each copies its uploads into, and writes its
output under, a folder named by a fresh UUID inside the server's work root.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str | None, default: str) -> str:
    """A file name safe to create: the base name of ``name`` with odd characters replaced.

    Args:
        name: what the user's file was called (may be a full path, or ``None``).
        default: name to use when nothing usable is left (keeps its extension rules to the caller).
    """
    base = os.path.basename(name or "").strip()
    base = _UNSAFE.sub("_", base).strip("._")
    return base[:100] or default


class Workspace:
    """A fresh folder for one request; a context manager that removes it on exit.

    Args:
        root: folder to create the request folder in (created if missing).

    Attributes:
        path: the request's own folder.
    """

    def __init__(self, root: str | os.PathLike):
        os.makedirs(root, exist_ok=True)
        self.path = os.path.join(os.fspath(root), uuid.uuid4().hex)
        os.makedirs(self.path)

    def file(self, name: str) -> str:
        """Path of ``name`` (a bare file name) inside the request folder."""
        if os.path.basename(name) != name or name in ("", ".", ".."):
            raise ValueError(f"not a bare file name: {name!r}")
        return os.path.join(self.path, name)

    def add(self, src: str | os.PathLike, name: str | None = None, default: str = "upload") -> str:
        """Copy ``src`` into the request folder and return the copy's path.

        Args:
            src: the file to copy (e.g. Gradio's cached upload).
            name: the name the user knows the file by; its base name is kept (made safe) so that
                error messages name the user's file.
            default: name to use when ``name`` has nothing usable.
        """
        dst = self.file(safe_name(name or os.fspath(src), default))
        shutil.copyfile(src, dst)
        return dst

    def relative_message(self, message: str) -> str:
        """``message`` with this folder's path removed, so it names files as the user does."""
        return message.replace(self.path + os.sep, "").replace(self.path, ".")

    def cleanup(self) -> None:
        """Remove the request folder and everything in it."""
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()
