"""Texture layers: the skin changes that expressions make and a mesh warp cannot (DESIGN.md, "What a
geometric warp can and cannot do").

Each layer is a fixed map over the portrait's face, built once from its landmarks, skin tone and
lighting, and scaled every frame by the activation of the action units that cause it (FACS, Ekman &
Friesen 1978, appearance changes of each AU):

========================  ============  =====================================================
layer                     driven by     appearance
========================  ============  =====================================================
glabella                  AU4, AU9      vertical frown furrows between the brows, the brows'
                                        shadow over the upper lids, bunched skin at the nose root
nose_wrinkle              AU9, AU10     horizontal wrinkles across the nose bridge
forehead_inner/outer      AU1 / AU2     horizontal forehead lines, centre / sides
nasolabial                AU12, AU6,    the fold from the nose wing to beyond the mouth corner
                          AU10, AU9
crows_feet                AU6           lines fanning out from the outer eye corners
cheek                     AU6, AU12     raised cheek: lit cheek apple, shadow under the lower lid
lip_press                 AU23, AU24    lips pressed thin and pale, a dark lip line
smile_soften              not AU12/AU6  the portrait's own smile lines softened
chin                      AU17, AU15    the crease under the lower lip and a dimpled chin
========================  ============  =====================================================

Lines are drawn as folds, a dark groove with a lighter ridge beside it, by multiplying the portrait's
own pixels (so they take its skin tone and light), shadows tinted as skin in shadow is
(:func:`shadow_tint`). The layers are applied to the portrait *before* the
warp, so they move with the skin, and their strength follows the smooth AU curves, so they fade in and
out with the expression and never flicker.

A portrait that smiles already (estimated AU12) has its own smile lines softened by a smoothing layer
while it is not asked to smile, part of bringing it to neutral first.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import topology as T
from ..face.model import FaceModel, skin_colour
from ..rig.units import AU_INDEX
from .raster import clip_box


@dataclass
class Layer:
    """One texture layer.

    Attributes:
        name: layer name (see the module table).
        drive: ``{AU name: weight}``; activation = ``clip(bias + sum(weight * AU), 0, 1.2)``.
        gain: ``float32 (h, w)`` luminance change at activation 1 (-0.3 = 30 % darker), or ``None``.
        delta: ``float32 (h, w, 3)`` RGB change at activation 1, or ``None``.
        exponent: activation curve (``act ** exponent``; > 1 keeps faint AUs from showing lines).
        bias: activation with every AU at 0 (a layer that is on unless some AUs turn it off).
    """

    name: str
    drive: dict
    gain: np.ndarray | None = None
    delta: np.ndarray | None = None
    exponent: float = 1.0
    bias: float = 0.0


def _taper(n: int) -> np.ndarray:
    t = np.linspace(0, 1, n)
    return np.sin(np.pi * np.clip(t, 0, 1)) ** 0.6


class _Canvas:
    """Drawing helpers in face-normalised units on the layers' pixel box."""

    def __init__(self, face: FaceModel, box: tuple[int, int, int, int]):
        self.face = face
        self.o, self.R, self.s = face.frame()
        self.x0, self.y0, self.x1, self.y1 = box
        self.shape = (self.y1 - self.y0, self.x1 - self.x0)
        self.u = face.normalised()

    def px(self, u: np.ndarray) -> np.ndarray:
        """Face-normalised points -> box pixel coordinates ``(N, 2)``."""
        return np.asarray(u, np.float64) @ self.R.T.astype(np.float64) * self.s + self.o - [self.x0, self.y0]

    def stroke(self, pts_u: np.ndarray, width: float, blur: float, taper: bool = True, n: int = 24) -> np.ndarray:
        """A soft line along a polyline given in normalised units; peak 1. ``float32 (h, w)``."""
        pts_u = np.asarray(pts_u, np.float64)
        # Resample the polyline to n points so the taper is smooth.
        seg = np.linalg.norm(np.diff(pts_u, axis=0), axis=1)
        t = np.concatenate([[0], np.cumsum(seg)])
        tt = np.linspace(0, t[-1], n)
        pts = np.stack([np.interp(tt, t, pts_u[:, 0]), np.interp(tt, t, pts_u[:, 1])], 1)
        p = self.px(pts)
        m = np.zeros(self.shape, np.float32)
        w = _taper(n) if taper else np.ones(n)
        th = max(1, int(round(width * self.s)))
        for k in range(n - 1):
            a, b = p[k], p[k + 1]
            cv2.line(m, (int(round(a[0] * 16)), int(round(a[1] * 16))), (int(round(b[0] * 16)), int(round(b[1] * 16))),
                     float(0.5 * (w[k] + w[k + 1])), th, cv2.LINE_AA, shift=4)
        sig = max(0.6, blur * self.s)
        m = cv2.GaussianBlur(m, (0, 0), sig)
        return m / max(float(m.max()), 1e-6)

    def fold(self, pts_u: np.ndarray, normal_u: tuple[float, float], depth: float, width: float = 0.012,
             blur: float = 0.008, ridge: float = 0.3) -> np.ndarray:
        """A skin fold: dark groove along ``pts_u`` that fades out on the side away from ``normal_u``,
        and a lit ridge offset by ``normal_u`` (normalised units), as a luminance gain map ``float32 (h, w)``."""
        pts_u = np.asarray(pts_u, np.float64)
        n = np.asarray(normal_u, np.float64)
        groove = self.stroke(pts_u, width, blur)
        # The crease is sharp under the ridge's overhang and fades out on the far side.
        tail = self.stroke(pts_u - 0.8 * n, width * 2.0, blur * 2.5)
        lit = self.stroke(pts_u + n, width * 1.6, blur * 2.5)
        return (-depth * (0.75 * groove + 0.45 * tail) + ridge * depth * lit).astype(np.float32)

    def blob(self, centre_u, radii_u, angle_deg: float = 0.0) -> np.ndarray:
        """A soft elliptical blob, peak 1."""
        m = np.zeros(self.shape, np.float32)
        c = self.px(np.asarray(centre_u, np.float64)[None])[0]
        ax = (max(1, int(radii_u[0] * self.s)), max(1, int(radii_u[1] * self.s)))
        rot = np.degrees(np.arctan2(self.R[1, 0], self.R[0, 0])) + angle_deg
        cv2.ellipse(m, (int(round(c[0])), int(round(c[1]))), ax, rot, 0, 360, 1.0, -1, cv2.LINE_AA)
        m = cv2.GaussianBlur(m, (0, 0), max(1.0, 0.5 * min(ax)))
        return m / max(float(m.max()), 1e-6)

    def polygon(self, idx: list[int], blur: float) -> np.ndarray:
        """Soft mask of the polygon through landmarks ``idx``.

        Not :func:`.raster.polygon_mask`: ``cv2.fillPoly`` ignores ``LINE_AA`` on a float32 image, so the
        polygon is filled hard and only the blur softens it. The anti-aliased mask changes the layers by
        up to 11 levels, enough to flip a benchmark video on the emotion judge (issue 4, session 11);
        swap only with a new benchmark run.
        """
        m = np.zeros(self.shape, np.float32)
        p = self.face.points[idx] - [self.x0, self.y0]
        cv2.fillPoly(m, [np.round(p * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
        return cv2.GaussianBlur(m, (0, 0), max(0.6, blur * self.s))


class TextureLayers:
    """The texture layers of one portrait.

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait at output resolution.
        face: its :class:`FaceModel`.
    """

    def __init__(self, image: np.ndarray, face: FaceModel):
        self.image = image
        s = face.interocular
        oval = face.points[T.FACE_OVAL]
        x0, y0 = oval.min(0) - 0.35 * s
        x1, y1 = oval.max(0) + 0.35 * s
        y0 -= 0.3 * s  # forehead lines can sit above MediaPipe's oval
        self.box = clip_box(x0, y0, x1, y1, image.shape)
        bx0, by0, bx1, by1 = self.box
        self.base = image[by0:by1, bx0:bx1].astype(np.float32)
        skin_rgb = skin_colour(self.base, face.points - [bx0, by0])
        self.layers = build_layers(self.base, face, self.box, skin_rgb)
        self.shadow_tint = shadow_tint(skin_rgb)
        self.cols = [[(AU_INDEX[k], w) for k, w in L.drive.items()] for L in self.layers]

    def activations(self, aus: np.ndarray) -> np.ndarray:
        """Per-layer activation ``float32 (n_layers,)`` for one frame's AUs ``(n_AU,)``."""
        out = np.zeros(len(self.layers), np.float32)
        for i, (L, cols) in enumerate(zip(self.layers, self.cols)):
            a = float(np.clip(L.bias + sum(w * aus[c] for c, w in cols), 0.0, 1.2))
            out[i] = a ** L.exponent
        return out

    def apply(self, aus: np.ndarray) -> np.ndarray:
        """The portrait with this frame's layers, ``uint8 (H, W, 3)`` (the portrait itself when none is active)."""
        act = self.activations(aus)
        if not np.any(act > 0.01):
            return self.image
        gain = None
        rgb = self.base
        for L, a in zip(self.layers, act):
            if a <= 0.01:
                continue
            if L.gain is not None:
                gain = L.gain * a if gain is None else gain + L.gain * a
            if L.delta is not None:
                rgb = rgb + L.delta * a
        if gain is not None:
            g = np.maximum(gain, -0.9)
            f = np.empty(rgb.shape, np.float32)
            f[:] = (1.0 + g)[..., None]
            f += np.minimum(g, 0.0)[..., None] * (self.shadow_tint - 1.0)  # shadows take the skin's tint
            rgb = rgb * f
        out = self.image.copy()
        bx0, by0, bx1, by1 = self.box
        out[by0:by1, bx0:bx1] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
        return out


def shadow_tint(skin_rgb: np.ndarray) -> np.ndarray:
    """Per-channel weight of a darkening on this skin, ``float32 (3,)``, luminance-neutral.

    Skin in shadow is deeper and more saturated than the same skin darkened evenly (light scattered
    under the skin comes back reddened; Jensen et al. 2001, *A Practical Model for Subsurface Light
    Transport*): an even darkening of pale skin reads as a grey pencil line. The channels that the skin
    has less of darken more: weight ``lum / skin_c``, scaled so that the luminance change is the even
    one's.

    Args:
        skin_rgb: ``float32 (3,)`` the skin colour (RGB, 0-255).
    """
    skin = np.maximum(np.asarray(skin_rgb, np.float64), 1.0)
    luma = np.array([0.299, 0.587, 0.114])
    w = np.clip(float(skin @ luma) / skin, 0.6, 1.8)
    return (w / float(w @ luma)).astype(np.float32)


def build_layers(base: np.ndarray, face: FaceModel, box: tuple[int, int, int, int],
                 skin_rgb: np.ndarray) -> list[Layer]:
    """Build every layer's map for one portrait (see the module table).

    Args:
        base: ``float32 (h, w, 3)`` the portrait's pixels inside ``box``.
        face: the analysed portrait.
        box: ``(x0, y0, x1, y1)`` pixel box of the maps.
        skin_rgb: ``float32 (3,)`` the skin colour (:func:`emocast.face.model.skin_colour` of ``base``).

    Returns:
        list of :class:`Layer`.
    """
    c = _Canvas(face, box)
    u = c.u
    layers: list[Layer] = []
    # Skin mask: the face oval (forehead extended upwards), so lines never land on hair or background.
    oval = u[T.FACE_OVAL].astype(np.float64)
    top = oval[:, 1] < -0.3
    ext = oval.copy()
    ext[top, 1] -= 0.08
    m = np.zeros(c.shape, np.float32)
    cv2.fillPoly(m, [np.round(c.px(ext) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    skin = cv2.GaussianBlur(m, (0, 0), 0.04 * c.s)
    # Lines show less on dark or very bright skin (little contrast to lose or gain).
    lum = base @ np.array([0.299, 0.587, 0.114], np.float32)
    skin = skin * np.clip(lum / 60.0, 0.3, 1.0) * np.clip((255 - lum) / 40.0, 0, 1)

    br_in, bl_in = u[T.RIGHT_BROW_INNER].mean(0), u[T.LEFT_BROW_INNER].mean(0)
    brow_r, brow_l = u[T.RIGHT_BROW], u[T.LEFT_BROW]
    brow_top = float(min(brow_r[:, 1].min(), brow_l[:, 1].min()))
    mid_x = float(0.5 * (br_in[0] + bl_in[0]))
    root = u[T.NOSE_ROOT]

    # AU4 (+AU9): two vertical furrows between the brows, bunched skin, the brows' shadow on the lids.
    g = np.zeros(c.shape, np.float32)
    bottom_y = float(0.5 * (br_in[1] + bl_in[1])) + 0.04
    # Corrugator furrows start between the brow heads and fan out a little upwards; the left and right
    # ones differ in length and depth, as on real faces (identical parallel strokes look drawn on).
    for side, depth, top in ((-1, 0.24, 0.19), (1, 0.2, 0.16)):
        x = mid_x + side * 0.06
        pts = [(x - side * 0.006, bottom_y + 0.02), (x, bottom_y - 0.07), (x + side * 0.03, bottom_y - top)]
        g += c.fold(pts, (side * 0.028, 0.0), depth, width=0.02, blur=0.02)
    g += c.fold([(mid_x - 0.07, root[1] - 0.03), (mid_x, root[1] - 0.05), (mid_x + 0.07, root[1] - 0.03)], (0, 0.025), 0.12,
                width=0.015, blur=0.012)
    lids = c.polygon(T.RIGHT_BROW[5:] + T.RIGHT_LID_UPPER_OUTER[::-1], 0.03) + c.polygon(T.LEFT_BROW[5:] + T.LEFT_LID_UPPER_OUTER[::-1], 0.03)
    lids = np.clip(lids, 0, 1)
    g -= 0.22 * lids
    layers.append(Layer("glabella", {"AU4": 1.0, "AU9": 0.4}, gain=g * skin))

    # AU9 (+AU10): wrinkles across the nose bridge.
    g = np.zeros(c.shape, np.float32)
    bridge = u[[168, 6, 197, 195]]
    for k, t in enumerate((0.35, 0.7)):
        y = float(np.interp(t, [0, 1], [bridge[0, 1], bridge[2, 1]]))
        x = float(np.interp(t, [0, 1], [bridge[0, 0], bridge[2, 0]]))
        half = 0.09 + 0.02 * t
        g += c.fold([(x - half, y + 0.012), (x, y - 0.008), (x + half, y + 0.012)], (0, 0.022), 0.13, width=0.016,
                    blur=0.012)
    layers.append(Layer("nose_wrinkle", {"AU9": 1.0, "AU10": 0.3}, gain=g * skin, exponent=1.3))

    # AU1 / AU2: horizontal forehead lines following the brows' arch.
    xs = np.linspace(-0.75, 0.75, 25) + mid_x
    bp = np.concatenate([brow_r, brow_l])
    order = np.argsort(bp[:, 0])
    by = np.interp(xs, bp[order, 0], bp[order, 1])
    by = np.minimum(by, brow_top + 0.06)
    inner_w = np.exp(-((xs - mid_x) / 0.3) ** 2)
    for name, au, wx in (("forehead_inner", "AU1", inner_w), ("forehead_outer", "AU2", 1 - 0.7 * inner_w)):
        g = np.zeros(c.shape, np.float32)
        for k, off in enumerate((0.13, 0.22, 0.31)):
            # Real forehead lines wander a little; perfectly parallel arcs look drawn on.
            ys = by - off - 0.02 * k * np.abs(xs - mid_x) + 0.007 * np.sin(9.0 * (xs - mid_x) + 1.7 * k)
            span = (np.abs(xs - mid_x) < 0.62 - 0.06 * k)
            seg = np.stack([xs[span], ys[span]], 1)
            line = c.fold(seg, (0, 0.03), 0.16, width=0.017, blur=0.015)
            wmap = np.interp(np.arange(c.shape[1]), c.px(np.stack([xs, ys], 1))[:, 0], wx)[None, :]
            g += line * wmap.astype(np.float32)
        layers.append(Layer(name, {au: 1.0}, gain=g * skin, exponent=1.2))

    # AU12 / AU6 / AU10: nasolabial folds.
    g = np.zeros(c.shape, np.float32)
    for side, ala, corner in ((-1, T.NOSE_ALAE[0], T.MOUTH_CORNERS[0]), (1, T.NOSE_ALAE[1], T.MOUTH_CORNERS[1])):
        a = u[ala] + [side * 0.06, -0.02]
        b = u[corner] + [side * 0.07, -0.05]
        e = u[corner] + [side * 0.09, 0.05]
        pts = [a, 0.5 * (a + b) + [side * 0.025, 0], b, e]
        g += c.fold(pts, (side * 0.04, -0.01), 0.2, width=0.022, blur=0.02, ridge=0.15)
    layers.append(Layer("nasolabial", {"AU12": 0.8, "AU6": 0.3, "AU10": 0.6, "AU9": 0.4, "AU20": 0.3}, gain=g * skin))

    # AU6: crow's feet at the outer eye corners; the raised cheek.
    g = np.zeros(c.shape, np.float32)
    for side, corner in ((-1, T.RIGHT_EYE_CORNERS[0]), (1, T.LEFT_EYE_CORNERS[0])):
        o = u[corner] + [side * 0.05, 0.0]
        for ang in (-30, 0, 28):
            r = np.radians(ang)
            d = np.array([side * np.cos(r), np.sin(r)])
            g += c.fold([o, o + 0.08 * d + [0, 0.01], o + 0.16 * d], (0, 0.018), 0.16, width=0.011, blur=0.008)
    cheek = np.zeros(c.shape, np.float32)
    for side, ch, lo in ((-1, T.CHEEKS[0], T.RIGHT_EYE_LOWER), (1, T.CHEEKS[1], T.LEFT_EYE_LOWER)):
        cheek += 0.08 * c.blob(u[ch] + [side * 0.02, -0.1], (0.14, 0.09))
        cheek -= 0.10 * c.blob(u[lo].mean(0) + [0, 0.07], (0.17, 0.035))
    layers.append(Layer("crows_feet", {"AU6": 1.0}, gain=g * skin, exponent=1.3))
    layers.append(Layer("cheek", {"AU6": 0.7, "AU12": 0.4}, gain=cheek * skin))

    # The portrait's own smile lines (nasolabial folds, crow's feet, the bulge under the eyes) are
    # softened while the face is not asked to smile: part of bringing it to neutral first. Stronger for
    # a portrait that smiles (estimated AU12).
    soft = np.zeros(c.shape, np.float32)
    for side, ala, corner, eye in ((-1, T.NOSE_ALAE[0], T.MOUTH_CORNERS[0], T.RIGHT_EYE_CORNERS[0]),
                                   (1, T.NOSE_ALAE[1], T.MOUTH_CORNERS[1], T.LEFT_EYE_CORNERS[0])):
        a = u[ala] + [side * 0.06, -0.02]
        b = u[corner] + [side * 0.09, -0.04]
        soft = np.maximum(soft, c.stroke([a, 0.5 * (a + b) + [side * 0.03, 0], b, u[corner] + [side * 0.1, 0.12]],
                                         0.1, 0.03, taper=False))
        soft = np.maximum(soft, c.blob(u[eye] + [side * 0.12, 0.02], (0.12, 0.08)))
    smooth = cv2.GaussianBlur(base, (0, 0), max(1.0, 0.035 * c.s))
    strength = 0.6 + 0.4 * float(face.expression.get("AU12", 0.0))
    layers.append(Layer("smile_soften", {"AU12": -strength, "AU6": -0.5 * strength},
                        delta=((smooth - base) * (soft * skin)[..., None]).astype(np.float32), bias=strength))

    # AU23 / AU24: pressed lips go thin and pale; the lip line darkens.
    lips = np.clip(c.polygon(T.LIPS_OUTER_RING, 0.006), 0, 1)
    pale = (0.55 * skin_rgb + 0.45 * base) * 1.04 - base
    line = c.stroke(u[T.LIPS_INNER_UPPER], 0.012, 0.006, taper=True)
    delta = pale * (0.7 * lips)[..., None] - (0.35 * line)[..., None] * base
    layers.append(Layer("lip_press", {"AU23": 0.6, "AU24": 0.8}, delta=delta.astype(np.float32)))

    # AU17 / AU15: the crease below the lower lip and the dimpled chin.
    lo = u[T.LIPS_OUTER_LOWER]
    y = float(lo[:, 1].max()) + 0.1
    g = c.fold([(mid_x - 0.22, y - 0.02), (mid_x, y + 0.01), (mid_x + 0.22, y - 0.02)], (0, 0.03), 0.22, width=0.02, blur=0.014)
    rng = np.random.default_rng(0)
    chin_c = 0.5 * (u[T.CHIN] + u[17]) + [0, 0.08]
    mottle = cv2.GaussianBlur(rng.standard_normal(c.shape).astype(np.float32), (0, 0), max(0.8, 0.012 * c.s))
    mottle /= max(float(np.abs(mottle).max()), 1e-6)
    g += 0.12 * mottle * c.blob(chin_c, (0.2, 0.12))
    for side, corner in ((-1, T.MOUTH_CORNERS[0]), (1, T.MOUTH_CORNERS[1])):
        a = u[corner] + [side * 0.02, 0.04]
        g += 0.5 * c.fold([a, a + [side * 0.03, 0.12], a + [side * 0.05, 0.22]], (side * 0.02, 0), 0.2, width=0.014, blur=0.01)
    layers.append(Layer("chin", {"AU17": 1.0, "AU15": 0.5}, gain=g * skin, exponent=1.2))
    return layers
