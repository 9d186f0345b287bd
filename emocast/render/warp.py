"""Landmark-driven image warp (piecewise-linear backward map over a Delaunay mesh of the target points).

For each output pixel the source position is interpolated linearly inside the Delaunay triangle of
the *target* control points that contains it (so no triangle ever folds), on a coarse grid over the
head region only; the map is lightly smoothed, upsampled and applied with ``cv2.remap``. Around the
mouth and the eyes, where lips and lids meet with opposite motions, the map is evaluated at every
pixel without smoothing so a closed mouth or eye closes exactly. A ring of
fixed anchor points around the head keeps the background and the body still (DESIGN.md, "What a
geometric warp can and cannot do").
"""
from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay, QhullError

from ..face import topology as T


def anchor_points(face_points: np.ndarray, shape: tuple[int, int], scale: float = 1.7, n_ring: int = 28) -> np.ndarray:
    """Fixed points around the head: an ellipse ``scale`` times the face oval plus the ROI corners.

    Args:
        face_points: ``(478, 2)`` source landmarks in pixels.
        shape: ``(height, width)`` of the image.
        scale: ring size relative to the face oval.
        n_ring: points on the ring.

    Returns:
        ``float32 (n, 2)`` pixels.
    """
    oval = face_points[T.FACE_OVAL]
    c = oval.mean(0)
    rx = (oval[:, 0].max() - oval[:, 0].min()) / 2 * scale
    ry = (oval[:, 1].max() - oval[:, 1].min()) / 2 * scale
    a = np.linspace(0, 2 * np.pi, n_ring, endpoint=False)
    ring = np.stack([c[0] + rx * np.cos(a), c[1] + ry * np.sin(a)], 1)
    ring2 = np.stack([c[0] + rx * 1.25 * np.cos(a), c[1] + ry * 1.25 * np.sin(a)], 1)
    # The corners and edge midpoints of the box around the rings keep every grid point inside the
    # mesh's hull (points outside make Delaunay.find_simplex very slow).
    (x0, y0), (x1, y1) = ring2.min(0) - 2, ring2.max(0) + 2
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    box = np.array([[x0, y0], [xm, y0], [x1, y0], [x1, ym], [x1, y1], [xm, y1], [x0, y1], [x0, ym]])
    return np.concatenate([ring, ring2, box]).astype(np.float32)


