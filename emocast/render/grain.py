"""The portrait's own grain and palette, for what the renderer draws or fills from scratch.

A region the engine paints (the mouth interior, a filled-in opening) is smoother than the photo
around it unless it gets the photo's grain back, and it is coloured unless its colours are brought to
the photo's palette: a black-and-white photo must give black-and-white frames, a sepia painting a sepia
mouth (issue "Faces that look filmed, not edited": "nothing smoother than its surroundings").

- :func:`grain_sigma` measures the grain: the robust spread (MAD) of the luminance's fine detail over
  the cheeks, where skin has little structure of its own.
- :class:`Grain` is a fixed, seeded noise texture with that spread and the photo's own blur (its grain
  is as soft as its edges), added to the luminance only, so that grey stays grey.
- :func:`chroma_scale` measures how colourful the skin is against typical skin, and
  :func:`to_palette` brings a drawn colour's chroma down (or keeps it) by that share;
  :func:`tinted_like` gives a drawn colour the tint of a measured one (the teeth, the whites of the eyes).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import topology as T
from ..face.model import CHEEK_PATCHES, skin_colour


@dataclass(frozen=True)
class GrainConfig:
    """Constants of the grain and palette estimates (grey levels are of 0-255 images)."""

    detail_sigma: float = 1.0
    """Blur (px) that splits an image into its smooth part and its fine detail (the grain)."""
    patch: float = 0.12
    """Half-side (iu, interocular units) of the cheek patches the grain is measured on."""
    mad_to_sigma: float = 1.4826
    """Factor from the median absolute deviation to a Gaussian's standard deviation."""
    sigma_max: float = 12.0
    """Largest grain (grey levels) added: beyond it a patch measures texture, not grain."""
    tile: int = 128
    """Side (px) of the noise texture, repeated over the frame."""
    seed: int = 20250820
    """Seed of the noise texture (fixed: the same portrait gets the same grain in every run)."""
    skin_chroma_ref: float = 20.0
    """Chroma (grey levels: distance of the skin's RGB from its own grey) from which skin counts as fully
    coloured; paler skin is a less colourful picture, down to 0 for black and white. Measured on 19 of
    the fixture portraits at 512 px: 10-90 (colour photos 24-75, a pale painting 10), 0 for a
    greyscale copy."""


GRAIN = GrainConfig()
"""The default grain constants."""

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
"""RGB weights of luminance (ITU-R BT.601)."""


def grain_sigma(image: np.ndarray, landmarks: np.ndarray, interocular: float, config: GrainConfig = GRAIN) -> float:
    """The portrait's grain over the cheeks: the spread of its fine luminance detail, grey levels.

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait.
        landmarks: ``(478, 2+)`` its landmarks, pixels.
        interocular: interocular distance, pixels (sets the patch size).
        config: the constants.

    Returns:
        sigma in ``[0, config.sigma_max]`` (0 where no patch lies inside the image).
    """
    lum = image.astype(np.float32) @ _LUMA
    detail = lum - cv2.GaussianBlur(lum, (0, 0), config.detail_sigma)
    h, w = lum.shape
    r = max(2, int(config.patch * interocular))
    samples = []
    for i in T.CHEEKS + CHEEK_PATCHES:
        x, y = (int(v) for v in landmarks[i, :2])
        if r <= x < w - r and r <= y < h - r:
            samples.append(detail[y - r:y + r, x - r:x + r].ravel())
    if not samples:
        return 0.0
    d = np.concatenate(samples)
    mad = float(np.median(np.abs(d - np.median(d))))
    return float(min(config.mad_to_sigma * mad, config.sigma_max))


def chroma_scale(image: np.ndarray, landmarks: np.ndarray, config: GrainConfig = GRAIN) -> float:
    """How colourful the portrait's skin is, 0 (black and white) to 1 (a typical colour photo).

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait.
        landmarks: ``(478, 2+)`` its landmarks, pixels.
    """
    skin = skin_colour(image, landmarks).astype(np.float32)
    chroma = float(np.linalg.norm(skin - skin.mean()))
    return float(np.clip(chroma / config.skin_chroma_ref, 0.0, 1.0))


def to_palette(rgb: np.ndarray, scale: float) -> np.ndarray:
    """``rgb`` ``(..., 3)`` with its chroma scaled by ``scale`` (0: its grey, same luminance)."""
    rgb = np.asarray(rgb, np.float32)
    lum = rgb @ _LUMA
    return lum[..., None] + scale * (rgb - lum[..., None])


def tinted_like(rgb: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``rgb`` ``(3,)`` given the hue and chroma of ``reference`` ``(3,)`` at its own luminance,
    ``lum(rgb) * reference / lum(reference)``, scaled down where a channel would pass ``rgb``'s
    brightest (a lit colour near white would clip, and lose its shading)."""
    rgb = np.asarray(rgb, np.float32)
    ref = np.asarray(reference, np.float32)
    out = float(rgb @ _LUMA) * ref / max(float(ref @ _LUMA), 1.0)
    return (out * min(1.0, float(rgb.max()) / max(float(out.max()), 1e-3))).astype(np.float32)


class Grain:
    """A fixed noise texture with the portrait's grain, to add to what the renderer draws.

    Args:
        sigma: grain spread, grey levels (:func:`grain_sigma`).
        blur: the portrait's blur, pixels (:func:`emocast.render.sharpness.edge_blur_sigma`); the noise is
            blurred as much, then brought back to ``sigma``.
        config: the constants.
    """

    def __init__(self, sigma: float, blur: float = 0.0, config: GrainConfig = GRAIN):
        self.sigma = float(sigma)
        n = config.tile
        noise = np.random.default_rng(config.seed).standard_normal((n, n)).astype(np.float32)
        if blur > 0.3:
            # Blurred on a wrapped copy, so the tile repeats without a seam.
            pad = int(np.ceil(3 * blur))
            noise = cv2.GaussianBlur(np.pad(noise, pad, mode="wrap"), (0, 0), blur)[pad:-pad, pad:-pad]
            noise /= max(float(noise.std()), 1e-6)
        self.tile = noise * self.sigma

    def field(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """The grain over the pixel box ``(x0, y0, x1, y1)``: ``float32 (y1 - y0, x1 - x0)``, grey levels,
        anchored to frame pixels (the same pixel always gets the same grain)."""
        x0, y0, x1, y1 = box
        n = self.tile.shape[0]
        return self.tile[np.arange(y0, y1)[:, None] % n, np.arange(x0, x1)[None, :] % n]

    def add(self, colour: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """``colour`` ``float (h, w, 3)`` over ``box`` with the grain added to all three channels alike."""
        if self.sigma <= 0:
            return colour
        return colour + self.field(box)[..., None]
