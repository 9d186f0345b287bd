"""Errors raised on bad user input.

Every problem a user can cause (unreadable image, no face, silent audio, unwritable output) raises
:class:`InputError`, whose message is one line naming the file and the problem. The CLI prints that
line and exits with status 2; the web page shows it. Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import os


class EmoCastError(Exception):
    """Base class of EmoCAST's own errors."""


class InputError(EmoCastError):
    """Bad user input: ``str(err)`` is a single line ``"<path>: <problem>"``.

    Args:
        path: the offending file (or a short name of the argument, e.g. ``"--emotion"``).
        problem: what is wrong, lower case, no trailing period.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = " ".join(str(problem).split())
        super().__init__(self.problem if self.path is None else f"{self.path}: {self.problem}")

    def __reduce__(self):  # pickled by its arguments, so it crosses process boundaries intact
        return type(self), (self.path, self.problem)
