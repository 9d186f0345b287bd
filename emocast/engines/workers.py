"""A second process for the CPU engine: it finds the face and builds its renderer while this one
analyses the speech, then renders every other chunk of frames.

The render is mostly short NumPy, OpenCV and Python steps that hold the GIL, so threads do not use a
second core; a process does. :class:`RenderWorker` is one fresh Python process (nothing of this one's
OpenGL or mediapipe state is inherited). It builds its own :class:`~emocast.render.CPURenderer` of the same
portrait and writes its frames into shared memory (:mod:`multiprocessing.shared_memory`); this process
reads them back in order. The render of one frame depends only on that frame's motion, so the video
is the same as when one process renders every frame.
"""
from __future__ import annotations

import math
import multiprocessing
import os
from typing import Callable, Iterator

import numpy as np

CHUNK_FRAMES = 6
"""Frames per chunk of work. Six frames at 512² are about 60 ms of work against about 1 ms to hand a
request over, and small enough that neither process waits long at the start or the end."""

SLOTS = 2
"""Chunks of shared memory the worker may fill ahead of the reader (two: one being read, one being
rendered)."""

AHEAD_CHUNKS = 2
"""Chunks this process may render ahead of their turn while it would otherwise wait for the worker
(held in memory until their turn)."""


RASTER_THREADS = 0
"""Threads of Mesa's llvmpipe rasteriser in each of the two processes (``LP_NUM_THREADS`` unless that is
set; :func:`emocast.render.gl.set_raster_threads`).
0 rasterises in the drawing thread itself: the warp's draw and read-back took 0.97-1.15 ms a frame
against 1.24-1.37 ms with one rasteriser thread (Aragaki 512), and llvmpipe's default of one a core
contends with the other process (5-10 % slower end to end than one)."""


def default_processes() -> int:
    """Processes that render by default: 2 where at least two cores are free to this process, else 1."""
    from ..media.video import available_cores

    return 2 if available_cores() >= 2 else 1


class Request:
    """A call sent to the worker: :meth:`result` waits for it (the worker answers in order)."""

    def __init__(self, worker: "RenderWorker", index: int):
        self._worker, self._index = worker, index
        self._answer: tuple[bool, object] | None = None

    def done(self) -> bool:
        """Whether the answer has come (without waiting)."""
        return self._answer is not None or self._worker._answered(self._index, wait=False)

    def result(self):
        """The call's return value; re-raises what it raised (:class:`~emocast.errors.InputError`
        included). Raises ``RuntimeError`` when the worker process ended."""
        if self._answer is None:
            self._worker._answered(self._index, wait=True)
            self._answer = self._worker._answers.pop(self._index)
        ok, value = self._answer
        if not ok:
            raise value
        return value


