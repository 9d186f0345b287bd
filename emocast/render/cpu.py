"""The CPU renderer: FaceMotion -> target landmarks -> mesh warp of the portrait + mouth interior."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import topology as T
from ..face.model import FaceModel
from ..rig import AU_INDEX, FaceRig, teeth_light
from .eyes import Eyes
from .grain import tinted_like
from .mouth import MouthStyle, PortraitTeeth, draw_mouth
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


@dataclass(frozen=True)
class FillConfig:
    """Constants of :func:`fill_open_mouth` (lengths in iu, interocular units)."""

    closed_gap_px: float = 1.0
    """Mean inner-lip gap (px) below which the portrait's mouth counts as closed."""
    smile_au12: float = 0.2
    """Estimated AU12 from which a closed smile's corner creases are filled too."""
    band: float = 0.04
    """How far (iu) past the landmarks' inner lip contour teeth and shadow are looked for: teeth often
    reach past it on an open smile."""
    lip_percentiles: tuple[float, float] = (10.0, 90.0)
    """Percentiles of the lip body's luminance that bound "lip": darker is shadow, brighter is teeth."""
    lip_margin: float = 6.0
    """Grey levels beyond those percentiles before a pixel counts as shadow or teeth."""
    teeth_max_saturation: int = 90
    """Most HSV saturation (0-255) of a tooth pixel in a colour portrait (lips are redder)."""
    crease_reach: float = 0.03
    """How far (iu) past each outer mouth corner the corner crease is filled."""
    crease_width: float = 0.03
    """Width (iu) of the filled corner crease."""
    dilate: float = 0.012
    """Radius (iu) by which the filled region grows (its anti-aliased edge)."""
    smooth_columns: int = 7
    """Columns (px) over which the opening's top and bottom edges are averaged before the lips are
    stretched over it (odd)."""
    feather_px: float = 1.0
    """Blur sigma (px) of the filled region's edge, so the fill fades into the lips around it."""
    feather_along: float = 3.0
    """Factor on that blur along the mouth (x), where the stretched lips end at the corners."""


FILL = FillConfig()
"""The default constants of :func:`fill_open_mouth`."""


def opening_mask(image: np.ndarray, p: np.ndarray, s: float, k: FillConfig = FILL) -> np.ndarray:
    """The portrait's mouth opening: inside the inner lip contour, and the teeth and shadow next to it
    (pixels beyond the lip body's own luminance range, in a band around that contour, within the outer
    lip contour).

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait.
        p: ``(478, 2)`` its landmarks, pixels.
        s: interocular distance, pixels.

    Returns:
        ``uint8 (H, W)``, 255 over the opening.
    """
    h, w = image.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(p[T.LIPS_INNER_RING]).astype(np.int32)], 255)
    outer = np.zeros((h, w), np.uint8)
    cv2.fillPoly(outer, [np.round(p[T.LIPS_OUTER_RING]).astype(np.int32)], 255)
    r = max(1, int(round(k.band * s)))
    band = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    band = (band > 0) & (outer > 0)
    body = (outer > 0) & ~band  # the lips themselves
    lum = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if body.sum() < 8:
        return mask
    lo, hi = np.percentile(lum[body], k.lip_percentiles)
    sat = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 1]
    teeth = (lum > hi + k.lip_margin) & (sat < k.teeth_max_saturation)
    dark = lum < lo - k.lip_margin
    # Only what joins the opening counts: a highlight on the lower lip is as bright as a tooth, but lies
    # apart from it, beyond the lip's dark inner edge.
    inner = mask > 0
    candidates = (inner | (band & (teeth | dark))).astype(np.uint8)
    _, labels = cv2.connectedComponents(candidates, connectivity=4)
    joined = np.unique(labels[inner])
    mask[np.isin(labels, joined[joined > 0])] = 255
    return mask


