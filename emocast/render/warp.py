"""Landmark-driven image warp: a piecewise-affine backward map over a fixed triangle mesh.

The mesh is a Delaunay triangulation of the landmarks taken once, on a copy of the face with the
mouth held open, without the triangles inside the mouth; fixed anchor points around the head keep
the background and the body still (DESIGN.md, "What a geometric warp can and cannot do"). Each frame
the triangles are rasterised at their *target* positions: over the head region on a coarse grid
(smoothed, then upsampled), and around the lips and eyes at every pixel, so lips and lids that meet
close exactly. The map is applied with ``cv2.remap``.
"""
from __future__ import annotations

import cv2
import numpy as np

from ..face import topology as T
from .gl import backend, raster

_SHIFT = 4  # sub-pixel bits for cv2.fillConvexPoly


def delaunay(points: np.ndarray) -> np.ndarray:
    """Delaunay triangulation of ``(N, 2)`` points (pixels) with OpenCV's ``Subdiv2D`` (Guibas-Stolfi
    incremental), in a fixed order (sorted vertex triples).

    It is OpenCV's rather than SciPy's (Qhull, the same triangles on the fixture faces) because importing
    ``scipy.spatial`` costs about 0.4 s of start-up in each render process.

    Returns:
        ``int64 (M, 3)`` indices into ``points``; of points that coincide, one is used.
    """
    pts = np.asarray(points, np.float64)
    x0, y0 = np.floor(pts.min(0)) - 1
    x1, y1 = np.ceil(pts.max(0)) + 2
    sub = cv2.Subdiv2D((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    sub.insert([(float(x), float(y)) for x, y in pts])
    index = {(float(np.float32(x)), float(np.float32(y))): i for i, (x, y) in enumerate(pts)}
    tris = []
    for t in sub.getTriangleList().reshape(-1, 3, 2):
        k = [index.get((float(x), float(y))) for x, y in t]
        if None not in k:  # triangles on Subdiv2D's outer bounding vertices are not the points' own
            tris.append(sorted(k))
    return np.array(sorted(tris), np.int64).reshape(-1, 3)


def anchor_points(face_points: np.ndarray, scale: float = 1.7, n_ring: int = 28) -> np.ndarray:
    """Fixed points around the head: two ellipses ``scale`` and ``1.25 * scale`` times the face oval,
    plus the corners and edge midpoints of the box around them.

    Args:
        face_points: ``(>=468, 2)`` source landmarks in pixels.
        scale: inner ring size relative to the face oval.
        n_ring: points per ring.

    Returns:
        ``float32 (2 * n_ring + 8, 2)`` pixels.
    """
    oval = face_points[T.FACE_OVAL]
    c = oval.mean(0)
    rx = (oval[:, 0].max() - oval[:, 0].min()) / 2 * scale
    ry = (oval[:, 1].max() - oval[:, 1].min()) / 2 * scale
    a = np.linspace(0, 2 * np.pi, n_ring, endpoint=False)
    ring = np.stack([c[0] + rx * np.cos(a), c[1] + ry * np.sin(a)], 1)
    ring2 = np.stack([c[0] + rx * 1.25 * np.cos(a), c[1] + ry * 1.25 * np.sin(a)], 1)
    (x0, y0), (x1, y1) = ring2.min(0) - 2, ring2.max(0) + 2
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    box = np.array([[x0, y0], [xm, y0], [x1, y0], [x1, ym], [x1, y1], [xm, y1], [x0, y1], [x0, ym]])
    return np.concatenate([ring, ring2, box]).astype(np.float32)


class Warper:
    """Warp one portrait many times (one frame per call).

    Args:
        image: ``uint8 (H, W, 3)`` source portrait at output resolution.
        src_points: ``float32 (N, 2)`` source control points in pixels (landmarks without irises).
        topology_points: ``(N, 2)`` positions used once to build the mesh (default ``src_points``),
            e.g. the landmarks with the mouth opened so no triangle bridges the lips.
        excluded: indices of points whose mutual triangles are dropped (the mouth interior).
        grid_step: spacing of the coarse map in pixels (default: head region / 160, at least 2).
        rasteriser: ``"gl"`` (OpenGL, :mod:`emocast.render.gl`) or ``"cpu"`` (``cv2.fillConvexPoly``);
            default :func:`emocast.render.gl.backend`'s choice.

    Attributes:
        rasteriser: the one in use.
    """

    def __init__(self, image: np.ndarray, src_points: np.ndarray, topology_points: np.ndarray | None = None,
                 excluded: set | None = None, grid_step: float | None = None, rasteriser: str | None = None):
        self.image = image
        self.rasteriser = rasteriser or backend()[0]
        h, w = image.shape[:2]
        self.anchors = anchor_points(src_points)
        self.src = np.concatenate([src_points, self.anchors]).astype(np.float64)
        topo = np.concatenate([topology_points if topology_points is not None else src_points, self.anchors])
        tris = delaunay(topo)
        if excluded:
            ex = np.zeros(len(topo), bool)
            ex[list(excluded)] = True
            tris = tris[~ex[tris].all(1)]
        self.tris = tris
        self.sign = np.sign(self._signed_area(topo.astype(np.float64)))
        x0, y0 = np.floor(self.anchors.min(0)).astype(int)
        x1, y1 = np.ceil(self.anchors.max(0)).astype(int)
        self.x0, self.y0 = max(0, x0), max(0, y0)
        self.x1, self.y1 = min(w, x1), min(h, y1)
        rw, rh = self.x1 - self.x0, self.y1 - self.y0
        self.step = grid_step or max(2.0, max(rw, rh) / 160.0)
        self.gw, self.gh = int(np.ceil(rw / self.step)) + 1, int(np.ceil(rh / self.step)) + 1
        # The coarse map upsampled covers the grid's span, a pixel or so past the region; each pixel's
        # own coordinates, interleaved like the map that cv2.remap reads.
        self.full_w = int(round((self.gw - 1) * self.step)) + 1
        self.full_h = int(round((self.gh - 1) * self.step)) + 1
        px, py = np.meshgrid(np.arange(self.x0, self.x0 + self.full_w, dtype=np.float32),
                             np.arange(self.y0, self.y0 + self.full_h, dtype=np.float32))
        self.coords = np.dstack([px, py])

    def _signed_area(self, pts: np.ndarray) -> np.ndarray:
        t = pts[self.tris]
        e1, e2 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]
        return e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]

    def _raster_cpu(self, tri_pts: np.ndarray, disp: np.ndarray, order: np.ndarray, out: np.ndarray, ox: float,
                    oy: float, step: float) -> np.ndarray:
        """Fill ``out`` ``(h, w, 2)`` with the displacement of the triangles ``order`` (drawn in that order,
        ``cv2.fillConvexPoly`` one at a time); return the covered grid points ``bool (h, w)``."""
        h, w = out.shape[:2]
        ids = np.zeros((h, w), np.int32)
        g = (tri_pts[order] - [ox, oy]) / step
        polys = np.round(g * (1 << _SHIFT)).astype(np.int32)
        for k in range(len(order)):
            cv2.fillConvexPoly(ids, polys[k], int(order[k]) + 1, lineType=cv2.LINE_8, shift=_SHIFT)
        cov = ids > 0
        if not cov.any():
            return cov
        gy, gx = np.nonzero(cov)
        k = ids[gy, gx] - 1
        P = np.stack([ox + gx * step, oy + gy * step], 1)
        Tp = tri_pts[k]
        v0, v1 = Tp[:, 1] - Tp[:, 0], Tp[:, 2] - Tp[:, 0]
        den = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
        den = np.where(np.abs(den) < 1e-9, 1e-9, den)
        q = P - Tp[:, 0]
        b1 = (q[:, 0] * v1[:, 1] - q[:, 1] * v1[:, 0]) / den
        b2 = (v0[:, 0] * q[:, 1] - v0[:, 1] * q[:, 0]) / den
        # Rasterisation marks pixels whose centres lie just outside thin triangles; clamping their
        # barycentric coordinates into the triangle keeps them from extrapolating far off.
        b1, b2 = np.clip(b1, 0, 1), np.clip(b2, 0, 1)
        tot = np.maximum(b1 + b2, 1.0)
        b1, b2 = b1 / tot, b2 / tot
        D = disp[self.tris[k]]
        out[gy, gx] = D[:, 0] * (1 - b1 - b2)[:, None] + D[:, 1] * b1[:, None] + D[:, 2] * b2[:, None]
        return cov

    def _rasters(self, dst: np.ndarray, disp: np.ndarray, ok: np.ndarray, area: np.ndarray,
                 grids: list[tuple[float, float, float, int, int]]) -> list[np.ndarray]:
        """Piecewise-affine displacement on grids ``(ox, oy, step, w, h)`` of points ``(ox + i*step, oy + j*step)``.

        Only triangles flagged in ``ok`` (not folded over) are drawn, larger ones first (by ``area``, the
        signed target areas), so thin lip and lid triangles drawn later win on shared edges; grid points
        no triangle covers take the displacement of the nearest covered one. On OpenGL every ``ok``
        triangle is drawn onto all grids in one pass (the rasteriser clips to each grid itself); on the
        CPU only the triangles that reach a grid are drawn onto it. The result is the same.

        Returns:
            ``float32 (h, w, 2)`` per grid.
        """
        gl = raster() if self.rasteriser == "gl" else None
        if gl is not None:  # one draw order for all grids: every unfolded triangle, larger ones first
            good = np.nonzero(ok)[0]
            order = good[np.argsort(-np.abs(area[good]), kind="stable")]
            return [self._fill_holes(out, cov) for out, cov in gl.displacement(dst, disp, self.tris[order], grids)]
        return [self._raster_grid(dst, disp, ok, *g) for g in grids]

    def _raster_grid(self, dst: np.ndarray, disp: np.ndarray, ok: np.ndarray, ox: float, oy: float, step: float,
                     w: int, h: int) -> np.ndarray:
        """One grid of :meth:`_rasters` on the CPU rasteriser."""
        tri_pts = dst[self.tris]
        lo, hi = tri_pts.min(1), tri_pts.max(1)
        x1, y1 = ox + (w - 1) * step, oy + (h - 1) * step
        sel = np.nonzero(ok & (hi[:, 0] >= ox - step) & (lo[:, 0] <= x1 + step) & (hi[:, 1] >= oy - step) & (lo[:, 1] <= y1 + step))[0]
        out = np.zeros((h, w, 2), np.float32)
        if len(sel) == 0:
            return out
        e1, e2 = tri_pts[sel, 1] - tri_pts[sel, 0], tri_pts[sel, 2] - tri_pts[sel, 0]
        order = sel[np.argsort(-np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]))]
        cov = self._raster_cpu(tri_pts, disp, order, out, ox, oy, step)
        return self._fill_holes(out, cov)

    @staticmethod
    def _fill_holes(out: np.ndarray, cov: np.ndarray) -> np.ndarray:
        """Holes (the mouth opening) copy the displacement of the nearest covered grid point: they sample
        the lip edge, never a far-off pixel an extrapolated triangle would reach.

        The nearest covered point comes from OpenCV's distance transform with per-pixel labels
        (5x5 mask; within 0.3 grid steps of the exact Euclidean nearest, Borgefors 1986): each covered
        point is labelled in raster order, so a label indexes ``np.nonzero(cov)``.
        """
        if not cov.any() or cov.all():
            return out
        holes = ~cov
        _, labels = cv2.distanceTransformWithLabels(holes.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        out = np.ascontiguousarray(out)
        flat = out.reshape(-1, out.shape[-1])  # a view: grid points in raster order
        covered, hole = np.flatnonzero(cov), np.flatnonzero(holes)
        flat[hole] = flat[covered[labels.reshape(-1)[hole] - 1]]
        return out

    def backward_map(self, dst_points: np.ndarray, fine_boxes=()) -> np.ndarray:
        """Source coordinates for every pixel of the head region.

        Args:
            dst_points: ``(N, 2)`` target positions of the source control points, pixels.
            fine_boxes: ``(x0, y0, x1, y1)`` pixel boxes evaluated exactly at every pixel.

        Returns:
            ``float32 (roi_h, roi_w, 2)``: source ``(x, y)`` of each pixel, the map ``cv2.remap`` takes.
        """
        dst = np.concatenate([dst_points, self.anchors]).astype(np.float64)
        disp = self.src - dst
        # Triangles folded over at the target (thin lip-corner triangles when the lips close) are left
        # out: their pixels would sample far-off places; the holes take the nearest good displacement.
        area = self._signed_area(dst)
        ok = area * self.sign > 1e-6
        boxes = []
        for box in fine_boxes:
            bx0, by0 = max(int(box[0]), self.x0), max(int(box[1]), self.y0)
            bx1, by1 = min(int(box[2]), self.x1), min(int(box[3]), self.y1)
            if bx1 - bx0 >= 2 and by1 - by0 >= 2:
                boxes.append((bx0, by0, bx1, by1))
        grids = [(self.x0, self.y0, self.step, self.gw, self.gh)] + [(x0, y0, 1.0, x1 - x0, y1 - y0)
                                                                      for x0, y0, x1, y1 in boxes]
        d, *fine = self._rasters(dst, disp, ok, area, grids)
        d = cv2.GaussianBlur(d, (0, 0), 0.7)
        dd = cv2.resize(d, (self.full_w, self.full_h), interpolation=cv2.INTER_LINEAR)
        for (x0, y0, x1, y1), f in zip(boxes, fine):
            dd[y0 - self.y0:y1 - self.y0, x0 - self.x0:x1 - self.x0] = f
        np.add(dd, self.coords, out=dd)  # displacement -> source coordinates, in place
        return dd[:self.y1 - self.y0, :self.x1 - self.x0]

    def warp(self, dst_points: np.ndarray, image: np.ndarray | None = None, fine_boxes=(),
             scratch: bool = False) -> np.ndarray:
        """Warped copy of the portrait whose control points moved to ``dst_points``.

        Args:
            dst_points: ``(N, 2)`` target positions, pixels.
            image: warp this image instead of the portrait (same size).
            fine_boxes: pixel boxes where the map is exact (see :meth:`backward_map`).
            scratch: ``image`` is the caller's to overwrite: the warp is written into it, not a copy.

        Returns:
            ``uint8 (H, W, 3)``; pixels outside the head region are the source's.
        """
        src = self.image if image is None else image
        source_xy = self.backward_map(dst_points, fine_boxes)
        out = src if scratch and image is not None else src.copy()
        x0, y0, x1, y1 = self.moving_box(dst_points)
        out[y0:y1, x0:x1] = cv2.remap(src, source_xy[y0 - self.y0:y1 - self.y0, x0 - self.x0:x1 - self.x0], None,
                                      cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return out

    MOVING_MARGIN_STEPS = 5
    """Coarse-grid steps the map's displacement may reach past the triangles that move: 3 for the
    Gaussian smoothing (sigma 0.7 steps, OpenCV's 7-tap kernel), 1 for the linear upsampling, 1 to spare."""

    def moving_box(self, dst_points: np.ndarray) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` pixels (end exclusive) within the head region outside which the map of
        :meth:`backward_map` is the identity: the triangles with a vertex that moves, at their target
        positions, plus :data:`MOVING_MARGIN_STEPS` grid steps. There the warp is a copy of the source
        (the anchors around the head never move), so :meth:`warp` resamples only inside.
        """
        moving = np.any(dst_points != self.src[:len(dst_points)], axis=1)
        tris = self.tris[np.concatenate([moving, np.zeros(len(self.anchors), bool)])[self.tris].any(1)]
        if len(tris) == 0:
            return self.x0, self.y0, self.x0, self.y0
        used = np.zeros(len(self.src), bool)
        used[tris] = True
        pts = np.concatenate([dst_points, self.anchors])[used]
        m = self.MOVING_MARGIN_STEPS * self.step
        (bx0, by0), (bx1, by1) = np.floor(pts.min(0) - m), np.ceil(pts.max(0) + m) + 1
        return (int(np.clip(bx0, self.x0, self.x1)), int(np.clip(by0, self.y0, self.y1)),
                int(np.clip(bx1, self.x0, self.x1)), int(np.clip(by1, self.y0, self.y1)))