class RenderWorker:
    """One helper process; see the module docstring.

    It is started as ``python -m emocast.engines.workers`` (not by :mod:`multiprocessing`'s spawn, which
    would run an unguarded calling script again) and reads calls from a socket pair: picklable
    module-level functions with their arguments, run in order. Use as a context manager (or call
    :meth:`close`): the process ends with it, and on its own when this one goes.
    """

    def __init__(self):
        import queue
        import subprocess
        import sys
        import threading

        from ..render.gl import set_raster_threads

        # Two processes on two cores: no rasteriser threads of their own (Mesa's llvmpipe starts one a core,
        # which then contend), here for this process's first OpenGL context and in the worker's environment.
        set_raster_threads(RASTER_THREADS)
        here, there = multiprocessing.Pipe()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        env.setdefault("LP_NUM_THREADS", str(RASTER_THREADS))
        self._proc = subprocess.Popen([sys.executable, "-m", __name__, str(there.fileno())],
                                      pass_fds=(there.fileno(),), stdin=subprocess.DEVNULL, env=env)
        there.close()
        self._conn = here
        self._sent = self._received = 0
        self._answers: dict[int, tuple[bool, object]] = {}
        self._built: Request | None = None
        self._loaded = False
        self.rendered = 0
        """Frames the worker rendered in the last :meth:`frames`."""
        # Calls go out from a thread of their own: a large call (the portrait) and a large answer (the
        # speech) in flight at once would otherwise each wait for the other side to read.
        self._outbox: queue.Queue = queue.Queue()
        self._sender = threading.Thread(target=_send_loop, args=(self._conn.send, self._outbox),
                                        name="emocast-worker-send", daemon=True)
        self._sender.start()

    def _answered(self, index: int, wait: bool) -> bool:
        while index not in self._answers:
            if not wait and not self._conn.poll():
                return False
            try:
                answer = self._conn.recv()
            except (EOFError, OSError):
                raise RuntimeError(f"the render worker process ended (exit status {self._proc.poll()}); "
                                   "--render-processes 1 renders in this process") from None
            self._answers[self._received] = answer
            self._received += 1
        return True

    def submit(self, fn: Callable, *args, **kwargs) -> Request:
        """Run a picklable module-level ``fn(*args, **kwargs)`` in the worker, after the calls before it."""
        self._outbox.put((fn, args, kwargs))
        self._sent += 1
        return Request(self, self._sent - 1)

    def load_portrait(self, load: Callable, image, options) -> Request:
        """Find the face in the worker, then build the worker's renderer of it there, fitted as
        :meth:`~emocast.engines.cpu.CPUEngine.prepare` fits it with ``options`` (:meth:`ready` waits
        for that; :meth:`renderer` gives a copy).

        Args:
            load: the portrait step, :func:`emocast.api.load_portrait` (``load(image, options)``).
            image: its ``image`` argument (file path or array).
            options: :class:`~emocast.options.GenerateOptions`.

        Returns:
            The request; its result is the :class:`~emocast.engines.Portrait` (``load``'s errors,
            :class:`~emocast.errors.InputError` included, are raised by ``result``).
        """
        self._loaded = True
        request = self.submit(_load, load, image, options)
        self._built = self.submit(_build_loaded, options)
        self.submit(_warm_up)
        return request

    def build(self, image: np.ndarray, rig, rasteriser: str) -> None:
        """Start building the worker's renderer of ``image`` (``uint8 (H, W, 3)`` RGB) and ``rig``
        (:class:`~emocast.rig.FaceRig`) with ``rasteriser`` (``"gl"`` or ``"cpu"``) as this process's."""
        self._built = self.submit(_build, image, rig, rasteriser)
        self.submit(_warm_up)

    @property
    def loaded(self) -> bool:
        """Whether :meth:`load_portrait` was called (the worker holds that portrait)."""
        return self._loaded

    def ready(self) -> None:
        """Wait until the renderer of :meth:`build` or :meth:`load_portrait` is built."""
        self._built.result()

    def renderer(self):
        """A copy of the :class:`~emocast.render.CPURenderer` the worker built after :meth:`load_portrait`
        (waits for it; about 12 MB at 512², 15 ms to pass over against 0.2 s to build).

        Raises:
            RuntimeError: :meth:`load_portrait` was not called. What the build raised, if it failed.
        """
        if not self._loaded:
            raise RuntimeError("RenderWorker.renderer needs load_portrait first")
        return self._built.result()

    def frames(self, n: int, motion: tuple[np.ndarray, ...], render_local: Callable[[int], np.ndarray],
               shape: tuple[int, int]) -> Iterator[np.ndarray]:
        """Frames ``0 .. n-1`` in order, rendered in chunks of :data:`CHUNK_FRAMES`, handed out in order:
        to the worker while it has a free slot (:data:`SLOTS`) once its renderer is built, else to
        ``render_local(i)`` in this process, which also renders the next chunks (up to
        :data:`AHEAD_CHUNKS`) rather than wait for the worker. So each process takes the share its speed
        allows.

        Args:
            n: frames.
            motion: per-frame arrays, each indexed by frame first (``aus (n, n_AU)``, ``pose (n, 3)``,
                ``upper_teeth (n,)``, ``lower_teeth (n,)``), passed to the worker's
                :meth:`CPURenderer.render` in that order.
            render_local: this process's render of frame ``i``.
            shape: ``(H, W)`` of a frame, pixels.

        Yields:
            ``uint8 (H, W, 3)`` RGB frames (each a fresh array).

        Raises:
            RuntimeError: neither :meth:`build` nor :meth:`load_portrait` was called. What the worker raised, if it failed.
        """
        from multiprocessing import shared_memory

        if self._built is None:
            raise RuntimeError("RenderWorker.build or load_portrait must be called before frames")
        H, W = shape
        n_chunks = math.ceil(n / CHUNK_FRAMES)
        self.rendered = 0
        shm = shared_memory.SharedMemory(create=True, size=SLOTS * CHUNK_FRAMES * H * W * 3)
        buf = np.ndarray((SLOTS, CHUNK_FRAMES, H, W, 3), np.uint8, shm.buf)
        pending: dict[int, tuple[Request, int]] = {}  # chunk -> (the worker's request, its slot)
        ahead: dict[int, list[np.ndarray]] = {}  # chunk -> frames rendered here ahead of their turn
        free = list(range(SLOTS))
        unassigned = 0  # chunks are handed out in order: every chunk below this one has an owner

        def span(c: int) -> range:
            return range(c * CHUNK_FRAMES, min(n, (c + 1) * CHUNK_FRAMES))

        def top_up() -> None:
            # The next chunks to the worker while it has a free slot, once its renderer is built (until
            # then this process renders on, rather than wait for it).
            nonlocal unassigned
            if not self._built.done():
                return
            self._built.result()
            while free and unassigned < n_chunks:
                slot = free.pop()
                r = span(unassigned)
                pending[unassigned] = (self.submit(_render, shm.name, (H, W), slot,
                                                   *(m[r.start:r.stop] for m in motion)), slot)
                unassigned += 1

        try:
            for c in range(n_chunks):
                top_up()
                if c == unassigned:  # nobody has it: render it here
                    unassigned += 1
                    for i in span(c):
                        yield render_local(i)
                elif c in ahead:
                    yield from ahead.pop(c)
                else:
                    fut, slot = pending.pop(c)
                    # Rather than wait for the worker, render the next chunk here (at most AHEAD_CHUNKS).
                    while not fut.done() and unassigned < n_chunks and len(ahead) < AHEAD_CHUNKS:
                        ahead[unassigned] = [render_local(i) for i in span(unassigned)]
                        unassigned += 1
                    self.rendered += fut.result()
                    for k in range(len(span(c))):
                        yield buf[slot, k].copy()
                    free.append(slot)
        finally:
            for fut, _ in pending.values():
                try:
                    fut.result()  # let the worker finish a request before its memory goes
                except Exception:
                    pass
            del buf
            shm.close()
            shm.unlink()

    def close(self, now: bool = False) -> None:
        """End the worker process: it exits when its socket closes, after the call it is running, or at
        once with ``now``."""
        import subprocess

        self._outbox.put(None)
        if now:
            self._proc.kill()
        self._sender.join(timeout=10)
        self._conn.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(now=exc_type is not None)
        return False