class Warper:
    """Warp one portrait many times (one frame each call).

    Args:
        image: ``uint8 (H, W, 3)`` source portrait at output resolution.
        src_points: ``float32 (N, 2)`` source control points in pixels (landmarks without irises).
        grid_step: spacing of the coarse map in pixels (default: ROI / 160, at least 2).
    """

    def __init__(self, image: np.ndarray, src_points: np.ndarray, grid_step: float | None = None,
                 topology_points: np.ndarray | None = None, excluded: set | None = None):
        self.image = image
        h, w = image.shape[:2]
        self.anchors = anchor_points(src_points if len(src_points) >= 468 else src_points, (h, w))
        self.src = np.concatenate([src_points, self.anchors]).astype(np.float64)
        allp = self.anchors
        x0, y0 = np.floor(allp.min(0)).astype(int)
        x1, y1 = np.ceil(allp.max(0)).astype(int)
        self.x0, self.y0 = max(0, x0), max(0, y0)
        self.x1, self.y1 = min(w, x1), min(h, y1)
        rw, rh = self.x1 - self.x0, self.y1 - self.y0
        self.step = grid_step or max(2.0, max(rw, rh) / 160.0)
        self.gw, self.gh = int(np.ceil(rw / self.step)) + 1, int(np.ceil(rh / self.step)) + 1
        gx = self.x0 + np.arange(self.gw) * self.step
        gy = self.y0 + np.arange(self.gh) * self.step
        self.grid = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
        # Fixed mesh for the exact patches: Delaunay of ``topology_points`` (e.g. the landmarks with the
        # mouth opened), minus triangles whose corners all lie in ``excluded`` (the mouth interior).
        topo = np.concatenate([topology_points if topology_points is not None else src_points, self.anchors])
        tris = Delaunay(topo.astype(np.float64)).simplices
        if excluded:
            ex = np.zeros(len(topo), bool)
            ex[list(excluded)] = True
            tris = tris[~ex[tris].all(1)]
        self.tris = tris
        xs = np.arange(self.x0, self.x1, dtype=np.float32)
        ys = np.arange(self.y0, self.y1, dtype=np.float32)
        self.px, self.py = np.meshgrid(xs, ys)

    @staticmethod
    def _interpolate(tri: Delaunay, disp: np.ndarray, pts: np.ndarray) -> np.ndarray:
        simp = tri.find_simplex(pts)
        inside = simp >= 0
        d = np.zeros_like(pts)
        X = tri.transform[simp[inside]]
        b2 = np.einsum("nij,nj->ni", X[:, :2], pts[inside] - X[:, 2])
        bary = np.concatenate([b2, 1 - b2.sum(1, keepdims=True)], 1)
        d[inside] = np.einsum("nk,nkj->nj", bary, disp[tri.simplices[simp[inside]]])
        return d

    def backward_map(self, dst_points: np.ndarray, fine_boxes=()) -> tuple[np.ndarray, np.ndarray]:
        """Source coordinates for every pixel of the head ROI.

        Args:
            dst_points: ``(N, 2)`` target positions of the source control points, pixels.
            fine_boxes: ``(x0, y0, x1, y1)`` pixel boxes evaluated exactly at every pixel.

        Returns:
            ``(map_x, map_y)``, ``float32 (roi_h, roi_w)`` each.
        """
        dst = np.concatenate([dst_points, self.anchors]).astype(np.float64)
        disp = self.src - dst
        try:
            tri = Delaunay(dst)
        except QhullError:
            return self.px.copy(), self.py.copy()
        d = self._interpolate(tri, disp, self.grid).reshape(self.gh, self.gw, 2).astype(np.float32)
        d = cv2.GaussianBlur(d, (0, 0), 0.7)
        rw, rh = self.x1 - self.x0, self.y1 - self.y0
        # Upsample the coarse field: grid node k sits at pixel k*step of the ROI.
        full_w, full_h = int(round((self.gw - 1) * self.step)) + 1, int(round((self.gh - 1) * self.step)) + 1
        dd = cv2.resize(d, (full_w, full_h), interpolation=cv2.INTER_LINEAR)[:rh, :rw]
        for box in fine_boxes:
            self._exact_patch(dd, dst, disp, box)
        return self.px + dd[..., 0], self.py + dd[..., 1]

    def _exact_patch(self, dd: np.ndarray, dst: np.ndarray, disp: np.ndarray, box) -> None:
        """Overwrite ``dd`` in ``box`` with the piecewise-affine map of the fixed mesh, at every pixel.

        Pixels no triangle covers (the open mouth, painted over later) keep the smooth map.
        """
        bx0, by0 = max(int(box[0]), self.x0), max(int(box[1]), self.y0)
        bx1, by1 = min(int(box[2]), self.x1), min(int(box[3]), self.y1)
        if bx1 - bx0 < 2 or by1 - by0 < 2:
            return
        tri_pts = dst[self.tris]  # (M, 3, 2)
        lo, hi = tri_pts.min(1), tri_pts.max(1)
        sel = np.nonzero((hi[:, 0] >= bx0) & (lo[:, 0] < bx1) & (hi[:, 1] >= by0) & (lo[:, 1] < by1))[0]
        if len(sel) == 0:
            return
        ids = np.zeros((by1 - by0, bx1 - bx0), np.int32)
        shift = 4
        # Larger triangles first so thin lip triangles drawn later win on shared edges.
        area = np.abs(np.cross(tri_pts[sel, 1] - tri_pts[sel, 0], tri_pts[sel, 2] - tri_pts[sel, 0]))
        for k in sel[np.argsort(-area)]:
            poly = np.round((tri_pts[k] - [bx0 - 0.5, by0 - 0.5]) * (1 << shift)).astype(np.int32)
            cv2.fillConvexPoly(ids, poly, int(k) + 1, lineType=cv2.LINE_8, shift=shift)
        yy, xx = np.nonzero(ids)
        if len(yy) == 0:
            return
        if len(yy) < ids.size:
            # Rasterisation leaves hairline gaps where lips meet: take the nearest covered triangle.
            from scipy.ndimage import distance_transform_edt

            _, (iy, ix) = distance_transform_edt(ids == 0, return_indices=True)
            ids = ids[iy, ix]
            yy, xx = np.nonzero(ids)
        k = ids[yy, xx] - 1
        P = np.stack([xx + bx0, yy + by0], 1).astype(np.float64)
        T = tri_pts[k]
        v0, v1 = T[:, 1] - T[:, 0], T[:, 2] - T[:, 0]
        den = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
        den = np.where(np.abs(den) < 1e-9, 1e-9, den)
        q = P - T[:, 0]
        b1 = (q[:, 0] * v1[:, 1] - q[:, 1] * v1[:, 0]) / den
        b2 = (v0[:, 0] * q[:, 1] - v0[:, 1] * q[:, 0]) / den
        D = disp[self.tris[k]]
        d = D[:, 0] * (1 - b1 - b2)[:, None] + D[:, 1] * b1[:, None] + D[:, 2] * b2[:, None]
        dd[yy + by0 - self.y0, xx + bx0 - self.x0] = d.astype(np.float32)

    def warp(self, dst_points: np.ndarray, image: np.ndarray | None = None, fine_boxes=()) -> np.ndarray:
        """Warped copy of the portrait whose control points moved to ``dst_points``.

        ``fine_boxes``: pixel boxes where the map is exact (see :meth:`backward_map`).

        Returns:
            ``uint8 (H, W, 3)``; pixels outside the head ROI are the source's.
        """
        src = self.image if image is None else image
        mx, my = self.backward_map(dst_points, fine_boxes)
        out = src.copy()
        out[self.y0:self.y1, self.x0:self.x1] = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return out
