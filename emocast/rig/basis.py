"""FACS action units as landmark displacement fields on MediaPipe's 478-point mesh.

Each action unit (Ekman & Friesen, FACS 1978) is a smooth displacement of the landmarks at full
activation, written in face-normalised units (1 = interocular distance, x to the image right, y down)
around the face's own anatomy (brows, lids, lip contours), so one table serves every face. Frame
displacements are linear blends of these fields (EMFACS-style prototypes in :mod:`emocast.emotion.aus`).

The shapes' amplitudes and Gaussian falloffs are the fields of :class:`BasisConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..face import topology as T
from ..face.model import FaceModel
from .units import AU_INDEX, AU_NAMES


@dataclass(frozen=True)
class BasisConfig:
    """Tuned shapes of the action-unit fields of :func:`au_basis`.

    Lengths are face-normalised (interocular units, "iu"); amplitudes are displacements at full
    activation; sigmas are the standard deviations of Gaussian falloffs around an anatomical point;
    weights are unitless shares of a region's full displacement.
    """

    # Face regions shared by several units.
    brow_zone_offset: float = 0.02
    """How far above the iris line (iu) the brow region starts, so brow units leave the lids alone."""
    brow_zone_ramp: float = 0.08
    """Height (iu) over which the brow region fades in above that line (a soft edge)."""
    jaw_edge: float = 0.03
    """Logistic width (iu) of the jaw region's edge at the lip line (what lies below it goes with the jaw)."""
    jaw_half_width: float = 0.95
    """Half-width (iu) of the jaw region, fading to nothing towards the ears."""
    jaw_ramp_share: float = 0.9
    """Share of the eye-to-chin height over which the jaw's weight ramps from 0 (eye line) to 1 (unitless)."""
    lens_floor: float = 0.06
    """Least opening weight at the mouth corners (unitless): the lips stay joined there (~0.1 after the exponent)."""
    lens_exponent: float = 0.8
    """Exponent of the lens-shaped opening across the mouth (unitless; < 1: pointed ends, like a real lip opening)."""
    under_lip_sigma: float = 0.05
    """Falloff (iu) of the skin under the lower lip that follows it (else the thin triangles between them fold)."""
    over_lip_sigma: float = 0.04
    """Falloff (iu) of the skin over the upper lip that follows it."""

    # AU1 inner brow raiser, AU2 outer brow raiser.
    au1_sigma: float = 0.16
    """AU1: falloff (iu) around each inner brow end."""
    au1_rise: float = 0.11
    """AU1: upward displacement (iu) of the inner brows."""
    au2_sigma: float = 0.18
    """AU2: falloff (iu) around each outer brow end."""
    au2_rise: float = 0.10
    """AU2: upward displacement (iu) of the outer brows."""
    # AU4 brow lowerer.
    au4_sigma: float = 0.2
    """AU4: falloff (iu) around the inner brow ends and the brow centres."""
    au4_brow_share: float = 0.5
    """AU4: weight of the whole brows relative to their inner ends (unitless; strongest at the inner ends)."""
    au4_lower: float = 0.08
    """AU4: downward displacement (iu) of the brows."""
    au4_inward: float = 0.045
    """AU4: displacement (iu) of the brows towards the midline (brows drawn together)."""
    au4_lid_share: float = 0.25
    """AU4: share of the brows' lowering that the upper lid margins take (unitless)."""
    au4_lid_outer_share: float = 0.3
    """AU4: share taken by the upper lid skin up to the crease (unitless)."""
    au4_lid_lower: float = 0.025
    """AU4: downward displacement (iu) of the upper lids under the lowered brows (before those shares)."""
    # AU5 upper lid raiser, AU7 lid tightener.
    au5_lid_outer_share: float = 0.5
    """AU5: share of the lid margin's rise that the lid skin up to the crease takes (unitless)."""
    au5_rise: float = 0.04
    """AU5: upward displacement (iu) of the upper lid margins (eyes widen)."""
    au5_lower_lid_drop: float = 0.008
    """AU5: downward displacement (iu) of the lower lids."""
    au7_lower_lid_rise: float = 0.022
    """AU7: upward displacement (iu) of the lower lids (the eye narrows from below)."""
    au7_upper_lid_drop: float = 0.012
    """AU7: downward displacement (iu) of the upper lids."""
    # AU6 cheek raiser.
    au6_cheek_lift: float = 0.1
    """AU6: how far above the cheek landmarks (iu) the raised region is centred (the cheek apple)."""
    au6_sigma: float = 0.2
    """AU6: falloff (iu) around the cheek apples."""
    au6_rise: float = 0.045
    """AU6: upward displacement (iu) of the cheeks."""
    au6_lower_lid_rise: float = 0.02
    """AU6: upward displacement (iu) of the lower lids (the "Duchenne" squint)."""
    # AU9 nose wrinkler.
    au9_alae_sigma: float = 0.09
    """AU9: falloff (iu) around the nose wings."""
    au9_tip_share: float = 0.4
    """AU9: weight of the nose tip relative to the wings (unitless)."""
    au9_tip_sigma: float = 0.08
    """AU9: falloff (iu) around the nose tip."""
    au9_nose_rise: float = 0.035
    """AU9: upward displacement (iu) of the nose wings."""
    au9_lip_rise: float = 0.025
    """AU9: upward displacement (iu) of the upper lip."""
    au9_brow_sigma: float = 0.14
    """AU9: falloff (iu) around the inner brow ends."""
    au9_brow_lower: float = 0.03
    """AU9: downward displacement (iu) of the inner brows."""
    # AU10 upper lip raiser.
    au10_over_lip_share: float = 0.7
    """AU10: share of the upper lip's rise that the skin over it takes (unitless)."""
    au10_middle: float = 1.1
    """AU10: width of the raised middle, as a share of the mouth's half-width (unitless; most at the middle)."""
    au10_corner_floor: float = 0.2
    """AU10: least weight of the rise towards the corners (unitless)."""
    au10_rise: float = 0.06
    """AU10: upward displacement (iu) of the upper lip (bares the upper teeth)."""
    au10_alae_sigma: float = 0.07
    """AU10: falloff (iu) around the nose wings, which rise with the lip."""
    au10_alae_rise: float = 0.015
    """AU10: upward displacement (iu) of the nose wings."""
    # AU12 lip corner puller, AU12R / AU14R its right-side-only variant and the dimpler.
    au12_pull: tuple[float, float] = (0.09, -0.09)
    """AU12: (outward, downward) displacement (iu) of each corner: up and out along the zygomatic line."""
    au12r_pull: tuple[float, float] = (0.08, -0.06)
    """AU12R: (outward, downward) displacement (iu) of the right corner only (contempt)."""
    au14r_pull: tuple[float, float] = (0.035, 0.0)
    """AU14R: (outward, downward) displacement (iu) of the right corner only (dimpler)."""
    au12_sigma: float = 0.13
    """AU12, AU12R, AU14R: falloff (iu) around the mouth corners."""
    # AU15 lip corner depressor.
    au15_sigma: float = 0.12
    """AU15: falloff (iu) around the mouth corners."""
    au15_lower: float = 0.09
    """AU15: downward displacement (iu) of the corners."""
    au15_outward: float = 0.012
    """AU15: outward displacement (iu) of the corners."""
    # AU16 lower lip depressor.
    au16_under_lip_share: float = 0.8
    """AU16: share of the lower lip's drop that the skin under it takes (unitless)."""
    au16_corner_floor: float = 0.15
    """AU16: least weight of the drop towards the corners (unitless; most at the lip's middle)."""
    au16_lower: float = 0.045
    """AU16: downward displacement (iu) of the lower lip (shows the lower teeth)."""
    # AU17 chin raiser.
    au17_chin_lift: float = 0.12
    """AU17: how far above the chin point (iu) the raised region is centred."""
    au17_sigma: float = 0.2
    """AU17: falloff (iu) around that centre."""
    au17_lip_share: float = 0.7
    """AU17: least share of the chin's rise that the lower lip takes (unitless; the pout)."""
    au17_rise: float = 0.035
    """AU17: upward displacement (iu) of the chin."""
    # AU18 lip pucker.
    au18_sigma: float = 0.12
    """AU18: falloff (iu) around the mouth corners."""
    au18_inward: float = 0.10
    """AU18: displacement (iu) of the corners towards the middle."""
    au18_upper_rise: float = 0.008
    """AU18: upward displacement (iu) of the upper lip (lips thrust, slightly fuller)."""
    au18_lower_drop: float = 0.012
    """AU18: downward displacement (iu) of the lower lip."""
    # AU20 lip stretcher.
    au20_sigma: float = 0.13
    """AU20: falloff (iu) around the mouth corners."""
    au20_lower: float = 0.02
    """AU20: downward displacement (iu) of the corners (a little down)."""
    au20_outward: float = 0.085
    """AU20: outward, horizontal displacement (iu) of the corners."""
    # AU23 lip tightener, AU24 lip pressor.
    au23_upper_thin: float = 0.016
    """AU23: downward displacement (iu) of the upper lip's outer contour towards the lip line."""
    au23_lower_thin: float = 0.016
    """AU23: upward displacement (iu) of the lower lip's outer contour towards the lip line."""
    au23_sigma: float = 0.08
    """AU23: falloff (iu) around the mouth corners."""
    au23_inward: float = 0.02
    """AU23: displacement (iu) of the corners towards the middle."""
    au24_body_share: float = 0.5
    """AU24: share of the outer contour's move that the lip bodies inside it take (unitless)."""
    au24_upper_press: float = 0.02
    """AU24: downward displacement (iu) of the upper lip's outer contour."""
    au24_lower_press: float = 0.022
    """AU24: upward displacement (iu) of the lower lip's outer contour."""
    # AU25 lips part.
    au25_over_lip_share: float = 0.5
    """AU25, AU26: share of the upper lip body's move that the skin over it takes (unitless)."""
    au25_inner_upper_rise: float = 0.03
    """AU25: upward displacement (iu) of the upper lip's inner edge (an almond, not a flat-topped crescent)."""
    au25_inner_lower_drop: float = 0.04
    """AU25: downward displacement (iu) of the lower lip's inner edge (the lower lip parts more)."""
    au25_upper_body_rise: float = 0.012
    """AU25: upward displacement (iu) of the rest of the upper lip and the skin over it."""
    au25_under_lip_share: float = 0.8
    """AU25: share of the lower lip body's drop that the skin under it takes (unitless)."""
    au25_lower_body_drop: float = 0.025
    """AU25: downward displacement (iu) of the rest of the lower lip and the skin under it."""
    # AU26 jaw drop.
    au26_drop: float = 0.26
    """AU26: downward displacement (iu) of the lower face with the jaw."""
    au26_inner_upper_rise: float = 0.05
    """AU26: upward displacement (iu) of the upper lip's inner edge (an oval opening, not a laugh's flat-topped D)."""
    au26_upper_body_rise: float = 0.02
    """AU26: upward displacement (iu) of the rest of the upper lip and the skin over it."""
    au26_corner_sigma: float = 0.1
    """AU26: falloff (iu) around the mouth corners."""
    au26_corner_inward: float = 0.015
    """AU26: displacement (iu) of the corners towards the middle (relaxed lips round as the jaw opens)."""
    # AU43 eyes closed.
    au43_lid_share: float = 0.92
    """AU43: share of the lid gap the upper lid margin closes (unitless; with the lower lid's, just short of 1)."""
    au43_lid_outer_share: float = 0.45
    """AU43: share of the lid gap the lid skin up to the crease follows (unitless)."""
    au43_lower_lid_share: float = 0.06
    """AU43: share of the lid gap the lower lid rises to meet the upper one (unitless)."""