# --- in the worker process -------------------------------------------------------------------------

_STATE: dict = {}


def _build(image: np.ndarray, rig, rasteriser: str) -> None:
    from ..render import CPURenderer
    from ..render.gl import backend

    renderer = CPURenderer(image, rig)
    if rasteriser == "cpu" or backend()[0] == "gl":
        renderer.warper.rasteriser = rasteriser
    _STATE["renderer"] = renderer


def _load(load: Callable, image, options):
    _STATE["portrait"] = load(image, options)
    return _STATE["portrait"]


def _build_loaded(options):
    """The renderer of the loaded portrait, fitted as :meth:`CPUEngine.prepare
    <emocast.engines.cpu.CPUEngine.prepare>` fits it (:func:`emocast.engines.fit.fitted_rig`)."""
    from ..render import CPURenderer
    from .fit import fitted_rig

    image, rig = fitted_rig(_STATE.pop("portrait"), options)
    _STATE["renderer"] = CPURenderer(image, rig)
    return _STATE["renderer"]


def _warm_up() -> None:
    """Render one frame of the neutral face and drop it: the first frames of a process cost several
    times the rest (llvmpipe compiles its shaders at the first draw; first calls of OpenCV and NumPy
    kernels), and the worker is idle now, before the first chunk comes. The render of a frame depends
    only on its motion, so the frames after it are unchanged."""
    from ..rig import AU_NAMES

    _STATE["renderer"].render(np.zeros(len(AU_NAMES)), np.zeros(3))