def _stretch_lips(image: np.ndarray, mask: np.ndarray, p: np.ndarray, k: FillConfig) -> tuple[np.ndarray, np.ndarray]:
    """Close the opening in ``mask`` with the lips stretched over it.

    In each column the upper lip, from its outer contour down to the top of the opening, is stretched
    down to the opening's middle, and the lower lip likewise up: the lips meet with their own texture,
    grain and colour (a black-and-white photo stays so), and their dark inner edges meet in a lip line.
    Columns with no lip above or below (past the corners) take the pixels beside the opening, mirrored.

    Returns:
        ``(stretched, alpha)``: ``uint8 (H, W, 3)`` and ``float32 (H, W)`` 0..1, where to use it.
    """
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    alpha = np.zeros((h, w), np.float32)
    if ys.size == 0:
        return image, alpha
    x0, x1 = int(xs.min()), int(xs.max()) + 1
    top = np.full(w, h, np.float64)
    bottom = np.full(w, -1, np.float64)
    np.minimum.at(top, xs, ys)
    np.maximum.at(bottom, xs, ys)
    cols = np.arange(x0, x1)
    t, b = top[x0:x1], bottom[x0:x1]
    has = b >= t
    t = np.interp(cols, cols[has], t[has])
    b = np.interp(cols, cols[has], b[has]) + 1.0
    # Opening edges smoothed along the mouth, so the stretch has no column-to-column steps.
    ker = np.ones(k.smooth_columns) / k.smooth_columns
    pad = k.smooth_columns // 2
    t = np.convolve(np.pad(t, pad, mode="edge"), ker, "valid")
    b = np.convolve(np.pad(b, pad, mode="edge"), ker, "valid")
    xc = cols + 0.5
    up = p[T.LIPS_OUTER_UPPER]
    lo = p[T.LIPS_OUTER_LOWER]
    ou = np.interp(xc, *_sorted_xy(up), left=np.nan, right=np.nan)
    ol = np.interp(xc, *_sorted_xy(lo), left=np.nan, right=np.nan)
    mid = 0.5 * (t + b)
    ou = np.where(np.isfinite(ou) & (ou < t - 1.0), ou, 2 * t - mid)  # no lip above: mirror instead
    ol = np.where(np.isfinite(ol) & (ol > b + 1.0), ol, 2 * b - mid)
    y0, y1 = max(0, int(np.floor(ou.min()))), min(h, int(np.ceil(ol.max())) + 1)
    yy = (np.arange(y0, y1) + 0.5)[:, None]
    upper = ou + (yy - ou) * (t - ou) / np.maximum(mid - ou, 1e-3)
    lower = ol - (ol - yy) * (ol - b) / np.maximum(ol - mid, 1e-3)
    src_y = np.where(yy <= mid, upper, lower)
    inside = (yy >= ou) & (yy <= ol)
    src_y = np.where(inside, src_y, yy) - 0.5
    src_x = np.broadcast_to(cols[None, :].astype(np.float64), src_y.shape)
    patch = cv2.remap(image, src_x.astype(np.float32), src_y.astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)
    out = image.copy()
    out[y0:y1, x0:x1] = patch
    # Used over the lips of every column the opening reaches, fading out along the mouth at its ends.
    reach = cv2.dilate(mask, np.ones((1, 2 * pad + 1), np.uint8))[y0:y1, x0:x1] > 0
    alpha[y0:y1, x0:x1] = (inside & reach.any(0)[None, :]).astype(np.float32)
    return out, alpha