BASIS = BasisConfig()
"""The default shapes."""


def _g(u: np.ndarray, c: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-((u - c) ** 2).sum(-1) / (2 * sigma * sigma))


def _near(u: np.ndarray, idx, sigma: float) -> np.ndarray:
    """Gaussian falloff ``(n,)`` of each point's distance to the nearest of the points ``idx``."""
    d2 = ((u[:, None, :] - u[list(idx)][None, :, :]) ** 2).sum(-1).min(1)
    return np.exp(-d2 / (2 * sigma * sigma))


def _onehot(idx, n=T.N_LANDMARKS, w=1.0) -> np.ndarray:
    m = np.zeros(n, np.float32)
    m[list(idx)] = w
    return m


_UP = np.array([0.0, -1.0])
"""Face-normalised "up" (y grows downwards)."""


@dataclass(frozen=True)
class _Regions:
    """The face-normalised landmarks and the weight fields that several action units share."""

    u: np.ndarray
    """Landmarks ``(n, 2)``, face-normalised."""
    mouth: np.ndarray
    """Centre of the inner lip line."""
    rc: np.ndarray
    """Right mouth corner."""
    lc: np.ndarray
    """Left mouth corner."""
    chin: np.ndarray
    """Chin point."""
    above_eyes: np.ndarray
    """Brow region weight ``(n,)``: 1 well above the iris line, fading in over the ramp."""
    upper: np.ndarray
    """One-hot ``(n,)`` of the upper lip."""
    lower: np.ndarray
    """One-hot ``(n,)`` of the lower lip."""
    inner_up: np.ndarray
    """One-hot ``(n,)`` of the upper lip's inner edge (corners excluded)."""
    inner_lo: np.ndarray
    """One-hot ``(n,)`` of the lower lip's inner edge (corners excluded)."""
    below: np.ndarray
    """Weight ``(n,)`` of the face below the lip line (lower lip 1, upper lip 0)."""
    jaw_w: np.ndarray
    """Weight ``(n,)`` of what the jaw carries."""
    across: np.ndarray
    """Distance ``(n,)`` across the mouth: 0 mid-mouth, 1 at a corner."""
    lens: np.ndarray
    """Lens-shaped opening weight ``(n,)`` across the mouth, pointed at the corners."""
    under_lip: np.ndarray
    """Weight ``(n,)`` of the skin under the lower lip that follows it."""
    over_lip: np.ndarray
    """Weight ``(n,)`` of the skin over the upper lip that follows it."""
    upper_body: np.ndarray
    """Weight ``(n,)`` of the upper lip outside its inner edge, and the skin above it."""
    inner_r: np.ndarray
    """Right inner brow end."""
    inner_l: np.ndarray
    """Left inner brow end."""
    lids_up: np.ndarray
    """One-hot ``(n,)`` of the upper lid margins."""
    lids_up_outer: np.ndarray
    """One-hot ``(n,)`` of the upper lid skin up to the crease."""
    lids_lo: np.ndarray
    """One-hot ``(n,)`` of the lower lid margins."""
    ar: np.ndarray
    """Right nose wing."""
    al: np.ndarray
    """Left nose wing."""


