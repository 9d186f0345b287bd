"""The CPU renderer: FaceMotion -> target landmarks -> mesh warp of the portrait + mouth interior."""
from __future__ import annotations

import cv2
import numpy as np

from ..face import topology as T
from ..face.model import FaceModel
from ..rig import AU_INDEX, FaceRig, teeth_light
from .eyes import Eyes
from .mouth import MouthStyle, draw_mouth
from .texture import TextureLayers
from .warp import Warper

N_WARP = T.RIGHT_IRIS[0]
"""Mesh points that drive the warp: all but the iris points, which would tear the lids."""


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """3x3 rotation for head yaw/pitch/roll in degrees (image axes: x right, y down, z away)."""
    y, p, r = np.radians([yaw, pitch, roll])
    Ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    Rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    Rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return Rz @ Ry @ Rx


def fill_open_mouth(image: np.ndarray, face: FaceModel) -> np.ndarray:
    """The portrait with its own open mouth (teeth, darkness) inpainted in lip colour.

    The renderer closes the portrait's mouth before animating it; the warp can still sample a pixel or
    two of the old opening at the lip corners, which showed as dark specks on open-mouthed smiles.
    Filling the opening (OpenCV's Telea inpainting, from the lips around it), with every tooth-bright or
    shadow-dark pixel within the outer lip contour, removes them; the mouth interior of each frame is
    drawn afresh by :func:`emocast.render.mouth.draw_mouth`.

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait.
        face: its :class:`FaceModel`.

    Returns:
        ``uint8 (H, W, 3)``: a filled copy, or ``image`` itself when the mouth is closed.
    """
    p = face.points
    s = face.interocular
    gap = float(np.mean(p[T.LIPS_INNER_LOWER[1:-1], 1] - p[T.LIPS_INNER_UPPER[1:-1], 1]))
    smile = face.expression.get("AU12", 0.0)
    if gap < 1.0 and smile < 0.2:
        return image
    mask = np.zeros(image.shape[:2], np.uint8)
    if gap >= 1.0:
        cv2.fillPoly(mask, [np.round(p[T.LIPS_INNER_RING]).astype(np.int32)], 255)
        # Teeth often reach past the landmarks' inner lip contour: take every bright, unsaturated
        # (tooth-coloured) pixel inside the outer lip contour too.
        ring = np.round(p[T.LIPS_OUTER_RING]).astype(np.int32)
        x, y, w, h = cv2.boundingRect(ring)
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [ring - [x, y]], 255)
        inside = inside > 0
        hsv = cv2.cvtColor(np.ascontiguousarray(image[y:y + h, x:x + w]), cv2.COLOR_RGB2HSV)
        v_ref = float(np.median(hsv[..., 2][inside]))
        teeth = inside & (hsv[..., 2] > v_ref * 1.1) & (hsv[..., 1] < 90)
        # ... and every dark one: the shadowed corners of an open smile (the buccal corridor) lie outside
        # the inner contour too, and closing the mouth folded them into brown hooks at the corners.
        dark = inside & (hsv[..., 2] < v_ref * 0.7)
        mask[y:y + h, x:x + w][teeth | dark] = 255
    # The dark creases at the corners of a smile: closing and narrowing the mouth squeezes them into a
    # few pixels, where they alias into dotted lines.
    for outer, inner_c in zip(T.MOUTH_CORNERS, T.INNER_CORNERS):
        a, b = p[inner_c], p[outer] + (p[outer] - p[inner_c]) / max(np.linalg.norm(p[outer] - p[inner_c]), 1e-6) * 0.03 * s
        cv2.line(mask, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), 255, max(1, int(round(0.03 * s))))
    r = max(1, int(round(0.012 * s)))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return cv2.inpaint(image, mask, max(2, 2 * r), cv2.INPAINT_TELEA)


