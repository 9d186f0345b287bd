"""Mouth interior: what shows between the parted lips (teeth rows, tongue, oral darkness).

Drawn per pixel column between the warped inner-lip contours, in the portrait's own lighting:
upper teeth whenever the lips part (hanging from the upper lip line, with inter-tooth gaps, shading
towards the corners and the gum line), lower teeth on stretched or depressed lips (AU20, AU16, wide
jaw), a tongue low in the mouth, and a back-of-mouth darkness that lifts as the mouth opens wider;
on a soft or upscaled photo, blurred as much as the photo is.

The tuned sizes, shades and thresholds are the fields of :class:`MouthConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import topology as T
from ..face.model import skin_colour
from .curves import pchip
from .grain import Grain, chroma_scale, grain_sigma, to_palette
from .raster import clip_box, composite, polygon_mask
from .sharpness import edge_blur_sigma


@dataclass(frozen=True)
class MouthConfig:
    """Tuned constants of the mouth interior and the closed-lip seam.

    Lengths in "iu" are interocular units (multiples of the face's interocular distance, so they scale
    with the face); "px" are pixels of the frame; shades and shares are unitless factors on a colour.
    """

    # Colours from the portrait (:meth:`MouthStyle.from_portrait`).
    luma: tuple[float, float, float] = (0.299, 0.587, 0.114)
    """RGB weights of luminance (ITU-R BT.601), to measure the skin's light level."""
    light_ref: float = 165.0
    """Skin luminance (grey level 0-255) of a typically lit face, where the light level is 1."""
    light_min: float = 0.35
    """Lowest light level (unitless)."""
    light_max: float = 1.35
    """Highest light level (unitless)."""
    teeth_rgb: tuple[float, float, float] = (226.0, 220.0, 204.0)
    """Lit tooth colour at light level 1 (RGB, 0-255): a warm off-white."""
    teeth_light_floor: float = 0.5
    """Share of the tooth colour kept at light level 0 (unitless)."""
    teeth_light_gain: float = 0.45
    """Share of the tooth colour added per unit of light level (unitless)."""
    teeth_tint_floor: float = 0.85
    """Share of the tooth colour that ignores the skin's tint (unitless)."""
    teeth_tint_gain: float = 0.15
    """Share of the tooth colour tinted like the skin (unitless): teeth take a little of the light's colour."""
    cavity_rgb: tuple[float, float, float] = (72.0, 30.0, 30.0)
    """Back-of-mouth colour at light level 1 (RGB, 0-255): a dark red-brown, not black."""
    tongue_rgb: tuple[float, float, float] = (160.0, 82.0, 84.0)
    """Tongue colour at light level 1 (RGB, 0-255)."""
    interior_light_floor: float = 0.6
    """Share of the cavity and tongue colours kept at light level 0 (unitless)."""
    interior_light_gain: float = 0.4
    """Share of the cavity and tongue colours added per unit of light level (unitless)."""

    # Opening.
    min_gap_px: float = 0.6
    """Widest lip gap (px) below which no interior is drawn (the mouth is closed)."""
    soft_above: float = 0.3
    """Portrait blur (px, :attr:`MouthStyle.blur`) from which the interior is drawn as soft as the photo."""
    blur_pad: int = 3
    """Room (in portrait blur sigmas) around the opening for a soft interior's edge to soften into the lips."""
    min_box_w: int = 3
    """Narrowest opening box (px) drawn."""
    min_box_h: int = 2
    """Lowest opening box (px) drawn."""
    corner_round: float = 0.1
    """Share of the mouth's width over which the opening narrows to a rounded point at each inner corner (unitless)."""
    lips_erode: int = 3
    """Side (px) of the kernel eroding the outer-lip mask: the interior stays a pixel inside the outer lip contour."""
    open_full: float = 0.30
    """Opening height (iu) at which the mouth counts as fully open (``open_frac`` = 1)."""

    # Back of the mouth.
    cavity_shade: float = 0.5
    """Cavity brightness (share of its colour) of a barely open mouth (0.35 read as a flat black hole to
    blind raters, issue "Faces that look filmed")."""
    cavity_shade_open: float = 0.3
    """Cavity brightness added at a fully open mouth (unitless): the darkness lifts as the mouth opens wider."""
    cavity_depth: float = 0.45
    """Darkening (share) of the cavity's deepest point, mid-mouth, halfway between the lips."""

    # Tongue.
    tongue_from: float = 0.12
    """Opening (share of ``open_full``) from which the tongue shows, fading in above it."""
    tongue_fade: int = 4
    """Rate (per unit of ``open_frac``) at which the tongue fades in above ``tongue_from``."""
    tongue_dome: float = 0.3
    """Height of the tongue's top above the mouth floor, as a share of the opening, on a barely open mouth."""
    tongue_dome_open: float = 0.15
    """Share of the opening added to that height at a fully open mouth (unitless)."""
    tongue_half_width: float = 0.9
    """Half-width of the tongue as a share of the mouth's half-width (unitless)."""
    tongue_max: float = 0.45
    """Most of the opening (share of its height above the lower lip) the tongue fills in any column."""
    tongue_soft: float = 0.015
    """Width (iu) of the tongue's top edge, where it turns away from the light into the cavity (a
    one-pixel edge read as a pasted pink lozenge)."""
    tongue_edge: float = 0.4
    """Exponent of the tongue's fade towards its sides (unitless; < 1: a body with soft but full sides)."""
    tongue_sheen: float = 0.95
    """Tongue brightness at its top (share of its colour): lit on top, a soft sheen."""
    tongue_back: float = 0.35
    """Darkening (share) of the tongue from its top to its back and the throat."""
    tongue_back_depth: float = 0.12
    """Distance (iu) below the tongue's top over which it darkens."""
    tongue_light: float = 0.55
    """Tongue brightness (share) of a barely open mouth."""
    tongue_light_open: float = 0.45
    """Tongue brightness added at a fully open mouth (unitless)."""

    # Teeth rows.
    tooth_widths: tuple[float, ...] = (0.085, 0.07, 0.06, 0.052, 0.046, 0.04)
    """Widths (iu) of the upper teeth from the central incisor outwards, as seen on the arch."""
    arch_half_width: float = 0.46
    """Half-width (iu) of the dental arch, over which the teeth turn into shadow."""
    arch_mouth_share: float = 1.05
    """Half-width of the lit arch as a share of the mouth's half-width (unitless): teeth end at the corners."""
    arch_corner_exponent: int = 4
    """Exponent of the arch's fall-off at the mouth corners (unitless; steep: teeth are lit nearly to the corners)."""
    seam_depth: float = 0.1
    """Darkness of the gaps between teeth at full strength (unitless; also scales the notches of the edges)."""
    seam_dark: int = 3
    """Gain (unitless) of the gaps' darkening: at full strength a gap is ``seam_dark * seam_depth`` darker."""
    seam_open_from: float = 0.05
    """Opening height (iu) from which gaps between teeth show."""
    seam_open_ramp: float = 0.08
    """Opening height (iu) over which the gaps come to full strength above that."""
    seam_tooth_px: float = 4.0
    """Central incisor width (px) from which gaps show (narrower, they alias into a dotted line)."""
    seam_tooth_ramp: float = 6.0
    """Incisor width (px) over which the gaps come to full strength above that."""
    seam_px: float = 0.9
    """Half-width (px) of the dark line between two teeth."""
    seam_exponent: float = 0.6
    """Exponent of that line's profile (unitless; < 1: a thin, sharp line)."""
    tooth_round: float = 0.3
    """Share of each tooth's width, at each side, over which its incisal edge rounds (quarter ellipse)."""
    tooth_shadow: float = 0.8
    """Share of the cavity colour that teeth in shadow take (unitless): warm, not grey."""
    arch_light_floor: float = 0.2
    """Tooth light at the ends of the arch (unitless)."""
    arch_light_gain: float = 0.8
    """Tooth light added mid-arch (unitless)."""
    arch_light_exponent: float = 1.2
    """Exponent of the tooth light along the arch (unitless)."""
    reach_mouth_share: float = 0.85
    """Half-width of the shown teeth, share of the mouth's (unitless): past the canines, the buccal corridor."""
    reach_fade: float = 0.1
    """Distance (iu) over which the teeth fade into that shadow."""
    thin_open: float = 0.07
    """Opening height (iu) below which only the incisal edges show, dimly."""
    thin_floor: float = 0.3
    """Least ``thin`` factor (unitless) of the thinnest opening."""
    thin_light_floor: float = 0.75
    """Tooth light in the thinnest opening (share of the full light)."""
    thin_light_gain: float = 0.25
    """Tooth light added as the opening reaches ``thin_open`` (unitless)."""
    row_taper_floor: float = 0.6
    """Share of a row's height left where the teeth turn away at the corners (unitless)."""
    row_taper_gain: float = 0.4
    """Share of a row's height added where the teeth are fully shown (unitless)."""
    upper_row_share: float = 0.6
    """Height of the upper row as a share of the opening (unitless)."""
    upper_row_max: float = 0.12
    """Greatest height (iu) of the upper row."""
    min_row_px: float = 2.5
    """Shortest upper tooth row (px; less in a thinner opening): a one-pixel row under the lip read as a grey line."""
    min_row_share: float = 0.35
    """Largest share of a thin opening the upper row's pixel floor may take (unitless)."""
    upper_notch: float = 0.02
    """Depth (iu) of the upper teeth's rounded incisal edges at full gap strength."""
    notch_max: float = 0.3
    """Largest share of a row's height the notches may take (unitless)."""
    upper_reach_ramp: float = 0.12
    """Reach (unitless) over which the upper row fades in from the corners."""
    gum_depth: float = 0.035
    """Depth (iu) of the shadow under the upper lip on the upper teeth (the gum line)."""
    gum_shadow: float = 0.65
    """Tooth light at the upper lip's edge (share)."""
    gum_light: float = 0.35
    """Tooth light added below that shadow (unitless)."""
    lower_open_from: float = 0.04
    """Opening height (iu) from which a lower row shows (none in a slit)."""
    lower_open_ramp: float = 0.08
    """Opening height (iu) over which the lower row comes to full visibility above that."""
    lower_min: float = 0.05
    """Least visibility (unitless) of a lower row that is drawn."""
    lower_row_share: float = 0.3
    """Height of the lower row as a share of the opening (unitless; no pixel floor, see docs/tuning-history.md)."""
    lower_row_max: float = 0.06
    """Greatest height (iu) of the lower row."""
    lower_narrowing: tuple[float, ...] = (0.62, 0.68, 0.8, 0.9, 1.0, 1.0)
    """Width of each lower tooth as a share of the upper one (unitless): lower incisors are narrower."""
    lower_notch: float = 0.015
    """Depth (iu) of the lower teeth's rounded incisal edges at full gap strength."""
    lower_reach_ramp: float = 0.15
    """Reach (unitless) over which the lower row fades in from the corners."""
    lower_fade: float = 0.3
    """Visibility (unitless) below which the lower row also fades in opacity."""
    lower_light: float = 0.82
    """Light on the lower row (share of the upper row's): a little deeper in shadow (much darker read as a grey rim)."""

    # The portrait's own teeth (:class:`PortraitTeeth`).
    own_open_min: float = 0.05
    """Area (iu squared) inside the portrait's inner lip contour from which its own interior (teeth,
    tongue) is shown instead of drawn teeth. On the fixtures open smiles measure 0.068-0.115, closed or
    parted lips under 0.01; the Vermeer girl's barely parted lips (0.04) showed their dark slit as a
    hole, and dlib judged her p/b/m closures open (0 of 3 videos, 2 of 3 with the drawn teeth)."""
    own_teeth_soft_px: float = 0.7
    """Blur sigma (px) that smooths the outline of the portrait's opening."""
    own_split_fade: float = 0.02
    """Distance (iu) over which the upper (skull) and lower (jaw) parts of the portrait's interior fade
    into each other at their split."""

    # Inner lip shadow.
    lip_shadow_px: float = 2.0
    """Width (px) of the soft shadow the inner lip edges cast on what is behind them."""
    lip_shadow_dark: float = 0.8
    """Brightness (share) right at the inner lip edges."""
    lip_shadow_light: float = 0.2
    """Brightness added away from them (unitless)."""

    # Seam between closed lips (:func:`draw_lip_line`).
    seam_open_fade: float = 0.05
    """Lip gap (iu) over which the seam fades out as the lips part."""
    seam_margin: float = 0.06
    """Margin (iu) of the seam's box around the lips' midline."""
    seam_min_box: int = 3
    """Smallest side (px) of a seam box that is drawn."""
    seam_samples: int = 25
    """Points on the seam's smoothed curve."""
    seam_smooth: tuple[float, float, float] = (0.25, 0.5, 0.25)
    """Weights (unitless) of the binomial smoothing of the seam's points (irons out the contours' zigzag)."""
    seam_smooth_passes: int = 3
    """Times that smoothing is applied (once left a zigzag that read as a drawn line on large faces)."""
    seam_mid_strength: float = 0.55
    """Seam darkness mid-mouth (share of its darkness towards the corners)."""
    seam_corner_gain: float = 0.45
    """Seam darkness added towards the corners (unitless)."""
    seam_end: float = 0.08
    """Share of the half-mouth (unitless) before each corner over which the seam fades out: it ends within the lips."""
    seam_width: float = 0.012
    """Line width (iu) of the seam, at least a pixel."""
    seam_blur_min: float = 0.6
    """Least blur sigma (px) of the seam."""
    seam_blur: float = 0.006
    """Blur sigma (iu) of the seam."""
    seam_darkness: float = 0.45
    """Blend towards black at full seam strength (unitless)."""