def au_basis(face: FaceModel, config: BasisConfig = BASIS) -> np.ndarray:
    """Displacement of every landmark for each action unit at full activation.

    Args:
        face: the analysed portrait.
        config: the units' amplitudes and falloffs.

    Returns:
        ``float32 (n_AU, 478, 2)`` in face-normalised units, order :data:`AU_NAMES`.
    """
    r = _regions(face, config)
    B = np.zeros((len(AU_NAMES), len(r.u), 2), np.float32)
    _brows(B, r, config)
    _lids(B, r, config)
    _cheeks(B, r, config)
    _nose(B, r, config)
    _upper_lip(B, r, config)
    _corners(B, r, config)
    _lower_lip(B, r, config)
    _pucker(B, r, config)
    _stretch(B, r, config)
    _press(B, r, config)
    _parting(B, r, config)
    _jaw(B, r, config)
    _eyes_closed(B, r, config)
    return B


def _regions(face: FaceModel, k: BasisConfig) -> _Regions:
    """The face-normalised landmarks of ``face`` and the weight fields its action units share."""
    u = face.normalised(face.landmarks)
    mouth = 0.5 * (u[T.LIP_INNER_TOP] + u[T.LIP_INNER_BOTTOM])
    rc, lc = u[T.MOUTH_CORNERS[0]], u[T.MOUTH_CORNERS[1]]
    eye_y = 0.5 * (u[T.RIGHT_IRIS_CENTRE, 1] + u[T.LEFT_IRIS_CENTRE, 1])
    chin = u[T.CHIN]
    face_h = float(chin[1] - eye_y)
    above_eyes = np.clip((eye_y - k.brow_zone_offset - u[:, 1]) / k.brow_zone_ramp, 0, 1)
    upper = _onehot(T.UPPER_LIP)
    lower = _onehot(T.LOWER_LIP)
    inner_up = _onehot(T.LIPS_INNER_UPPER[1:-1])
    inner_lo = _onehot(T.LIPS_INNER_LOWER[1:-1])
    # Lower face below the lip line, fading towards the ears: what the jaw carries.
    below = 1.0 / (1.0 + np.exp(-(u[:, 1] - mouth[1]) / k.jaw_edge))
    below = np.where(upper > 0, 0.0, below)
    below = np.where(lower > 0, 1.0, below)
    jaw_w = below * np.clip(1.0 - (np.abs(u[:, 0]) / k.jaw_half_width) ** 2, 0, 1) \
        * np.clip((u[:, 1] - eye_y) / (face_h * k.jaw_ramp_share), 0, 1)
    # Lips part most in the middle and taper to the corners, where they stay joined: the opening is a
    # lens, not a slot with square ends.
    across = np.abs(u[:, 0] - mouth[0]) / (0.5 * abs(lc[0] - rc[0]) + 1e-6)  # 0 mid-mouth, 1 at a corner
    lens = np.clip(1.0 - across ** 2, k.lens_floor, 1.0) ** k.lens_exponent  # pointed ends, like a real lip opening
    jaw_w = np.where(lower > 0, lens, jaw_w)
    jaw_w[T.CHIN] = 1.0
    # Soft tissue next to a lip goes with it: without this falloff the skin just under the lower lip
    # (or over the upper lip) lags behind a lip that moves, and the thin mesh triangles between them fold.
    skin = 1.0 - upper - lower
    under_lip = _near(u, T.LOWER_LIP, k.under_lip_sigma) * skin * (u[:, 1] > mouth[1])
    over_lip = _near(u, T.UPPER_LIP, k.over_lip_sigma) * skin * (u[:, 1] < mouth[1])
    jaw_w = np.maximum(jaw_w, under_lip * lens)
    # The upper lip outside its inner edge, and the skin above it.
    upper_body = (upper - inner_up).clip(0) + k.au25_over_lip_share * over_lip
    return _Regions(
        u=u, mouth=mouth, rc=rc, lc=lc, chin=chin, above_eyes=above_eyes, upper=upper, lower=lower,
        inner_up=inner_up, inner_lo=inner_lo, below=below, jaw_w=jaw_w, across=across, lens=lens,
        under_lip=under_lip, over_lip=over_lip, upper_body=upper_body,
        inner_r=u[T.RIGHT_BROW_INNER].mean(0), inner_l=u[T.LEFT_BROW_INNER].mean(0),
        lids_up=_onehot(T.RIGHT_EYE_UPPER + T.LEFT_EYE_UPPER),
        lids_up_outer=_onehot(T.RIGHT_LID_UPPER_OUTER + T.LEFT_LID_UPPER_OUTER),
        lids_lo=_onehot(T.RIGHT_EYE_LOWER + T.LEFT_EYE_LOWER),
        ar=u[T.NOSE_ALAE[0]], al=u[T.NOSE_ALAE[1]])


