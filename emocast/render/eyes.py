"""Eyeballs behind widened lids: the iris keeps its round shape and white shows above it.

The mesh warp moves the eyelids with their landmarks and stretches whatever lies between them, so a
raised upper lid (AU5, surprise and fear) used to pull the iris into a tall oval. Here each eye's
eyeball is rebuilt once from the portrait (sclera colour, the iris as seen, its hidden top completed
from its lower half by mirror symmetry) and, on frames where the lids open wider than in the portrait,
painted into the new opening unstretched, centred on the tracked iris, under a soft shadow of the
upper lid. The band just under the upper lid keeps the warped lid margin and lashes.

Method: the same "interior drawn afresh behind the moving lids" idea as the mouth
(:mod:`emocast.render.mouth`); sclera exposure above the iris is the upper-lid raiser's (AU5)
appearance change in FACS (Ekman & Friesen 1978).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import topology as T
from .raster import clip_box, composite, polygon_mask


@dataclass(frozen=True)
class EyesConfig:
    """Tuned constants of the eyeball textures and their drawing (:class:`Eyes`).

    "r" is the iris radius in the portrait (pixels), the unit of most sizes here; colours are RGB grey
    levels 0-255; shades and shares are unitless factors.
    """

    min_iris_radius: float = 1.5
    """Smallest iris radius (px) for which an eyeball is rebuilt (smaller eyes are left to the warp)."""
    min_eye_width: int = 6
    """Narrowest eye (px, corner to corner) for which an eyeball is rebuilt."""
    min_eye_area: int = 4
    """Smallest eye opening (px²) for which an eyeball is rebuilt."""
    box_eye_margin: float = 0.25
    """Margin of the texture box around the eye, as a share of the eye's width."""
    box_iris_margin: int = 2
    """Further margin of the texture box, in iris radii."""
    min_box: int = 4
    """Smallest side (px) of a texture box."""
    lid_clearance: int = 4
    """Height (r) above the upper lid line of the region counted as the upper lid."""
    lash_band: float = 0.35
    """Depth (r) of the margin under the upper lid whose lashes and shadow belong to the lid, not the eyeball."""
    min_lash_kernel: int = 3
    """Smallest side (px) of the kernel that widens the lid into that margin."""
    seen_threshold: float = 0.9
    """Coverage (0..1) above which a pixel counts as showing the eyeball."""
    white_clearance: float = 1.2
    """Least distance (r) from the iris centre of pixels sampled as the white of the eye."""
    white_sat_penalty: float = 1.5
    """Weight (unitless) of a pixel's saturation against its brightness when picking the whitest pixels."""
    min_white_px: int = 6
    """Fewest white pixels from which the sclera brightness is measured."""
    white_quantile: float = 0.6
    """Quantile of the whiteness score above which pixels give the sclera brightness (the whitest 40 %)."""
    sclera_fallback: float = 190.0
    """Sclera grey level when too few white pixels show."""
    outside_threshold: float = 0.05
    """Coverage (0..1) below which a pixel counts as outside the eye opening (the skin around it)."""
    skin_lum_fallback: float = 150.0
    """Skin grey level when no pixel around the eye shows."""
    sclera_share: float = 0.92
    """Share of the measured white's brightness kept (unitless)."""
    sclera_skin_share: float = 0.85
    """Least sclera brightness as a share of the skin's: whites are rarely darker than the skin in the same light."""
    sclera_untinted: float = 0.5
    """Share of the sclera colour that is neutral grey (unitless)."""
    sclera_tint: float = 0.5
    """Share tinted by the light falling on the face (unitless: warm light makes warm whites)."""
    ball_corner_shade: float = 0.8
    """Brightness of the ball at the eye corners (share): a ball lit from the front."""
    ball_centre_light: float = 0.2
    """Brightness added mid-eye (unitless)."""
    min_iris_px: int = 3
    """Fewest visible iris pixels from which its mean colour is measured."""
    iris_fallback_rgb: tuple[float, float, float] = (70.0, 55.0, 45.0)
    """Iris colour (RGB) when too little of it shows: a mid brown."""
    seen_blur: float = 0.7
    """Blur sigma (px) of the edge between the eyeball as seen and the rebuilt part."""
    widen_from: float = 1.06
    """Eye opening area, as a share of the portrait's, above which the eyeball is drawn."""
    widen_ramp: float = 0.12
    """Share of that area over which the drawn eyeball fades in (no pop between frames)."""
    draw_pad: int = 2
    """Margin (px) of the drawing box around the eye opening."""
    min_draw_box: int = 3
    """Smallest side (px) of a drawing box."""
    lid_band: float = 0.3
    """Depth (r) of the band under the upper lid line that keeps the warped lid margin and lashes."""
    edge_blur_min: float = 0.7
    """Least blur sigma (px) of the drawn eyeball's edge."""
    edge_blur: float = 0.12
    """Blur sigma (r) of the drawn eyeball's edge (the lower lid's rim and the corners stay the warp's)."""
    lid_shadow: float = 0.22
    """Darkening (share) of the ball right under the upper lid."""
    lid_shadow_depth: float = 0.5
    """Decay length (r) of that shadow downwards."""
    rim_shadow: float = 0.2
    """Darkening (share) of the ball along the whole rim of the opening."""
    rim_shadow_depth: float = 0.35
    """Decay length (r) of that shadow inwards."""