MOUTH = MouthConfig()
"""The default mouth constants."""

_SUBPIXEL = 16
"""Fixed-point scale of vertices handed to OpenCV's drawing with ``shift=4`` (1/16 px)."""


@dataclass
class MouthStyle:
    """Colours of the interior, RGB floats in [0, 255], set from the portrait.

    Attributes:
        teeth: lit tooth colour.
        cavity: back-of-mouth colour.
        tongue: tongue colour.
        light: overall light level of the face (1 = typical).
        lip_line: 0..1 strength of a drawn line where closed lips meet; for portraits whose own open
            mouth was filled in, which lost the dark seam between the lips.
        blur: Gaussian sigma (pixels) of the portrait's own blur around the face
            (:func:`emocast.render.sharpness.edge_blur_sigma`); the interior is drawn that soft, so that
            it does not look pasted onto an upscaled or soft photo.
        grain: the portrait's grain (:class:`emocast.render.grain.Grain`), added to the interior so it
            is no smoother than the photo; ``None`` adds none.
        own: the portrait's own interior (:class:`PortraitTeeth`), shown instead of drawn teeth; ``None``
            where it shows none.
    """

    teeth: np.ndarray
    cavity: np.ndarray
    tongue: np.ndarray
    light: float
    lip_line: float = 0.0
    blur: float = 0.0
    grain: Grain | None = None
    own: "PortraitTeeth | None" = None

    @classmethod
    def from_portrait(cls, image: np.ndarray, landmarks: np.ndarray, config: MouthConfig = MOUTH) -> "MouthStyle":
        """Pick colours from the portrait's skin so the interior matches its lighting and palette (a
        black-and-white photo gets a grey interior, :func:`emocast.render.grain.to_palette`), and measure
        its blur and grain over the face."""
        k = config
        skin = skin_colour(image, landmarks)
        lum = float(skin @ np.array(k.luma))
        light = float(np.clip(lum / k.light_ref, k.light_min, k.light_max))
        tint = skin / max(skin.mean(), 1.0)
        teeth = np.clip(np.array(k.teeth_rgb) * (k.teeth_light_floor + k.teeth_light_gain * light)
                        * (k.teeth_tint_floor + k.teeth_tint_gain * tint), 0, 255)
        cavity = np.array(k.cavity_rgb) * (k.interior_light_floor + k.interior_light_gain * light)
        tongue = np.array(k.tongue_rgb) * (k.interior_light_floor + k.interior_light_gain * light)
        chroma = chroma_scale(image, landmarks)
        teeth, cavity, tongue = (to_palette(c, chroma) for c in (teeth, cavity, tongue))
        x0, y0 = np.floor(landmarks[:, :2].min(0)).astype(int)
        x1, y1 = np.ceil(landmarks[:, :2].max(0)).astype(int)
        blur = edge_blur_sigma(image, (x0, y0, x1 + 1, y1 + 1))
        interocular = float(np.linalg.norm(landmarks[T.RIGHT_IRIS_CENTRE, :2] - landmarks[T.LEFT_IRIS_CENTRE, :2]))
        return cls(teeth=teeth.astype(np.float32), cavity=cavity.astype(np.float32), tongue=tongue.astype(np.float32),
                   light=light, blur=blur, grain=Grain(grain_sigma(image, landmarks, interocular), blur))


