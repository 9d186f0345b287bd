"""``emocast serve``: a Gradio web page for making talking portraits in the browser.

Modules: :mod:`~emocast.serve.config` (settings), :mod:`~emocast.serve.workspace` (per-request
folders), :mod:`~emocast.serve.limits` (upload limits), :mod:`~emocast.serve.readout` (live emotion
read-out), :mod:`~emocast.serve.preview` (detected-face preview), :mod:`~emocast.serve.render` (one
render request), :mod:`~emocast.serve.app` (the page and its launch; needs ``pip install
'emocast[serve]'``).
"""
from __future__ import annotations

from .config import ServeConfig


def launch(config: ServeConfig | None = None, **kwargs):
    """Start the web page; see :func:`emocast.serve.app.launch` (imports Gradio on first use)."""
    from .app import launch as _launch

    return _launch(config or ServeConfig(), **kwargs)


__all__ = ["ServeConfig", "launch"]
