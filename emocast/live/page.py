"""``emocast live``'s page: a browser talks into its microphone (or types a line) and watches the
avatar answer, over WebRTC (aiortc) served by Starlette on uvicorn.

Each browser connection gets its own :class:`~emocast.live.LiveSession` (its own portrait analysis,
renderer thread and GL context); at most :attr:`LiveServeConfig.max_sessions` run at once and a
dropped or closed connection frees its session. Endpoints: ``GET /`` the page; ``POST /offer`` (JSON
``sdp``, ``type``, ``emotion``, optional ``portrait`` as a data URL) answers with the server's SDP and
a session id; ``POST /session/{id}/emotion`` and ``/say`` (JSON ``text``) change the emotion or speak;
``GET /session/{id}/stats``. Bad input is answered with HTTP 400 and ``{"error": "<one line>"}``.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import fractions
import io
import logging
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..media.audio import SAMPLE_RATE
from ..options import GenerateOptions
from .session import LiveSession

log = logging.getLogger(__name__)
MB = 1024 * 1024
PAGE = os.path.join(os.path.dirname(__file__), "page.html")


@dataclass
class LiveServeConfig:
    """Everything ``emocast live`` can be told.

    Attributes:
        host: address to bind; ``127.0.0.1`` (this machine only) unless told otherwise.
        port: TCP port of the page.
        portrait: the portrait a session starts with when the browser sends none: a path, or one
            analysed already (:func:`emocast.api.load_portrait`, as ``emocast live`` does at start-up);
            default the bundled astronaut.
        emotion: the emotion a session starts with.
        options: size, fps, seed, voice, still and pose scale of every session.
        max_sessions: sessions that may run at once; a further browser is told to wait.
        max_portrait_mb: largest portrait upload, MB.
        max_text_chars: longest line to speak, characters.
        max_emotion_chars: longest emotion text, characters.
    """

    host: str = "127.0.0.1"
    port: int = 7861
    portrait: object = None
    emotion: str = "neutral"
    options: GenerateOptions = GenerateOptions(size=512)
    max_sessions: int = 2
    max_portrait_mb: float = 20.0
    max_text_chars: int = 500
    max_emotion_chars: int = 300

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first setting that makes no sense."""
        if not 0 < self.port < 65536:
            raise ValueError(f"--port must be 1-65535, got {self.port}")
        if self.max_sessions < 1:
            raise ValueError(f"--max-sessions must be at least 1, got {self.max_sessions}")
        if not self.max_portrait_mb > 0:
            raise ValueError(f"--max-portrait-mb must be positive, got {self.max_portrait_mb}")