def _smooth(x: np.ndarray) -> np.ndarray:
    return np.clip(x + 0.5, 0.0, 1.0)


def _curve(pts: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """A lip contour's height at columns ``xs``: a smooth monotone cubic (PCHIP) through its points."""
    order = np.argsort(pts[:, 0])
    x, y = pts[order, 0], pts[order, 1]
    keep = np.concatenate([[True], np.diff(x) > 1e-3])
    x, y = x[keep], y[keep]
    if len(x) < 3:
        return np.interp(xs, x, y)
    return pchip(x, y, np.clip(xs, x[0], x[-1]))


def _tooth_profile(dx: np.ndarray, widths: np.ndarray, config: MouthConfig = MOUTH) -> tuple[np.ndarray, np.ndarray]:
    """Where each column falls on a row of teeth of ``widths`` (pixels, central incisor first), at
    distances ``dx`` (pixels) from the midline.

    Returns:
        ``seam``: 0 on the line between two teeth, 1 mid-tooth; ``notch``: how far (0..1) the tooth's
        rounded incisal edge rises above its lowest point, 1 at the gaps and 0 mid-tooth (a
        quarter-ellipse profile over the outer :attr:`MouthConfig.tooth_round` of each tooth). Both
        shaped like ``dx``.
    """
    edges = np.concatenate([[0.0], np.cumsum(widths)])
    k = np.clip(np.searchsorted(edges, dx) - 1, 0, len(widths) - 1)
    w = widths[k]
    frac = np.clip((dx - edges[k]) / w, 0, 1)
    dist = np.minimum(frac, 1 - frac) * w  # pixels to the nearest gap
    seam = np.clip(dist / config.seam_px, 0, 1) ** config.seam_exponent
    r = np.clip(1.0 - dist / (config.tooth_round * w), 0, 1)
    return seam, 1.0 - np.sqrt(1.0 - r ** 2)


def _tooth_colour(style: MouthStyle, lit: np.ndarray, light: float = 1.0, config: MouthConfig = MOUTH) -> np.ndarray:
    """Tooth colour ``(..., 3)`` at light levels ``lit`` (0..1) across the arch: teeth in shadow take the
    warm tint of the mouth around them rather than turning grey. ``light`` scales the lit colour (teeth
    shaded by relaxed lips, :func:`emocast.rig.teeth_light`)."""
    lit = lit[..., None]
    return style.teeth * light * lit + style.cavity * config.tooth_shadow * (1 - lit)


def draw_lip_line(frame: np.ndarray, upper: np.ndarray, lower: np.ndarray, interocular: float,
                  strength: float, config: MouthConfig = MOUTH) -> None:
    """Darken the seam where closed or nearly closed lips meet, in place.

    A soft line along a smoothed curve through the midline of the inner lip contours, darkest towards
    the corners but ending just before them, and fading out as the lips part (the interior drawn by
    :func:`draw_mouth` takes over).

    Args:
        frame: ``uint8 (H, W, 3)`` RGB.
        upper, lower: ``(11, 2)`` inner upper / lower lip contour points, pixels, corner to corner.
        interocular: interocular distance, pixels (sets the line width).
        strength: 0..1.
        config: the seam's constants (``seam_*`` fields).
    """
    k = config
    s = interocular
    mid = 0.5 * (upper + lower)
    gap = np.clip(lower[:, 1] - upper[:, 1], 0, None)
    fade = np.clip(1.0 - gap / (k.seam_open_fade * s), 0, 1)
    if fade.max() <= 0:
        return
    x0, y0 = np.floor(mid.min(0) - k.seam_margin * s).astype(int)
    x1, y1 = np.ceil(mid.max(0) + k.seam_margin * s).astype(int)
    x0, y0, x1, y1 = clip_box(x0, y0, x1, y1, frame.shape)
    if x1 - x0 < k.seam_min_box or y1 - y0 < k.seam_min_box:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    # The seam runs left to right through the midpoints of the inner contours. Near the corners of a
    # mouth closed from a broad smile those points cross and double back, and a polyline through them in
    # contour order drew hooks at the corners: the points are taken in x order instead, and their
    # zigzag (upper and lower points do not face each other across the seam) smoothed out.
    order = np.argsort(mid[:, 0])
    xm, ym, fade = mid[order, 0], mid[order, 1], fade[order]
    xs = np.linspace(xm[0], xm[-1], k.seam_samples)
    ys = np.interp(xs, xm, ym)
    w0, w1, w2 = k.seam_smooth
    for _ in range(k.seam_smooth_passes):
        ys[1:-1] = w0 * ys[:-2] + w1 * ys[1:-1] + w2 * ys[2:]
    fade, mid = np.interp(xs, xm, fade), np.stack([xs, ys], 1)
    rel = np.abs(np.linspace(-1, 1, len(mid)))
    # Darkest towards the corners, then fading out just before them so the seam ends within the lips
    # rather than running on past them as a grey whisker.
    along = (k.seam_mid_strength + k.seam_corner_gain * rel) * np.clip((1 - rel) / k.seam_end, 0, 1)
    width = max(1, int(round(k.seam_width * s)))
    ends = np.round((mid - [x0, y0]) * _SUBPIXEL).astype(int).tolist()
    shade = (strength * (0.5 * (fade[:-1] + fade[1:])) * (0.5 * (along[:-1] + along[1:]))).tolist()
    for i, a in enumerate(shade):
        cv2.line(mask, ends[i], ends[i + 1], a, width, cv2.LINE_AA, shift=4)
    mask = cv2.GaussianBlur(mask, (0, 0), max(k.seam_blur_min, k.seam_blur * s))
    # Blend towards black.
    composite(frame, (x0, y0, x1, y1), np.zeros(3, np.float32), k.seam_darkness * mask[..., None])


@dataclass
class _Opening:
    """The mouth opening of one frame, on the pixel box ``(x0, y0, x1, y1)`` it is drawn in."""

    box: tuple[int, int, int, int]
    xs: np.ndarray  # (w,) pixel-centre x of the box's columns
    ys: np.ndarray  # (h, 1) pixel-centre y of its rows
    yu: np.ndarray  # (1, w) upper inner lip line, pixels (rounded into the corners)
    yl: np.ndarray  # (1, w) lower inner lip line, pixels
    inside: np.ndarray  # (h, w) 0..1 coverage of the opening
    open_h: np.ndarray  # (1, w) opening height, pixels
    width: float  # opening width, pixels
    cx: float  # mouth midline x, pixels
    rel: np.ndarray  # (1, w) -1..1 across the mouth


def _opening(frame_shape, p: np.ndarray, up: np.ndarray, lo: np.ndarray, pad: int,
             k: MouthConfig) -> _Opening | None:
    """The opening between the inner lip contours ``up``/``lo`` (``(11, 2)`` pixels), or ``None`` when
    nothing of it is to be drawn."""
    x0 = int(np.floor(min(up[:, 0].min(), lo[:, 0].min()))) - 1 - pad
    x1 = int(np.ceil(max(up[:, 0].max(), lo[:, 0].max()))) + 2 + pad
    y0 = int(np.floor(up[:, 1].min())) - 1 - pad
    y1 = int(np.ceil(lo[:, 1].max())) + 2 + pad
    x0, y0, x1, y1 = clip_box(x0, y0, x1, y1, frame_shape)
    if x1 - x0 < k.min_box_w or y1 - y0 < k.min_box_h:
        return None
    xs = np.arange(x0, x1) + 0.5
    ys = (np.arange(y0, y1) + 0.5)[:, None]
    yu = _curve(up, xs)[None, :]
    yl = _curve(lo, xs)[None, :]
    # Opening mask, anti-aliased on both lips and clipped between the inner corners, where the lips
    # meet in a rounded point rather than end in a square cut.
    xl, xr = up[:, 0].min(), up[:, 0].max()
    ends = np.sqrt(np.clip(np.minimum(xs - xl, xr - xs) / (k.corner_round * max(xr - xl, 1.0)), 0, 1))[None, :]
    mid, half = 0.5 * (yu + yl), 0.5 * (yl - yu) * ends
    yu, yl = mid - half, mid + half
    inside = _smooth(ys - yu) * _smooth(yl - ys) * _smooth(xs[None, :] - xl) * _smooth(xr - xs[None, :])
    # ... and kept within the outer lip contour, so an inner corner that lags behind a moving outer
    # corner never leaves a trail of dark pixels outside the mouth.
    lips = cv2.erode(polygon_mask(inside.shape, p[T.LIPS_OUTER_RING], (x0, y0)),
                     np.ones((k.lips_erode, k.lips_erode), np.uint8))
    inside = inside * lips
    if inside.max() <= 0:
        return None
    open_h = np.maximum(yl - yu, 0.0)
    width = max(xr - xl, 1.0)
    cx = 0.5 * (p[T.LIP_INNER_TOP, 0] + p[T.LIP_INNER_BOTTOM, 0])
    rel = (xs[None, :] - cx) / (0.5 * width)  # -1..1 across the mouth
    return _Opening((x0, y0, x1, y1), xs, ys, yu, yl, inside, open_h, width, cx, rel)


def _cavity(o: _Opening, style: MouthStyle, open_frac: float, k: MouthConfig) -> np.ndarray:
    """Back of the mouth, ``(h, w, 3)``: dark, lifting towards the lips and as the mouth opens wider."""
    depth = np.clip(1.0 - np.abs(o.rel) ** 2, 0, 1)
    vpos = np.clip((o.ys - o.yu) / np.maximum(o.open_h, 1.0), 0, 1)
    shade = (k.cavity_shade + k.cavity_shade_open * open_frac) * (1.0 - k.cavity_depth * depth * np.sin(np.pi * vpos))
    return style.cavity[None, None, :] * shade[..., None]


def _tongue(img: np.ndarray, o: _Opening, style: MouthStyle, open_frac: float, s: float,
            k: MouthConfig) -> np.ndarray:
    """``img`` with the tongue: a domed body low in the mouth, visible once the jaw has dropped. Its
    top is highest in the middle and meets the lower lip towards the sides (a band that followed the
    lip looked like a second lower lip)."""
    ys, yl, open_h, rel = o.ys, o.yl, o.open_h, o.rel
    floor = float(np.nanmax(yl))
    t_top = floor - open_h.max() * (k.tongue_dome + k.tongue_dome_open * open_frac) \
        * np.clip(1.0 - (rel / k.tongue_half_width) ** 2, 0, 1)
    t_top = np.maximum(t_top, yl - open_h * k.tongue_max)
    soft = max(1.0, k.tongue_soft * s)
    tongue = np.clip((ys - t_top) / soft + 0.5, 0, 1) * np.clip(1.0 - np.abs(rel) / k.tongue_half_width, 0, 1) ** k.tongue_edge
    # Lit on top (a soft sheen), darker towards the back and the throat.
    t_shade = k.tongue_sheen - k.tongue_back * np.clip((ys - t_top) / (k.tongue_back_depth * s), 0, 1)
    a = tongue[..., None] * min(1.0, (open_frac - k.tongue_from) * k.tongue_fade)
    return img * (1 - a) + (style.tongue[None, None, :] * t_shade[..., None]
                            * (k.tongue_light + k.tongue_light_open * open_frac)) * a


def _teeth(img: np.ndarray, o: _Opening, style: MouthStyle, s: float, upper_teeth: float, lower_teeth: float,
           teeth_light: float, k: MouthConfig) -> np.ndarray:
    """``img`` with the rows of teeth. They sit on an arch behind the lips: lit in the middle, in shadow
    towards the corners, where the arch turns away; single teeth (gaps, rounded edges) show on a mouth
    open wide enough to see them."""
    xs, ys, yu, yl, open_h, width = o.xs, o.ys, o.yu, o.yl, o.open_h, o.width
    dx = np.abs(xs - o.cx)
    widths = np.array(k.tooth_widths) * s
    seam, notch_up = _tooth_profile(dx, widths, k)  # seam: dark line between teeth
    arch = np.clip(1.0 - (dx / (k.arch_half_width * s)) ** 2, 0, 1) \
        * np.clip(1.0 - (dx / (0.5 * width * k.arch_mouth_share)) ** k.arch_corner_exponent, 0, 1)
    # Gaps between teeth show on a mouth open wide enough, and only where a tooth spans enough pixels
    # (on a small face they alias into a dotted line).
    seam_k = k.seam_depth * float(np.clip((open_h.max() / s - k.seam_open_from) / k.seam_open_ramp, 0, 1)
                                  * np.clip((widths[0] - k.seam_tooth_px) / k.seam_tooth_ramp, 0, 1))
    light = k.arch_light_floor + k.arch_light_gain * arch ** k.arch_light_exponent
    arch_light = light * (1 - k.seam_dark * seam_k * (1 - seam))
    # How far each column shows teeth: past the canines they turn away into the cheek's shadow (the
    # buccal corridor).
    reach = arch * np.clip((0.5 * width * k.reach_mouth_share - dx) / (k.reach_fade * s), 0, 1)
    # A thin opening shows only the incisal edges, dimly.
    thin = float(np.clip(open_h.max() / (k.thin_open * s), k.thin_floor, 1.0))
    # Rows show less of themselves towards the corners.
    row_taper = (k.row_taper_floor + k.row_taper_gain * reach)[None, :]

    if upper_teeth > 0:
        # Never thinner than a couple of pixels: on a small face a one-pixel row, shaded by the lip
        # above it, showed as a grey line rather than teeth.
        length = np.maximum(np.minimum(open_h * k.upper_row_share, k.upper_row_max * s) * upper_teeth,
                            np.minimum(k.min_row_px, k.min_row_share * open_h)) * row_taper
        # Each tooth's incisal edge is rounded: the row's lower edge dips mid-tooth and notches up at
        # the gaps, once the teeth are long enough to show it.
        notch = k.upper_notch * s * seam_k / k.seam_depth * notch_up
        bottom = yu + length - np.minimum(notch, k.notch_max * length)
        t = _smooth(bottom - ys) * np.clip(reach[None, :] / k.upper_reach_ramp, 0, 1)
        # Shadow under the upper lip.
        gum = np.clip((ys - yu) / (k.gum_depth * s + 1e-6), 0, 1) * k.gum_light + k.gum_shadow
        col = _tooth_colour(style, arch_light[None, :] * gum * (k.thin_light_floor + k.thin_light_gain * thin),
                            teeth_light, k)
        img = img * (1 - t[..., None]) + col * t[..., None]
    # No second row in a slit.
    lower_teeth *= float(np.clip((open_h.max() / s - k.lower_open_from) / k.lower_open_ramp, 0, 1))
    if lower_teeth > k.lower_min:
        # How much of the lower row shows sets its height, not its opacity (a half-transparent row read
        # as a grey rim inside the lower lip).
        length = np.minimum(open_h * k.lower_row_share, k.lower_row_max * s) * lower_teeth * row_taper
        narrow = widths * np.array(k.lower_narrowing)  # lower incisors are narrower
        seam_lo, notch_lo = _tooth_profile(dx, narrow, k)
        notch = k.lower_notch * s * seam_k / k.seam_depth * notch_lo
        top = yl - length + np.minimum(notch, k.notch_max * length)
        t = _smooth(ys - top) * np.clip(reach[None, :] / k.lower_reach_ramp, 0, 1) \
            * min(1.0, lower_teeth / k.lower_fade)
        # The lower row sits a little deeper in the mouth's shadow, under the upper row's edge (much
        # darker, it read as a grey rim rather than teeth).
        col = _tooth_colour(style, (k.lower_light * light * (1 - k.seam_dark * seam_k * (1 - seam_lo)))[None, :],
                            teeth_light, k)
        img = img * (1 - t[..., None]) + col * t[..., None]
    return img


def _paint(frame: np.ndarray, o: _Opening, img: np.ndarray, style: MouthStyle, soft: bool) -> None:
    """Composite the interior ``img`` into ``frame`` over the opening, as soft as the photo when ``soft``."""
    grain = style.grain.add if style.grain is not None else (lambda c, box: c)
    if not soft:
        composite(frame, o.box, grain(img, o.box), o.inside[..., None])
        return
    # As soft as the photo: the interior is blurred with the portrait's own blur, as its camera (or
    # upscaling) would have blurred a real mouth, as a layer (colour premultiplied by coverage, both
    # blurred) so that nothing of the warped frame underneath shows through it.
    a = cv2.GaussianBlur(o.inside, (0, 0), style.blur)[..., None]
    colour = cv2.GaussianBlur(img * o.inside[..., None], (0, 0), style.blur) / np.maximum(a, 1e-4)
    composite(frame, o.box, grain(colour, o.box), a)


SKULL_POINT = T.NOSE_BRIDGE[1]
"""Landmark that moves with the skull (the upper teeth): the nose bridge between the eyes."""


@dataclass
class PortraitTeeth:
    """The portrait's own mouth interior (its teeth, tongue and dark), shown in frames instead of drawn
    teeth: the upper part moves with the skull, the lower with the jaw (issue "Faces that look filmed":
    "where the portrait shows teeth, the video shows those teeth").

    Attributes:
        box: ``(x0, y0, x1, y1)`` pixel box of the portrait's opening.
        pixels: ``float32 (h, w, 3)`` the portrait's RGB pixels in ``box``, as photographed.
        upper, lower: ``float32 (h, w)`` 0..1 coverage of the opening's upper and lower halves.
        skull, jaw: ``(2,)`` the portrait's :data:`SKULL_POINT` and chin, pixels.
        lip_edges: ``(2, 2)`` the portrait's inner upper and lower lip midpoints, pixels.
    """

    box: tuple[int, int, int, int]
    pixels: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    skull: np.ndarray
    jaw: np.ndarray
    lip_edges: np.ndarray

    @classmethod
    def from_portrait(cls, image: np.ndarray, landmarks: np.ndarray, opening: np.ndarray, interocular: float,
                      config: MouthConfig = MOUTH) -> "PortraitTeeth | None":
        """The interior of the portrait's opening, or ``None`` when the opening is too small to show.

        Args:
            image: ``uint8 (H, W, 3)`` RGB portrait (not yet closed by
                :func:`emocast.render.cpu.fill_open_mouth`).
            landmarks: ``(478, 2+)`` its landmarks, pixels.
            opening: ``bool (H, W)`` its mouth opening.
            interocular: interocular distance, pixels.
            config: the constants (``own_*`` fields).
        """
        k = config
        inner = np.asarray(landmarks[T.LIPS_INNER_RING, :2], np.float32)
        if cv2.contourArea(inner) < k.own_open_min * interocular ** 2 or not opening.any():
            return None
        # The opening's outline smoothed (the thresholded teeth and shadow pixels are ragged), with an
        # anti-aliased edge.
        m = cv2.morphologyEx(opening.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(np.float32)
        m = cv2.GaussianBlur(m, (0, 0), k.own_teeth_soft_px)
        ys, xs = np.nonzero(m > 0.5)
        x0, y0, x1, y1 = xs.min() - 2, ys.min() - 2, xs.max() + 3, ys.max() + 3
        x0, y0, x1, y1 = clip_box(x0, y0, x1, y1, image.shape)
        m = np.clip((m[y0:y1, x0:x1] - 0.5) * 2 + 0.5, 0, 1)
        solid = m > 0.5
        rows = np.arange(y0, y1, dtype=np.float32)[:, None]
        # Each column's opening splits in the middle: above it hangs from the skull, below from the jaw;
        # the split fades over a few pixels so a wider opening shows the dark between the two.
        top = np.where(solid.any(0), np.argmax(solid, 0) + y0, y0)
        bottom = np.where(solid.any(0), y1 - 1 - np.argmax(solid[::-1], 0), y1 - 1)
        mid = 0.5 * (top + bottom)[None, :]
        up = np.clip((mid - rows) / max(1.0, k.own_split_fade * interocular) + 0.5, 0, 1)
        return cls(box=(int(x0), int(y0), int(x1), int(y1)), pixels=image[y0:y1, x0:x1].astype(np.float32),
                   upper=(m * up).astype(np.float32), lower=(m * (1 - up)).astype(np.float32),
                   skull=landmarks[SKULL_POINT, :2].astype(np.float64), jaw=landmarks[T.CHIN, :2].astype(np.float64),
                   lip_edges=landmarks[[T.LIP_INNER_TOP, T.LIP_INNER_BOTTOM], :2].astype(np.float64))

    def _moved(self, a: np.ndarray, shift: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """``a`` (this box's pixels or masks) moved by ``shift`` (px) and sampled over ``box``."""
        x0, y0, x1, y1 = box
        px, py = np.meshgrid(np.arange(x0, x1, dtype=np.float32) - np.float32(shift[0] + self.box[0]),
                             np.arange(y0, y1, dtype=np.float32) - np.float32(shift[1] + self.box[1]))
        return cv2.remap(a, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def paint(self, img: np.ndarray, box: tuple[int, int, int, int], landmarks: np.ndarray) -> np.ndarray:
        """``img`` ``(h, w, 3)``, the drawn interior over ``box``, with the portrait's own lower part moved
        with the jaw and its upper part, in front, moved with the skull, to ``landmarks`` (this frame's).

        Where a lip moves towards the teeth (a smile relaxed, an open mouth closing), the teeth keep the
        share the portrait showed: they go with the lip edge rather than vanish behind it."""
        lips = landmarks[[T.LIP_INNER_TOP, T.LIP_INNER_BOTTOM], :2] - self.lip_edges
        skull = landmarks[SKULL_POINT, :2] - self.skull
        jaw = landmarks[T.CHIN, :2] - self.jaw
        upper = np.array([skull[0], max(skull[1], lips[0, 1])])
        lower = np.array([jaw[0], min(jaw[1], lips[1, 1])])
        for part, shift in ((self.lower, lower), (self.upper, upper)):
            a = self._moved(part, shift, box)[..., None]
            img = img * (1 - a) + self._moved(self.pixels, shift, box) * a
        return img


def draw_mouth(frame: np.ndarray, landmarks: np.ndarray, style: MouthStyle, interocular: float,
               upper_teeth: float = 1.0, lower_teeth: float = 0.0, teeth_light: float = 1.0,
               config: MouthConfig = MOUTH) -> None:
    """Paint the mouth interior of ``frame`` in place.

    Args:
        frame: ``uint8 (H, W, 3)`` RGB, the warped portrait.
        landmarks: ``(478, 2)`` target landmarks of this frame, pixels.
        style: colours from :meth:`MouthStyle.from_portrait`.
        interocular: the face's interocular distance in pixels (sets tooth sizes).
        upper_teeth: 0..1 visibility of the upper row (1 whenever the lips part).
        lower_teeth: 0..1 visibility of the lower row (AU20 stretch, AU16, wide jaw).
        teeth_light: factor on the lit tooth colour, 1 for teeth bared to the light, less for teeth in
            the shade of relaxed lips (:func:`emocast.rig.teeth_light`).
        config: the drawing's constants.
    """
    k = config
    p = landmarks[:, :2].astype(np.float64)
    up = p[T.LIPS_INNER_UPPER]
    lo = p[T.LIPS_INNER_LOWER]
    gap = lo[1:-1, 1] - up[1:-1, 1]
    if style.lip_line > 0:
        draw_lip_line(frame, up, lo, interocular, style.lip_line, k)
    if gap.max() < k.min_gap_px:
        return
    soft = style.blur >= k.soft_above
    pad = int(np.ceil(k.blur_pad * style.blur)) if soft else 0  # room for the interior's edge to soften into the lips
    o = _opening(frame.shape, p, up, lo, pad, k)
    if o is None:
        return
    s = interocular
    open_frac = float(np.clip(o.open_h.max() / (k.open_full * s), 0, 1))
    img = _cavity(o, style, open_frac, k)
    if open_frac > k.tongue_from:
        img = _tongue(img, o, style, open_frac, s, k)
    if style.own is not None:
        img = style.own.paint(img, o.box, p)
    else:
        img = _teeth(img, o, style, s, upper_teeth, lower_teeth, teeth_light, k)
    # Inner lip edges cast a soft shadow on what is behind them.
    edge = np.clip((o.ys - o.yu) / k.lip_shadow_px, 0, 1) * np.clip((o.yl - o.ys) / k.lip_shadow_px, 0, 1)
    img = img * (k.lip_shadow_dark + k.lip_shadow_light * edge[..., None])
    _paint(frame, o, img, style, soft)
