"""Triangle rasterisation on OpenGL (moderngl, a headless EGL context) for the mesh warp.

:class:`GLRaster` draws the warp mesh at its target positions into a float framebuffer whose pixels
are the points of a regular grid, with each vertex carrying its backward displacement: the GPU (or
Mesa's llvmpipe on a CPU-only machine) interpolates it barycentrically, which is the piecewise-affine
map of :meth:`emocast.render.warp.Warper.backward_map`. Pixel centres inside a triangle are covered
(OpenGL's top-left rule), so shared edges are drawn once.

Which rasteriser runs is chosen by ``EMOCAST_RASTER``: ``auto`` (default: OpenGL when a context can be
made, else the pure-CPU one), ``gl`` or ``cpu``. :func:`backend` says which one is in use and why.
"""
from __future__ import annotations

import os
import threading

import numpy as np

VERTEX_SHADER = """
#version 330
uniform vec2 origin;   // grid point (0, 0) in pixels
uniform float step;    // grid spacing in pixels
uniform vec2 size;     // grid size (w, h)
in vec2 pos;           // target position of the vertex, pixels
in vec2 disp;          // backward displacement (source - target), pixels
out vec2 v_disp;
void main() {
    vec2 g = (pos - origin) / step + 0.5;   // grid point i sits at the centre of framebuffer pixel i
    gl_Position = vec4(g / size * 2.0 - 1.0, 0.0, 1.0);
    v_disp = disp;
}
"""

FRAGMENT_SHADER = """
#version 330
in vec2 v_disp;
out vec2 colour;
void main() { colour = v_disp; }
"""

UNCOVERED = 1e30
"""Clear value of the displacement's x in the framebuffer: a grid point no triangle covers keeps it."""

_local = threading.local()
_lock = threading.Lock()
_status: dict = {}


_raster_threads: list = [None]


def set_raster_threads(n: int | None) -> None:
    """Rasteriser threads of Mesa's llvmpipe for this process's OpenGL context: ``LP_NUM_THREADS`` is
    set to ``n`` while the context is made (0: draw in the calling thread; ``None``: llvmpipe's default of
    one a core), and only then, so the process's environment is left as it was. Has no effect once a
    context exists, or where ``LP_NUM_THREADS`` is set already."""
    _raster_threads[0] = n


def _make_context():
    import moderngl

    n = _raster_threads[0]
    if n is None or "LP_NUM_THREADS" in os.environ:
        return moderngl.create_context(standalone=True, backend="egl")
    os.environ["LP_NUM_THREADS"] = str(int(n))  # llvmpipe reads it when its screen is made
    try:
        return moderngl.create_context(standalone=True, backend="egl")
    finally:
        del os.environ["LP_NUM_THREADS"]


def backend() -> tuple[str, str]:
    """``(name, detail)``: ``("gl", "OpenGL 4.5 on llvmpipe ...")`` or ``("cpu", why not OpenGL)``.

    Tries to make a context once per process (in this thread) when ``EMOCAST_RASTER`` allows it.
    """
    choice = os.environ.get("EMOCAST_RASTER", "auto").lower()
    if choice == "cpu":
        return "cpu", "EMOCAST_RASTER=cpu"
    with _lock:
        if "name" not in _status:
            try:
                ctx = _make_context()
                _status.update(name="gl", detail=f"OpenGL {ctx.version_code} on {ctx.info['GL_RENDERER']}")
                _local.raster = GLRaster(ctx)
            except Exception as e:  # no moderngl, no EGL, no driver: the CPU rasteriser draws the same mesh
                if choice == "gl":
                    raise RuntimeError(f"EMOCAST_RASTER=gl but no OpenGL context: {e}") from e
                _status.update(name="cpu", detail=f"no OpenGL ({type(e).__name__}: {' '.join(str(e).split())[:120]})")
    return _status["name"], _status["detail"]


def raster() -> "GLRaster | None":
    """This thread's :class:`GLRaster`, or ``None`` when the CPU rasteriser is in use."""
    if backend()[0] != "gl":
        return None
    r = getattr(_local, "raster", None)
    if r is None:
        r = _local.raster = GLRaster(_make_context())
    return r