class _Peer:
    """One browser: its WebRTC connection, live session, renderer thread and outgoing tracks."""

    def __init__(self, session: LiveSession, pc, loop: asyncio.AbstractEventLoop):
        from aiortc import MediaStreamTrack

        self.id = uuid.uuid4().hex[:12]
        self.session, self.pc, self.loop = session, pc, loop
        self.pusher = ThreadPoolExecutor(1, thread_name_prefix=f"live-push-{self.id}")
        self.frames_sent = 0
        self.jaw: list[float] = []  # jaw drop (AU26) of the frames sent, for the stats
        self.errors: list[str] = []

        class Track(MediaStreamTrack):
            def __init__(self, kind):
                super().__init__()
                self.kind = kind
                self.queue: asyncio.Queue = asyncio.Queue(maxsize=8)

            async def recv(self):
                item = await self.queue.get()
                if item is None:
                    self.stop()
                    from aiortc.mediastreams import MediaStreamError

                    raise MediaStreamError
                return item

        self.video, self.audio = Track("video"), Track("audio")
        self._thread = threading.Thread(target=self._render, name=f"live-render-{self.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _render(self) -> None:
        """The renderer thread: session frames -> the outgoing tracks' queues."""
        import av

        fps = self.session.fps
        try:
            for f in self.session.frames():
                vf = av.VideoFrame.from_ndarray(f.image, format="rgb24")
                vf.pts, vf.time_base = f.index * (90000 // fps), fractions.Fraction(1, 90000)
                pcm = (np.clip(f.audio, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
                af = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
                af.sample_rate, af.pts = SAMPLE_RATE, int(round(f.index * SAMPLE_RATE / fps))
                af.time_base = fractions.Fraction(1, SAMPLE_RATE)
                self.loop.call_soon_threadsafe(_offer_latest, self.video.queue, vf)
                self.loop.call_soon_threadsafe(_offer_latest, self.audio.queue, af)
                self.frames_sent += 1
                self.jaw.append(f.jaw)
                del self.jaw[:-1000]
        except RuntimeError:  # the event loop closed under us: the server is stopping
            return
        finally:
            for q in (self.video.queue, self.audio.queue):
                try:
                    self.loop.call_soon_threadsafe(_offer_latest, q, None)
                except RuntimeError:
                    pass

    async def consume(self, track) -> None:
        """Feed the browser's microphone into the session until the track ends."""
        from aiortc.mediastreams import MediaStreamError

        loop = asyncio.get_running_loop()
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            x = frame.to_ndarray()
            channels = len(frame.layout.channels)
            x = x.reshape(channels, -1).T if frame.format.is_planar else x.reshape(-1, channels)
            try:
                await loop.run_in_executor(self.pusher, self.session.push_audio, x, frame.sample_rate, 1.0)
            except InputError as e:  # a bad chunk is reported and dropped; the session goes on
                self.errors.append(str(e))

    async def close(self) -> None:
        self.session.close()
        await self.pc.close()
        self.pusher.shutdown(wait=False)


def _offer_latest(queue: asyncio.Queue, item) -> None:
    """Queue ``item``, dropping the oldest when the browser falls behind (live: newest wins)."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


def _portrait(data_url: str | None, cfg: LiveServeConfig):
    """The portrait of a new session: the browser's upload (a data URL) or the server's default."""
    if not data_url:
        if cfg.portrait is not None:
            return cfg.portrait
        import skimage.data

        return skimage.data.astronaut()
    head, _, b64 = data_url.partition(",")
    try:
        raw = base64.b64decode(b64, validate=False)
    except ValueError:
        raise InputError("portrait", "upload is not a valid data URL") from None
    if len(raw) > cfg.max_portrait_mb * MB:
        raise InputError("portrait", f"portrait is {len(raw) / MB:.1f} MB, larger than the {cfg.max_portrait_mb:g} MB limit")
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img = ImageOps.exif_transpose(Image.open(io.BytesIO(raw))).convert("RGB")
    except (UnidentifiedImageError, OSError):
        raise InputError("portrait", "cannot read the uploaded picture") from None
    return np.asarray(img)


def _text(body: dict, key: str, limit: int) -> str:
    text = str(body.get(key) or "").strip()
    if not text:
        raise InputError(key, f"{key} is empty")
    if len(text) > limit:
        raise InputError(key, f"{key} has {len(text)} characters, more than the {limit} limit")
    return text


def build_app(cfg: LiveServeConfig):
    """The Starlette application of the page (see the module docstring for its endpoints)."""
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    peers: dict[str, _Peer] = {}
    starting = asyncio.Semaphore(cfg.max_sessions)
    analysis = ThreadPoolExecutor(cfg.max_sessions, thread_name_prefix="live-analysis")

    def error(e: Exception, status: int = 400):
        return JSONResponse({"error": str(e)}, status_code=status)

    async def page(request):
        with open(PAGE, encoding="utf-8") as f:
            return HTMLResponse(f.read())

    async def offer(request):
        try:
            body = await request.json()
        except ValueError:
            return error(InputError("offer", "request body is not JSON"))
        if len(peers) >= cfg.max_sessions:
            return error(InputError("session", f"all {cfg.max_sessions} live sessions are in use; try again later"), 503)
        async with starting:
            try:
                emotion = _text(body, "emotion", cfg.max_emotion_chars) if body.get("emotion") else cfg.emotion
                image = _portrait(body.get("portrait"), cfg)
                loop = asyncio.get_running_loop()
                session = await loop.run_in_executor(
                    analysis, lambda: LiveSession(image, emotion, options=cfg.options.replace(emotion=emotion)))
            except InputError as e:
                return error(e)
            pc = RTCPeerConnection()
            peer = _Peer(session, pc, asyncio.get_running_loop())
            peers[peer.id] = peer

            @pc.on("track")
            def on_track(track):
                if track.kind == "audio":
                    asyncio.ensure_future(peer.consume(track))

            @pc.on("connectionstatechange")
            async def on_state():
                if pc.connectionState in ("failed", "closed", "disconnected") and peers.pop(peer.id, None):
                    await peer.close()

            try:
                if "m=" not in str(body.get("sdp", "")):
                    raise ValueError("no media sections")
                await pc.setRemoteDescription(RTCSessionDescription(sdp=str(body["sdp"]), type=str(body["type"])))
                pc.addTrack(peer.audio)
                pc.addTrack(peer.video)
                await pc.setLocalDescription(await pc.createAnswer())
            except (KeyError, ValueError) as e:
                peers.pop(peer.id, None)
                await peer.close()
                return error(InputError("offer", f"not a WebRTC offer ({e})"))
            peer.start()
            h, w = session.frame_size
            return JSONResponse({"sdp": pc.localDescription.sdp, "type": pc.localDescription.type, "id": peer.id,
                                 "size": [w, h], "mouth_box": _mouth_box(session), "fps": session.fps,
                                 "analysis_s": round(session.analysis_s, 3), "lookahead_ms": session.lookahead_s * 1000})

    def _peer(request) -> _Peer:
        peer = peers.get(request.path_params["sid"])
        if peer is None:
            raise InputError("session", "no such live session (it ended or the connection dropped)")
        return peer

    async def set_emotion(request):
        try:
            peer, body = _peer(request), await request.json()
            text = _text(body, "text", cfg.max_emotion_chars)
            await asyncio.get_running_loop().run_in_executor(analysis, peer.session.set_emotion, text)
        except InputError as e:
            return error(e)
        return JSONResponse({"emotion": text})

    async def say(request):
        try:
            peer, body = _peer(request), await request.json()
            text = _text(body, "text", cfg.max_text_chars)
            _, seconds = await asyncio.get_running_loop().run_in_executor(peer.pusher, peer.session.push_text, text, None, 5.0)
        except InputError as e:
            return error(e)
        return JSONResponse({"seconds": round(seconds, 3)})

    async def stats(request):
        try:
            peer = _peer(request)
        except InputError as e:
            return error(e, 404)
        return JSONResponse({"frames_sent": peer.frames_sent, "heard_s": round(peer.session.heard_s, 3),
                             "jaw": [round(j, 3) for j in peer.jaw[-250:]], "buffered_s": round(peer.session.buffered_s, 3),
                             "emotion": peer.session.emotion, "errors": peer.errors[-5:], "sessions": len(peers)})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        for peer in list(peers.values()):
            await peer.close()
        peers.clear()
        analysis.shutdown(wait=False)

    return Starlette(routes=[Route("/", page), Route("/offer", offer, methods=["POST"]),
                             Route("/session/{sid}/emotion", set_emotion, methods=["POST"]),
                             Route("/session/{sid}/say", say, methods=["POST"]),
                             Route("/session/{sid}/stats", stats)], lifespan=lifespan)


def _mouth_box(session: LiveSession) -> list[int]:
    """``[x0, y0, x1, y1]`` pixels around the mouth of the portrait, for the page's motion meter."""
    from ..face.topology import LIPS_OUTER_RING

    pts = session.engine.rig.face.landmarks[LIPS_OUTER_RING, :2]
    (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
    pad = 0.3 * (x1 - x0)
    return [int(x0 - pad), int(y0 - pad), int(x1 + pad), int(y1 + 2 * pad)]


def launch(cfg: LiveServeConfig) -> None:
    """Serve the page until Ctrl+C (uvicorn).

    Raises:
        OSError: the address cannot be bound (in use, not this machine's); raised before anything is served.
    """
    import socket

    import uvicorn

    cfg.validate()
    family = socket.AF_INET6 if ":" in cfg.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((cfg.host, cfg.port))
    except OSError:
        sock.close()
        raise
    print(f"emocast live: open http://{cfg.host}:{cfg.port}/ (Ctrl+C to stop)", flush=True)
    server = uvicorn.Server(uvicorn.Config(build_app(cfg), log_level="warning"))
    server.run(sockets=[sock])