EYES = EyesConfig()
"""The default eye constants."""

_EYES = (
    (T.RIGHT_EYE_CORNERS, T.RIGHT_EYE_UPPER, T.RIGHT_EYE_LOWER),
    (T.LEFT_EYE_CORNERS, T.LEFT_EYE_UPPER, T.LEFT_EYE_LOWER),
)
_OTHER_CORNER = 1 + len(T.RIGHT_EYE_UPPER)
"""Position of the second corner in :func:`eye_ring`'s contour (after the first corner and the upper lid)."""
_UPPER_LID = slice(0, _OTHER_CORNER + 1)
"""The upper lid line in :func:`eye_ring`'s contour, corner to corner."""


def eye_ring(points: np.ndarray, corners, upper, lower) -> np.ndarray:
    """Closed eye-opening contour ``(16, 2)``: corner, upper lid, other corner, lower lid back."""
    idx = [corners[0], *upper, corners[1], *lower[::-1]]
    return points[idx, :2]


def _area(poly: np.ndarray) -> float:
    return float(cv2.contourArea(poly.astype(np.float32)))


@dataclass
class _Eyeball:
    contour: tuple  # (corners, upper lid, lower lid) landmark indices of this eye's opening
    iris: list[int]  # its iris landmarks (centre first)
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the texture in the portrait
    texture: np.ndarray  # float32 (h, w, 3) eyeball, sclera + iris
    centre: np.ndarray  # iris centre in the portrait, pixels
    radius: float  # iris radius, pixels
    area: float  # source opening area, pixels²


