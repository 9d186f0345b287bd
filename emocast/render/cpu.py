"""The CPU renderer: FaceMotion -> target landmarks -> mesh warp of the portrait + mouth interior."""
from __future__ import annotations

import cv2
import numpy as np

from ..face import topology as T
from ..face.model import FaceModel
from ..motion.au import AU_INDEX, au_basis, close_mouth_field, neutral_corners_field, teeth_light
from .eyes import Eyes
from .mouth import MouthStyle, draw_mouth
from .texture import TextureLayers
from .warp import Warper

N_WARP = 468  # mesh points that drive the warp (the iris points do not: they would tear the lids)

DISPLACEMENT_BUDGET = 0.098
"""Largest RMS landmark displacement (interocular units) that bringing the portrait to neutral and the
expression may add up to; see :meth:`CPURenderer.expression_gain`."""


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
        face: its :class:`FaceModel` (landmarks in ``image`` pixels).
    """

    def __init__(self, image: np.ndarray, face: FaceModel):
        filled = fill_open_mouth(image, face)
        # A filled mouth lost the dark seam between the lips: the mouth drawing puts one back.
        lip_line = float(filled is not image)
        image = filled
        self.image = image
        self.face = face
        o, R, s = face.frame()
        self.R, self.s = R, s
        est = face.expression
        # Start from the portrait's neutral: mouth closed, corners level, brows back (DESIGN.md).
        basis = au_basis(face)
        neutral = close_mouth_field(face, basis) + neutral_corners_field(face)
        for name in ("AU1", "AU2", "AU4"):
            neutral -= est.get(name, 0.0) * basis[AU_INDEX[name]]
        self.neutral = neutral
        # Expressions act on that neutral face, not on the photo's own: AU15's falloff around the
        # corners of a broad smile reached the upper lip (beside the corner) but not the lower lip
        # (far below it), and pulling the corners down folded one lip over the other.
        self.basis = au_basis(face.moved(neutral))  # (nAU, 478, 2) normalised units
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

    def expression_gain(self, expression: np.ndarray, budget: float = DISPLACEMENT_BUDGET) -> float:
        """Gain on an expression that keeps the face within a displacement budget of the portrait.

        The further a face is warped from the photo, the less it looks like the person in it. A portrait
        that had to be brought to neutral first (a broad toothy smile) has already moved; a strong
        expression on top of that (fear) can move it past recognition: dlib's face descriptor then drifts
        past 0.5 from the portrait's (``emocast benchmark``'s identity judge, not used here). The budget
        counts both moves, each as the RMS displacement of the 478 landmarks, and the expression is scaled
        down (never below half) when their sum passes it. The default budget of 0.098 was set on the fixture
        portraits: it binds on fear (most on the astronaut, 0.60, and on SadTalker_sad, 0.89; 0.95 or more
        elsewhere), on surprise (the astronaut 0.65: its wide jaw drop; SadTalker_sad 0.93; 0.97 or more
        elsewhere) and on the astronaut's sad (0.92). It was 0.10 until the teeth behind relaxed lips were
        shaded (:func:`emocast.motion.au.teeth_light`), which took her sad video from 0.497 to 0.503.

        Args:
            expression: ``float (T, n_AU)`` or ``(n_AU,)`` expression activations (no speech, no blinks).
            budget: interocular units.

        Returns:
            Gain in [0.5, 1].
        """
        rms = lambda d: np.sqrt((d ** 2).sum(-1).mean(-1))  # noqa: E731
        moved = float(rms(self.neutral))
        expr = float(np.max(rms(np.tensordot(np.atleast_2d(expression), self.basis, axes=1)), initial=0.0))
        if moved + expr <= budget:
            return 1.0
        return float(np.clip((budget - moved) / expr, 0.5, 1.0))

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
                :func:`emocast.motion.au.teeth_light`).
            pose: ``(3,)`` head yaw, pitch, roll, degrees.
            upper_teeth, lower_teeth: 0..1 visibility of the teeth rows (:func:`emocast.motion.au.teeth_rows`).
        """
        tgt = self.landmarks(aus, pose)
        frame = self.warper.warp(tgt[:N_WARP], image=self.texture.apply(aus), fine_boxes=self._fine_boxes(tgt))
        self.eyes.draw(frame, tgt)
        draw_mouth(frame, tgt, self.style, self.s, upper_teeth=upper_teeth, lower_teeth=lower_teeth,
                   teeth_light=float(teeth_light(aus)))
        return frame