class CPURenderer:
    """Render frames of one portrait.

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait at output resolution.
        rig: its :class:`~emocast.rig.FaceRig` (landmarks in ``image`` pixels), or the
            :class:`FaceModel`, from which the rig is built.
    """

    def __init__(self, image: np.ndarray, rig: FaceRig | FaceModel):
        rig = rig if isinstance(rig, FaceRig) else FaceRig(rig)
        face = rig.face
        filled = fill_open_mouth(image, face)
        # A filled mouth lost the dark seam between the lips: the mouth drawing puts one back.
        lip_line = float(filled is not image)
        image = filled
        self.image = image
        self.rig = rig
        self.face = face
        o, R, s = face.frame()
        self.R, self.s = R, s
        self.neutral = rig.neutral
        self.basis = rig.basis  # (nAU, 478, 2) normalised units, on the neutral face
        self.src = face.landmarks.astype(np.float64)
        oval = self.src[:N_WARP, :2]
        width = float(oval[:, 0].max() - oval[:, 0].min())
        centre = oval.mean(0)
        self.pivot = np.array([centre[0], centre[1] + 0.25 * width, float(np.median(self.src[:, 2])) + 0.6 * width])
        # Mesh topology from a copy with the mouth held open, so no triangle bridges the lips.
        # (a jaw drop with parted lips moves whole lip bodies, so thin lips never invert).
        opened = self.neutral + 0.8 * self.basis[AU_INDEX["AU26"]] + self.basis[AU_INDEX["AU25"]]
        topo = (self.src[:, :2] + (opened @ R.T) * s)[:N_WARP]
        # Where the portrait's own mouth is open, sample the lips a little inside their inner edge so
        # the closed lip line never picks up the teeth behind it.
        src_pts = self.src[:N_WARP, :2].copy()
        for i, j in zip(T.LIPS_INNER_UPPER[1:-1], T.LIPS_INNER_LOWER[1:-1]):
            inset = float(np.clip(0.2 * (src_pts[j, 1] - src_pts[i, 1]), 0.0, 0.02 * s))
            src_pts[i, 1] -= inset
            src_pts[j, 1] += inset
        self.warper = Warper(image, src_pts, topology_points=topo,
                             excluded=set(T.LIPS_INNER_UPPER + T.LIPS_INNER_LOWER))
        self.style = MouthStyle.from_portrait(image, face.landmarks)
        self.style.lip_line = lip_line
        self.texture = TextureLayers(image, face)
        self.eyes = Eyes(image, face.landmarks)

    def landmarks(self, aus: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Target landmarks ``float64 (478, 2)`` in pixels for one frame's AUs ``(n_AU,)`` and pose ``(3,)``."""
        d = self.neutral + np.tensordot(aus, self.basis, axes=1)
        pts = self.src.copy()
        pts[:, :2] += (d @ self.R.T) * self.s
        if np.any(pose):
            pts = (pts - self.pivot) @ rotation(*pose).T + self.pivot
        return pts[:, :2]

    def _fine_boxes(self, tgt: np.ndarray) -> list:
        """Pixel boxes around the lips and both eyes (source and target) for the exact map."""
        m = 0.12 * self.s
        boxes = []
        for idx in (T.UPPER_LIP + T.LOWER_LIP, T.RIGHT_EYE_UPPER + T.RIGHT_EYE_LOWER + T.RIGHT_LID_UPPER_OUTER,
                    T.LEFT_EYE_UPPER + T.LEFT_EYE_LOWER + T.LEFT_LID_UPPER_OUTER):
            pts = np.concatenate([tgt[idx], self.src[idx, :2]])
            x0, y0 = pts.min(0) - m
            x1, y1 = pts.max(0) + m
            boxes.append((np.floor(x0), np.floor(y0), np.ceil(x1), np.ceil(y1)))
        return boxes

    def render(self, aus: np.ndarray, pose: np.ndarray, upper_teeth: float = 1.0, lower_teeth: float = 0.0) -> np.ndarray:
        """One frame, ``uint8 (H, W, 3)`` RGB.

        Args:
            aus: ``(n_AU,)`` action units of the frame (they also set the light on the teeth,
                :func:`emocast.rig.teeth_light`).
            pose: ``(3,)`` head yaw, pitch, roll, degrees.
            upper_teeth, lower_teeth: 0..1 visibility of the teeth rows (:func:`emocast.rig.teeth_rows`).
        """
        tgt = self.landmarks(aus, pose)
        layered = self.texture.apply(aus)  # a fresh copy, or the portrait itself when no layer is active
        frame = self.warper.warp(tgt[:N_WARP], image=layered, fine_boxes=self._fine_boxes(tgt),
                                 scratch=layered is not self.texture.image)
        self.eyes.draw(frame, tgt)
        draw_mouth(frame, tgt, self.style, self.s, upper_teeth=upper_teeth, lower_teeth=lower_teeth,
                   teeth_light=float(teeth_light(aus)))
        return frame
