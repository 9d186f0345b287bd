"""Model files that ship inside installed packages, found without importing those packages."""
from __future__ import annotations

import importlib.util


def package_dir(module: str, missing: str) -> str:
    """Folder of the installed package ``module``, located by ``importlib.util.find_spec`` so that the
    package's own ``__init__`` (which may import torch, TensorFlow or ``pkg_resources``) never runs.

    Args:
        module: importable package name, e.g. ``"silero_vad"``.
        missing: the error message when it is not installed (say what to install).

    Raises:
        RuntimeError: ``missing``, when the package is not installed.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(missing)
    return list(spec.submodule_search_locations)[0]
