"""Live mode: a talking head from speech pushed as it comes (a microphone, a text stream).

:class:`LiveSession` is the Python API; ``emocast live`` serves a page (:mod:`emocast.live.page`).
"""
from .session import LIVE, LiveConfig, LiveFrame, LiveSession

__all__ = ["LIVE", "LiveConfig", "LiveFrame", "LiveSession"]