def _attach(name: str):
    from multiprocessing import resource_tracker, shared_memory

    shm = _STATE.get("shm")
    if shm is None or shm.name != name:
        if shm is not None:
            shm.close()
        shm = shared_memory.SharedMemory(name=name)
        # The creating process unlinks it; this one only maps it, so its own resource tracker must not
        # (CPython gh-82300).
        resource_tracker.unregister(shm._name, "shared_memory")
        _STATE["shm"] = shm
    return shm


def _render(name: str, shape: tuple[int, int], slot: int, aus, pose, upper, lower) -> int:
    H, W = shape
    buf = np.ndarray((SLOTS, CHUNK_FRAMES, H, W, 3), np.uint8, _attach(name).buf)
    r = _STATE["renderer"]
    for k in range(len(aus)):
        buf[slot, k] = r.render(aus[k], pose[k], upper[k], lower[k])
    del buf
    return len(aus)


def _serve(fd: int) -> None:
    """The worker's loop: run each call that arrives on the socket ``fd`` and send back
    ``(True, value)`` or ``(False, exception)``, until the socket closes.

    Answers are pickled here and sent from a thread of their own: a large one (the portrait, the
    renderer) would otherwise hold up the next call until the other process reads it."""
    import queue
    import threading
    from multiprocessing.connection import Connection

    conn = Connection(fd)
    outbox: queue.Queue = queue.Queue()
    sender = threading.Thread(target=_send_loop, args=(conn.send_bytes, outbox), name="emocast-worker-answers",
                              daemon=True)
    sender.start()
    while sender.is_alive():
        try:
            fn, args, kwargs = conn.recv()
        except (EOFError, OSError):  # the other process closed the socket, or has gone
            break
        except Exception as e:  # a call that cannot be unpickled here
            answer = (False, RuntimeError(f"render worker: {type(e).__name__}: {e}"))
        else:
            try:
                answer = (True, fn(*args, **kwargs))
            except Exception as e:
                answer = (False, e)
        outbox.put(_pickled(answer))
    outbox.put(None)
    sender.join(timeout=10)


def _pickled(answer: tuple) -> bytes:
    """One answer as bytes for ``Connection.send_bytes`` (an unpicklable one as a ``RuntimeError``)."""
    from multiprocessing.reduction import ForkingPickler

    try:
        return bytes(ForkingPickler.dumps(answer))
    except Exception as e:
        return bytes(ForkingPickler.dumps((False, RuntimeError(f"render worker: {type(e).__name__}: {e}"))))


def _send_loop(send: Callable, outbox) -> None:
    """``send`` each item of the queue ``outbox`` in order until ``None``, or until the other process has
    gone (its end of the socket closed: what it said last tells why). Both processes send from a thread
    of their own, so a large message never holds up the next call or answer."""
    while (item := outbox.get()) is not None:
        try:
            send(item)
        except (OSError, EOFError, ValueError):
            return


if __name__ == "__main__":
    import sys

    _serve(int(sys.argv[1]))
    # Nothing is left to save: skip the interpreter's teardown (OpenGL, onnxruntime, mediapipe), which
    # the closing process would otherwise wait for (0.2-0.3 s).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