class GLRaster:
    """Draws displacement meshes on one OpenGL context (one per thread).

    Args:
        ctx: a moderngl context.
    """

    def __init__(self, ctx):
        self.ctx = ctx
        self.prog = ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=FRAGMENT_SHADER)
        self._fbo_obj = self._fbo_tex = None
        self._fbo_size = (0, 0)
        self._vbo = self._ibo = self._vao = None
        self._capacity = (0, 0)  # (vertices, indices) the buffers hold

    def _buffers(self, n_vertices: int, n_indices: int):
        """Vertex and index buffers (and their vertex array) large enough, reused between calls."""
        if n_vertices > self._capacity[0] or n_indices > self._capacity[1]:
            for b in (self._vao, self._ibo, self._vbo):
                if b is not None:
                    b.release()
            cap = (max(n_vertices, 2 * self._capacity[0]), max(n_indices, 2 * self._capacity[1]))
            self._vbo = self.ctx.buffer(reserve=cap[0] * 16)
            self._ibo = self.ctx.buffer(reserve=cap[1] * 4)
            self._vao = self.ctx.vertex_array(self.prog, [(self._vbo, "2f 2f", "pos", "disp")],
                                              index_buffer=self._ibo, index_element_size=4)
            self._capacity = cap
        return self._vbo, self._ibo, self._vao

    def _fbo(self, w: int, h: int):
        """A float framebuffer at least ``w x h`` (one, grown when a grid is larger; a draw uses its
        lower-left ``w x h`` corner), so grids of changing size allocate nothing per frame."""
        cw, ch = self._fbo_size
        if w > cw or h > ch:
            if self._fbo_obj is not None:
                self._fbo_obj.release()
                self._fbo_tex.release()
            cw, ch = max(w, cw), max(h, ch)
            self._fbo_tex = self.ctx.texture((cw, ch), 2, dtype="f4")
            self._fbo_obj = self.ctx.framebuffer(color_attachments=[self._fbo_tex])
            self._fbo_size = (cw, ch)
        return self._fbo_obj

    def displacement(self, points: np.ndarray, disp: np.ndarray, triangles: np.ndarray,
                     grids: list[tuple[float, float, float, int, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Piecewise-affine displacement on each grid ``(ox + i*step, oy + j*step)``, ``i < w``, ``j < h``.

        The grids are drawn side by side into one framebuffer (one viewport each) and read back in one
        call: on llvmpipe each read waits for the rasteriser to finish, so one read instead of one per
        grid saves that wait. The framebuffer holds the two displacement components only (``RG32F``);
        points no triangle covers keep the clear value :data:`UNCOVERED`.

        Args:
            points: ``(N, 2)`` target vertex positions, pixels.
            disp: ``(N, 2)`` displacement of each vertex, pixels.
            triangles: ``int (M, 3)`` vertex indices, drawn in this order (later ones win where two
                overlap).
            grids: ``(ox, oy, step, w, h)`` per grid: origin and spacing in pixels, size in points.

        Returns:
            Per grid, ``(displacement float32 (h, w, 2), covered bool (h, w))``; uncovered points are 0.
        """
        ctx = self.ctx
        vertices = np.ascontiguousarray(np.concatenate([points, disp], 1), dtype="f4")
        # Per grid, only the triangles whose bounding box reaches it (in draw order): llvmpipe sets up
        # every triangle of a draw, even one its viewport clips away entirely.
        t = points[triangles]
        lo = np.minimum(np.minimum(t[:, 0], t[:, 1]), t[:, 2])
        hi = np.maximum(np.maximum(t[:, 0], t[:, 1]), t[:, 2])
        bounds = np.array([(ox - step, oy - step, ox + (w - 1) * step + step, oy + (h - 1) * step + step)
                           for ox, oy, step, w, h in grids])  # (G, 4): x0, y0, x1, y1 with a step's margin
        reach = ((hi[:, None, 0] >= bounds[:, 0]) & (lo[:, None, 0] <= bounds[:, 2])
                 & (hi[:, None, 1] >= bounds[:, 1]) & (lo[:, None, 1] <= bounds[:, 3]))  # (M, G)
        subsets = [triangles[reach[:, k]] for k in range(len(grids))]
        indices = np.ascontiguousarray(np.concatenate(subsets), dtype="i4").reshape(-1)
        vbo, ibo, vao = self._buffers(len(vertices), len(indices))
        vbo.write(vertices.tobytes())
        ibo.write(indices.tobytes())
        offsets = np.concatenate([[0], np.cumsum([g[3] for g in grids])]).astype(int)
        total_w, max_h = int(offsets[-1]), max(int(g[4]) for g in grids)
        fbo = self._fbo(total_w, max_h)
        fbo.use()
        ctx.disable(ctx.BLEND | ctx.DEPTH_TEST | ctx.CULL_FACE)
        ctx.viewport = (0, 0, total_w, max_h)
        fbo.clear(UNCOVERED, 0.0, 0.0, 0.0, viewport=(0, 0, total_w, max_h))
        first = 0
        for (ox, oy, step, w, h), x, sub in zip(grids, offsets, subsets):
            self.prog["origin"].value = (float(ox), float(oy))
            self.prog["step"].value = float(step)
            self.prog["size"].value = (float(w), float(h))
            ctx.viewport = (int(x), 0, int(w), int(h))
            if len(sub):
                vao.render(mode=ctx.TRIANGLES, vertices=3 * len(sub), first=first)
            first += 3 * len(sub)
        atlas = np.frombuffer(fbo.read(viewport=(0, 0, total_w, max_h), components=2, dtype="f4"),
                              np.float32).reshape(max_h, total_w, 2)
        out = []
        for (_, _, _, w, h), x in zip(grids, offsets):
            a = atlas[:int(h), x:x + int(w)].copy()
            covered = a[..., 0] < 0.5 * UNCOVERED
            if not covered.all():
                a[~covered] = 0.0
            out.append((a, covered))
        return out
