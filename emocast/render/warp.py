"""Landmark-driven image warp (piecewise-linear backward map over a Delaunay mesh of the target points).

For each output pixel the source position is interpolated linearly inside the Delaunay triangle of
the *target* control points that contains it (so no triangle ever folds), on a coarse grid over the
head region only; the map is lightly smoothed, upsampled and applied with ``cv2.remap``. A ring of
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
    return np.concatenate([ring, ring2]).astype(np.float32)


class Warper:
    """Warp one portrait many times (one frame each call).

    Args:
        image: ``uint8 (H, W, 3)`` source portrait at output resolution.
        src_points: ``float32 (N, 2)`` source control points in pixels (landmarks without irises).
        grid_step: spacing of the coarse map in pixels (default: ROI / 160, at least 2).
    """

    def __init__(self, image: np.ndarray, src_points: np.ndarray, grid_step: float | None = None):
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
        xs = np.arange(self.x0, self.x1, dtype=np.float32)
        ys = np.arange(self.y0, self.y1, dtype=np.float32)
        self.px, self.py = np.meshgrid(xs, ys)

    def backward_map(self, dst_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Source coordinates for every pixel of the head ROI.

        Args:
            dst_points: ``(N, 2)`` target positions of the source control points, pixels.

        Returns:
            ``(map_x, map_y)``, ``float32 (roi_h, roi_w)`` each.
        """
        dst = np.concatenate([dst_points, self.anchors]).astype(np.float64)
        disp = self.src - dst
        try:
            tri = Delaunay(dst)
        except QhullError:
            return self.px.copy(), self.py.copy()
        simp = tri.find_simplex(self.grid)
        inside = simp >= 0
        d = np.zeros_like(self.grid)
        X = tri.transform[simp[inside]]
        b2 = np.einsum("nij,nj->ni", X[:, :2], self.grid[inside] - X[:, 2])
        bary = np.concatenate([b2, 1 - b2.sum(1, keepdims=True)], 1)
        verts = tri.simplices[simp[inside]]
        d[inside] = np.einsum("nk,nkj->nj", bary, disp[verts])
        d = d.reshape(self.gh, self.gw, 2).astype(np.float32)
        d = cv2.GaussianBlur(d, (0, 0), 0.7)
        rw, rh = self.x1 - self.x0, self.y1 - self.y0
        # Upsample the coarse field: grid node k sits at pixel k*step of the ROI.
        full_w, full_h = int(round((self.gw - 1) * self.step)) + 1, int(round((self.gh - 1) * self.step)) + 1
        dd = cv2.resize(d, (full_w, full_h), interpolation=cv2.INTER_LINEAR)[:rh, :rw]
        return self.px + dd[..., 0], self.py + dd[..., 1]

    def warp(self, dst_points: np.ndarray, image: np.ndarray | None = None) -> np.ndarray:
        """Warped copy of the portrait whose control points moved to ``dst_points``.

        Returns:
            ``uint8 (H, W, 3)``; pixels outside the head ROI are the source's.
        """
        src = self.image if image is None else image
        mx, my = self.backward_map(dst_points)
        out = src.copy()
        out[self.y0:self.y1, self.x0:self.x1] = cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return out