class Eyes:
    """Per-portrait eyeball textures; :meth:`draw` paints them into widened eye openings.

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait.
        landmarks: ``(478, 2+)`` MediaPipe landmarks of the portrait, pixels (iris points 468-477).
        config: the eyes' constants.

    Attributes:
        whites: ``float32 (3,)`` RGB of the whites of the eyes as measured in this light (the mean over
            the rebuilt eyes), or ``None`` where no eye was rebuilt.
    """

    def __init__(self, image: np.ndarray, landmarks: np.ndarray, config: EyesConfig = EYES):
        k = self.config = config
        self.eyes: list[_Eyeball] = []
        whites = []
        p = np.asarray(landmarks, np.float64)[:, :2]
        for contour in _EYES:
            ring = eye_ring(p, *contour)
            # MediaPipe's "right"/"left" iris naming differs between versions: take the nearer one.
            iris_idx = min((T.RIGHT_IRIS, T.LEFT_IRIS), key=lambda q: float(np.linalg.norm(p[q[0]] - ring.mean(0))))
            c = p[iris_idx[0]]
            r = float(np.mean(np.linalg.norm(p[iris_idx[1:]] - c, axis=1)))
            eye_w = float(np.linalg.norm(ring[0] - ring[_OTHER_CORNER]))
            if r < k.min_iris_radius or eye_w < k.min_eye_width or _area(ring) < k.min_eye_area:
                continue
            m = k.box_eye_margin * eye_w + k.box_iris_margin * r
            x0, y0 = np.floor(np.minimum(ring.min(0), c - r) - m).astype(int)
            x1, y1 = np.ceil(np.maximum(ring.max(0), c + r) + m).astype(int)
            x0, y0, x1, y1 = clip_box(x0, y0, x1, y1, image.shape)
            if x1 - x0 < k.min_box or y1 - y0 < k.min_box:
                continue
            texture, sclera = self._texture(image, ring, c, r, (x0, y0, x1, y1), k)
            self.eyes.append(_Eyeball(contour, iris_idx, (x0, y0, x1, y1), texture, c, r, _area(ring)))
            whites.append(sclera)
        self.whites = np.mean(whites, axis=0).astype(np.float32) if whites else None

    @staticmethod
    def _texture(image, ring, c, r, box, k: EyesConfig = EYES) -> np.ndarray:
        x0, y0, x1, y1 = box
        src = image[y0:y1, x0:x1].astype(np.float32)
        h, w = src.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        xs += x0 + 0.5
        ys += y0 + 0.5
        opening = polygon_mask((h, w), ring, (x0, y0))
        # What the portrait shows of the eyeball: the opening less a margin under the upper lid, whose
        # lashes and shadow belong to the lid.
        lid = [0, -k.lid_clearance * r]
        upper = polygon_mask((h, w), np.concatenate([ring[_UPPER_LID], ring[_OTHER_CORNER:_OTHER_CORNER + 1] + lid,
                                                     ring[0:1] + lid]), (x0, y0))
        kernel = max(k.min_lash_kernel, int(k.lash_band * r) * 2 + 1)
        shadow_band = cv2.dilate((upper > 0.5).astype(np.uint8), np.ones((kernel,) * 2, np.uint8))
        seen = opening * (1 - shadow_band.astype(np.float32))
        seen = cv2.erode(seen, np.ones((3, 3), np.uint8))  # one pixel in from the lids
        d = np.hypot(xs - c[0], ys - c[1])
        in_iris = d < r
        # Sclera brightness: the whitest visible pixels (bright, unsaturated); its colour is not taken from
        # them (lashes, lids and compression blur tint a few pixels) but from the light on the face.
        white = (seen > k.seen_threshold) & (d > k.white_clearance * r)
        sat = src.max(-1) - src.min(-1)
        score = src.mean(-1) - k.white_sat_penalty * sat
        if white.sum() >= k.min_white_px:
            cut = np.quantile(score[white], k.white_quantile)
            sclera = np.median(src[white & (score >= cut)], axis=0)
        else:
            sclera = np.full(3, k.sclera_fallback)
        # ... tinted by the light falling on the face (warm light makes warm whites).
        around = src[opening < k.outside_threshold]
        tint = around.mean(0) / max(float(around.mean()), 1.0) if len(around) else np.ones(3)
        # Whites are rarely darker than the skin around them in the same light (small, shadowed or
        # blurred eyes give too few clean pixels).
        skin_lum = float(np.median(around.mean(-1))) if len(around) else k.skin_lum_fallback
        sclera = max(k.sclera_share * float(sclera.mean()), k.sclera_skin_share * skin_lum) \
            * (k.sclera_untinted + k.sclera_tint * tint)
        sclera = np.clip(sclera, 0, 255)
        # A ball lit from the front: darker towards the corners.
        eye_cx = float(ring[:, 0].mean())
        half = max(float(np.ptp(ring[:, 0])) / 2, 1.0)
        ball = sclera[None, None, :] \
            * (k.ball_corner_shade + k.ball_centre_light * np.clip(1 - ((xs - eye_cx) / half) ** 2, 0, 1))[..., None]
        # The iris as seen, its hidden part mirrored from below the centre (irises are near radially
        # symmetric); what neither shows gets the iris' mean colour.
        iris_seen = in_iris & (seen > k.seen_threshold)
        mean_iris = src[iris_seen].mean(0) if iris_seen.sum() >= k.min_iris_px else np.array(k.iris_fallback_rgb)
        my = np.clip(np.round(2 * c[1] - ys - y0 - 0.5), 0, h - 1).astype(int)
        mx = np.clip(np.round(xs - x0 - 0.5), 0, w - 1).astype(int)
        mirror_ok = (seen[my, mx] > k.seen_threshold)[..., None]
        iris_col = np.where(seen[..., None] > k.seen_threshold, src,
                            np.where(mirror_ok, src[my, mx], mean_iris[None, None, :]))
        a_iris = np.clip(r + 0.5 - d, 0, 1)[..., None]
        tex = ball * (1 - a_iris) + iris_col * a_iris
        # Where the eyeball was seen, keep it as it was (sclera veins, reflections, shading).
        a_seen = cv2.GaussianBlur(seen, (0, 0), k.seen_blur)[..., None]
        return tex * (1 - a_seen) + src * a_seen, sclera

    def draw(self, frame: np.ndarray, landmarks: np.ndarray) -> None:
        """Paint eyeballs into the eye openings of ``frame`` that are wider than the portrait's, in place.

        Args:
            frame: ``uint8 (H, W, 3)`` RGB, the warped portrait.
            landmarks: ``(478, 2)`` target landmarks of this frame, pixels.
        """
        cfg = self.config
        p = np.asarray(landmarks, np.float64)[:, :2]
        for eye in self.eyes:
            ring = eye_ring(p, *eye.contour)
            # Fade in with the widening, so there is no pop between frames.
            k = float(np.clip((_area(ring) / eye.area - cfg.widen_from) / cfg.widen_ramp, 0, 1))
            if k <= 0:
                continue
            shift = p[eye.iris[0]] - eye.centre
            x0, y0 = np.floor(ring.min(0) - cfg.draw_pad).astype(int)
            x1, y1 = np.ceil(ring.max(0) + cfg.draw_pad).astype(int)
            x0, y0, x1, y1 = clip_box(x0, y0, x1, y1, frame.shape)
            if x1 - x0 < cfg.min_draw_box or y1 - y0 < cfg.min_draw_box:
                continue
            h, w = y1 - y0, x1 - x0
            # The eyeball texture, moved with the iris (a translation: the ball turns with the head).
            M = np.float32([[1, 0, x0 - eye.box[0] - shift[0]], [0, 1, y0 - eye.box[1] - shift[1]]])
            ball = cv2.warpAffine(eye.texture, M, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE)
            opening = polygon_mask((h, w), ring, (x0, y0))
            ys = np.arange(h, dtype=np.float32)[:, None] + y0 + 0.5
            xs = np.arange(w, dtype=np.float32)[None, :] + x0 + 0.5
            lid = np.interp(xs[0], *_upper_curve(ring))[None, :]
            below_lid = ys - lid  # pixels under the upper lid line
            # Keep the warped lid margin (lashes) in a thin band; shade the ball under the lid.
            band = cfg.lid_band * eye.radius
            a = opening * np.clip((below_lid - 0.5 * band) / band, 0, 1)
            # Soft edge: the lower lid's rim and the corners stay the warped portrait's.
            a = cv2.GaussianBlur(cv2.erode(a, np.ones((3, 3), np.uint8)), (0, 0),
                                 max(cfg.edge_blur_min, cfg.edge_blur * eye.radius)) * k
            # The lids shade the ball along the whole rim, the upper one most.
            rim = cv2.distanceTransform((opening > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
            lid_depth = cfg.lid_shadow_depth * eye.radius
            shade = (1.0 - cfg.lid_shadow * np.exp(-np.clip(below_lid, 0, None) / lid_depth)) \
                * (1.0 - cfg.rim_shadow * np.exp(-rim / (cfg.rim_shadow_depth * eye.radius)))
            ball = ball * shade[..., None]
            composite(frame, (x0, y0, x1, y1), ball, a[..., None])


def _upper_curve(ring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of the upper lid line (corner to corner), sorted by x, for interpolation."""
    up = ring[_UPPER_LID]
    order = np.argsort(up[:, 0])
    return up[order, 0], up[order, 1]