def _sorted_xy(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    o = np.argsort(pts[:, 0])
    return pts[o, 0], pts[o, 1]


def mouth_is_open(face: FaceModel, config: FillConfig = FILL) -> bool:
    """Whether the portrait's lips are parted: a mean inner-lip gap of ``config.closed_gap_px`` or more."""
    p = face.points
    return float(np.mean(p[T.LIPS_INNER_LOWER[1:-1], 1] - p[T.LIPS_INNER_UPPER[1:-1], 1])) >= config.closed_gap_px


def fill_open_mouth(image: np.ndarray, face: FaceModel, config: FillConfig = FILL, *,
                    opening: np.ndarray | None = None) -> np.ndarray:
    """The portrait with its own open mouth (teeth, darkness) closed by its own lips.

    The renderer closes the portrait's mouth before animating it; the warp can still sample a pixel or
    two of the old opening at the lip corners, which showed as dark specks on open-mouthed smiles, and
    a flat inpainted fill there read as a pasted pink (or, on a black-and-white photo, grey) lozenge.
    Each column of the opening (:func:`opening_mask`, with the dark creases at the corners of a smile)
    is closed by the lips above and below it, stretched to meet in its middle
    (:func:`_stretch_lips`), blended in over a feathered edge; the mouth interior of each frame is drawn
    afresh by :func:`emocast.render.mouth.draw_mouth`, and the seam between the lips by
    :func:`emocast.render.mouth.draw_lip_line`.

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait.
        face: its :class:`FaceModel`.
        config: the constants.
        opening: its :func:`opening_mask`, where the caller has it already (not modified).

    Returns:
        ``uint8 (H, W, 3)``: a filled copy, or ``image`` itself when the mouth is closed.
    """
    k = config
    p = face.points
    s = face.interocular
    is_open = mouth_is_open(face, k)
    if not is_open and face.expression.get("AU12", 0.0) < k.smile_au12:
        return image
    if not is_open:
        mask = np.zeros(image.shape[:2], np.uint8)
    else:
        mask = opening_mask(image, p, s, k) if opening is None else opening.copy()
    # The dark creases at the corners of a smile: closing and narrowing the mouth squeezes them into a
    # few pixels, where they alias into dotted lines.
    for outer, inner_c in zip(T.MOUTH_CORNERS, T.INNER_CORNERS):
        a = p[inner_c]
        b = p[outer] + (p[outer] - p[inner_c]) / max(np.linalg.norm(p[outer] - p[inner_c]), 1e-6) * k.crease_reach * s
        cv2.line(mask, tuple(np.round(a).astype(int)), tuple(np.round(b).astype(int)), 255,
                 max(1, int(round(k.crease_width * s))))
    r = max(1, int(round(k.dilate * s)))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    # Between the inner corners the lips close over the opening; past them (the dark corners of a broad
    # smile, the creases) lie skin and the lips' ends, filled from around (lip pixels stretched there
    # made the closed mouth read about 4 % wider to dlib).
    xl, xr = p[T.INNER_CORNERS[0], 0], p[T.INNER_CORNERS[1], 0]
    cols = (np.arange(mask.shape[1]) + 0.5)[None, :]
    between = (cols >= min(xl, xr)) & (cols <= max(xl, xr))
    lips_part = np.where(between, mask, 0).astype(np.uint8)
    stretched, alpha = _stretch_lips(image, lips_part, p, k)
    corners = np.where(between, 0, mask).astype(np.uint8)
    if corners.any():
        # Inpainted with the whole opening masked, so the corners take nothing of the teeth or the dark.
        stretched = np.where(corners[..., None] > 0, cv2.inpaint(image, mask, max(2, 2 * r), cv2.INPAINT_TELEA),
                             stretched)
    alpha = np.maximum(mask.astype(np.float32) / 255.0, alpha)
    alpha = np.maximum(alpha, cv2.GaussianBlur(alpha, (0, 0), sigmaX=k.feather_along * k.feather_px, sigmaY=k.feather_px))[..., None]
    return np.clip(image * (1 - alpha) + stretched * alpha + 0.5, 0, 255).astype(np.uint8)


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
        # The portrait's own opening, found once: closed by its lips here, its interior kept for the frames.
        opening = opening_mask(image, face.points, face.interocular) if mouth_is_open(face) else None
        own = None if opening is None else PortraitTeeth.from_portrait(image, face.landmarks, opening > 0,
                                                                         face.interocular)
        filled = fill_open_mouth(image, face, opening=opening)
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
        self.style.own = own
        self.texture = TextureLayers(image, face)
        self.eyes = Eyes(image, face.landmarks)
        if self.eyes.whites is not None:
            # Teeth take the colour of the whites of the eyes in the same light (yellowed on an old
            # painting, grey on a black-and-white photo) at the brightness the mouth model gives them
            # from the skin's light (the whites measure darker: lids and brows shade them).
            self.style.teeth = tinted_like(self.style.teeth, self.eyes.whites)

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
