"""Settings of the web page: where it listens, how big uploads may be, how many renders run at once."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MB = 1024 * 1024


@dataclass
class ServeConfig:
    """Everything ``emocast serve`` can be told.

    Attributes:
        host: address to bind; ``127.0.0.1`` (this machine only) unless told otherwise.
        port: TCP port.
        max_portrait_mb: largest portrait upload, MB.
        max_audio_mb: largest audio upload, MB (also Gradio's limit for any upload).
        max_audio_seconds: longest speech (uploaded, recorded or synthesised), seconds.
        max_text_chars: longest text to speak, characters.
        concurrency: renders that may run at the same time; later ones wait in a queue.
        share: ask Gradio for a public share link (off by default; needs internet).
        engine: ``"cpu"`` or ``"neural"``, handed to :func:`emocast.generate`.
        weights: neural-engine weights folder, handed to :func:`emocast.generate`.
        render_processes: processes per render, handed to :func:`emocast.generate`; ``None``: 1 when
            renders may run side by side (``concurrency`` above 1: they use the cores already), else the
            generator's default.
        keep_minutes: how long Gradio keeps uploads and served results before deleting them.
        workdir: folder for per-request work folders and Gradio's cache; a fresh temporary folder
            (removed on exit) when ``None``.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    max_portrait_mb: float = 20.0
    max_audio_mb: float = 50.0
    max_audio_seconds: float = 60.0
    max_text_chars: int = 1000
    concurrency: int = 2
    share: bool = False
    engine: str = "cpu"
    weights: str | None = None
    render_processes: int | None = None
    keep_minutes: float = 60.0
    workdir: str | None = None

    @property
    def max_upload_bytes(self) -> int:
        """The largest single upload Gradio accepts (the larger of the two limits)."""
        return int(max(self.max_portrait_mb, self.max_audio_mb) * MB)

    @property
    def is_local(self) -> bool:
        """Whether :attr:`host` is reachable from this machine only."""
        if self.host in ("localhost", ""):
            return self.host == "localhost"
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first setting that makes no sense."""
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be 1-65535, got {self.port}")
        for name in ("max_portrait_mb", "max_audio_mb", "max_audio_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if self.max_text_chars < 1:
            raise ValueError(f"--max-text-chars must be positive, got {self.max_text_chars}")
        if self.concurrency < 1:
            raise ValueError(f"--concurrency must be at least 1, got {self.concurrency}")
        if self.render_processes not in (None, 1, 2):
            raise ValueError(f"--render-processes must be 1 or 2, got {self.render_processes}")

    @property
    def processes_per_render(self) -> int | None:
        """:attr:`render_processes`, or its default (see the class docstring)."""
        if self.render_processes is not None:
            return self.render_processes
        return 1 if self.concurrency > 1 else None