def _put(B: np.ndarray, name: str, d: np.ndarray) -> None:
    """Add the displacement ``d`` to action unit ``name``'s field in ``B``."""
    B[AU_INDEX[name]] += d.astype(np.float32)


def _brows(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add the brow units: AU1 inner and AU2 outer brow raisers, AU4 brow lowerer."""
    u, above_eyes, inner_r, inner_l, up = r.u, r.above_eyes, r.inner_r, r.inner_l, _UP
    brows_r, brows_l = u[T.RIGHT_BROW].mean(0), u[T.LEFT_BROW].mean(0)
    outer_r, outer_l = u[T.RIGHT_BROW_OUTER].mean(0), u[T.LEFT_BROW_OUTER].mean(0)
    # AU1 inner brow raiser, AU2 outer brow raiser: brows and forehead above the eyes.
    w = (_g(u, inner_r, k.au1_sigma) + _g(u, inner_l, k.au1_sigma)) * above_eyes
    _put(B, "AU1", w[:, None] * up * k.au1_rise)
    w = (_g(u, outer_r, k.au2_sigma) + _g(u, outer_l, k.au2_sigma)) * above_eyes
    _put(B, "AU2", w[:, None] * up * k.au2_rise)
    # AU4 brow lowerer: brows down and together, strongest at the inner ends.
    w = (_g(u, inner_r, k.au4_sigma) + _g(u, inner_l, k.au4_sigma)
         + k.au4_brow_share * (_g(u, brows_r, k.au4_sigma) + _g(u, brows_l, k.au4_sigma))) * above_eyes
    inward = np.stack([-np.sign(u[:, 0]), np.zeros(len(u))], 1)
    _put(B, "AU4", w[:, None] * (np.array([0.0, k.au4_lower]) + inward * k.au4_inward))


def _lids(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add the lid units: AU4's lowered upper lids, AU5 upper lid raiser, AU7 lid tightener."""
    lids_up, lids_up_outer, lids_lo, up = r.lids_up, r.lids_up_outer, r.lids_lo, _UP
    _put(B, "AU4", (k.au4_lid_share * lids_up + k.au4_lid_outer_share * lids_up_outer)[:, None]
         * np.array([0.0, k.au4_lid_lower]))
    # AU5 upper lid raiser (eyes widen), AU7 lid tightener (narrow from below).
    _put(B, "AU5", (lids_up + k.au5_lid_outer_share * lids_up_outer)[:, None] * up * k.au5_rise)
    _put(B, "AU5", lids_lo[:, None] * np.array([0.0, k.au5_lower_lid_drop]))
    _put(B, "AU7", lids_lo[:, None] * up * k.au7_lower_lid_rise
         + lids_up[:, None] * np.array([0.0, k.au7_upper_lid_drop]))


def _cheeks(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU6 cheek raiser: cheeks and lower lids up (the "Duchenne" squint)."""
    u, up = r.u, _UP
    cr, cl = u[T.CHEEKS[0]], u[T.CHEEKS[1]]
    w = _g(u, cr + [0, -k.au6_cheek_lift], k.au6_sigma) + _g(u, cl + [0, -k.au6_cheek_lift], k.au6_sigma)
    w = w * (1 - r.above_eyes) * (1 - r.upper - r.lower)
    _put(B, "AU6", w[:, None] * up * k.au6_rise + r.lids_lo[:, None] * up * k.au6_lower_lid_rise)


def _nose(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU9 nose wrinkler: nose wings and upper lip up, inner brows down."""
    u, ar, al, up = r.u, r.ar, r.al, _UP
    w = _g(u, ar, k.au9_alae_sigma) + _g(u, al, k.au9_alae_sigma) \
        + k.au9_tip_share * _g(u, u[T.NOSE_TIP], k.au9_tip_sigma)
    _put(B, "AU9", w[:, None] * up * k.au9_nose_rise + r.upper[:, None] * up * k.au9_lip_rise)
    w = (_g(u, r.inner_r, k.au9_brow_sigma) + _g(u, r.inner_l, k.au9_brow_sigma)) * r.above_eyes
    _put(B, "AU9", w[:, None] * np.array([0.0, k.au9_brow_lower]))


def _upper_lip(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU10 upper lip raiser: upper lip up, most at its middle third (bares the upper teeth)."""
    u, ar, al, up = r.u, r.ar, r.al, _UP
    w = (r.upper + k.au10_over_lip_share * r.over_lip) \
        * np.clip(1.0 - (r.across / k.au10_middle) ** 2, k.au10_corner_floor, 1)
    _put(B, "AU10", w[:, None] * up * k.au10_rise
         + (_g(u, ar, k.au10_alae_sigma) + _g(u, al, k.au10_alae_sigma))[:, None] * up * k.au10_alae_rise)


def _corners(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add the corner pullers AU12, AU12R, AU14R (right side only) and AU15 lip corner depressor."""
    u, rc, lc, above_eyes = r.u, r.rc, r.lc, r.above_eyes
    # AU12 lip corner puller: corners up and out along the zygomatic line; AU12R/AU14R right side only.
    for name, side_sel, vec in (("AU12", None, np.array(k.au12_pull)), ("AU12R", "R", np.array(k.au12r_pull)),
                                ("AU14R", "R", np.array(k.au14r_pull))):
        for c, sgn, side in ((rc, -1.0, "R"), (lc, 1.0, "L")):
            if side_sel and side != side_sel:
                continue
            w = _g(u, c, k.au12_sigma) * (1 - above_eyes)
            _put(B, name, w[:, None] * np.array([sgn * vec[0], vec[1]]))
    # AU15 lip corner depressor.
    w = (_g(u, rc, k.au15_sigma) + _g(u, lc, k.au15_sigma)) * (1 - above_eyes)
    _put(B, "AU15", w[:, None] * np.array([0.0, k.au15_lower])
         + (w * np.sign(u[:, 0] - r.mouth[0]))[:, None] * [k.au15_outward, 0])


def _lower_lip(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU16 lower lip depressor and AU17 chin raiser."""
    u, lower, up = r.u, r.lower, _UP
    # AU16 lower lip depressor: lower lip middle down (shows lower teeth).
    w = (lower + k.au16_under_lip_share * r.under_lip) * np.clip(1.0 - r.across ** 2, k.au16_corner_floor, 1)
    _put(B, "AU16", w[:, None] * np.array([0.0, k.au16_lower]))
    # AU17 chin raiser: chin and lower lip up (pout).
    w = np.maximum(_g(u, r.chin + [0, -k.au17_chin_lift], k.au17_sigma) * r.below, lower * k.au17_lip_share)
    _put(B, "AU17", w[:, None] * up * k.au17_rise)


def _pucker(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU18 lip pucker: corners towards the middle, lips thrust (slightly fuller)."""
    u, up = r.u, _UP
    w = _g(u, r.rc, k.au18_sigma) - _g(u, r.lc, k.au18_sigma)
    _put(B, "AU18", w[:, None] * np.array([k.au18_inward, 0.0]))
    _put(B, "AU18", (r.upper[:, None] * up * k.au18_upper_rise)
         + (r.lower[:, None] * np.array([0, k.au18_lower_drop])))


def _stretch(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU20 lip stretcher: corners out horizontally and a little down."""
    u = r.u
    w = (_g(u, r.rc, k.au20_sigma) + _g(u, r.lc, k.au20_sigma)) * (1 - r.above_eyes)
    _put(B, "AU20", w[:, None] * np.array([0.0, k.au20_lower])
         + (w * np.sign(u[:, 0] - r.mouth[0]))[:, None] * [k.au20_outward, 0])


def _press(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU23 lip tightener and AU24 lip pressor: lips thinner (outer contours move to the lip line)."""
    u = r.u
    outer_up = _onehot(T.LIPS_OUTER_UPPER[1:-1])
    outer_lo = _onehot(T.LIPS_OUTER_LOWER[1:-1])
    _put(B, "AU23", outer_up[:, None] * np.array([0, k.au23_upper_thin])
         + outer_lo[:, None] * np.array([0, -k.au23_lower_thin]))
    _put(B, "AU23", (_g(u, r.rc, k.au23_sigma) - _g(u, r.lc, k.au23_sigma))[:, None] * np.array([k.au23_inward, 0.0]))
    _put(B, "AU24", (outer_up + k.au24_body_share * (r.upper - outer_up - r.inner_up).clip(0))[:, None]
         * np.array([0, k.au24_upper_press]))
    _put(B, "AU24", (outer_lo + k.au24_body_share * (r.lower - outer_lo - r.inner_lo).clip(0))[:, None]
         * np.array([0, -k.au24_lower_press]))


def _parting(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU25 lips part: inner lips separate, the lower one more, into an almond-shaped opening."""
    # The upper lip's middle rises too, so the opening is an almond, not the flat-topped crescent of a smile.
    taper, up = r.lens[:, None], _UP
    _put(B, "AU25", taper * (r.inner_up[:, None] * up * k.au25_inner_upper_rise
                             + r.inner_lo[:, None] * np.array([0, k.au25_inner_lower_drop])))
    _put(B, "AU25", taper * r.upper_body[:, None] * up * k.au25_upper_body_rise)
    _put(B, "AU25", taper * ((r.lower - r.inner_lo).clip(0) + k.au25_under_lip_share * r.under_lip)[:, None]
         * np.array([0, k.au25_lower_body_drop]))


def _jaw(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU26 jaw drop: the lower face down with the jaw, the upper lip lifting, the corners rounding in."""
    u, taper, up = r.u, r.lens[:, None], _UP
    # The lower face rotates down with the jaw ...
    _put(B, "AU26", r.jaw_w[:, None] * np.array([0.0, k.au26_drop]))
    # ... while the upper lip's middle lifts off the teeth, so a wide opening is an oval, not the
    # flat-topped D of a laugh.
    _put(B, "AU26", taper * (r.inner_up[:, None] * k.au26_inner_upper_rise
                             + r.upper_body[:, None] * k.au26_upper_body_rise) * up)
    # ... and the relaxed lips round a little: the corners move in as the jaw opens.
    w = (_g(u, r.rc, k.au26_corner_sigma) + _g(u, r.lc, k.au26_corner_sigma)) * (1 - r.above_eyes)
    _put(B, "AU26", (w * -np.sign(u[:, 0] - r.mouth[0]))[:, None] * [k.au26_corner_inward, 0])


def _eyes_closed(B: np.ndarray, r: _Regions, k: BasisConfig) -> None:
    """Add AU43 eyes closed: upper lids onto the lower lids, lid skin follows part way."""
    u = r.u
    for upper_idx, lower_idx, outer_idx in ((T.RIGHT_EYE_UPPER, T.RIGHT_EYE_LOWER, T.RIGHT_LID_UPPER_OUTER),
                                            (T.LEFT_EYE_UPPER, T.LEFT_EYE_LOWER, T.LEFT_LID_UPPER_OUTER)):
        for i, j, m in zip(upper_idx, lower_idx, outer_idx):
            gap = u[j] - u[i]
            B[AU_INDEX["AU43"], i] += gap * k.au43_lid_share
            B[AU_INDEX["AU43"], m] += gap * k.au43_lid_outer_share
            B[AU_INDEX["AU43"], j] -= gap * k.au43_lower_lid_share
