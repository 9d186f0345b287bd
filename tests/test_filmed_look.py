"""The face looks filmed, not painted: the portrait's own lips, teeth, lids, palette and grain (issue
"Faces that look filmed, not edited").

On the astronaut (an open, toothy smile in a colour photo) and on a black-and-white copy of her.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from emocast.face import analyse
from emocast.face import topology as T
from emocast.render import CPURenderer
from emocast.render.grain import chroma_scale, grain_sigma
from emocast.rig import AU_INDEX, AU_NAMES, teeth_rows

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _aus(**kw) -> np.ndarray:
    a = np.zeros(len(AU_NAMES), np.float32)
    for k, v in kw.items():
        a[AU_INDEX[k]] = v
    return a


def _frame(r: CPURenderer, aus: np.ndarray) -> np.ndarray:
    up, lo = teeth_rows(aus)
    return r.render(aus, np.zeros(3), float(up), float(lo))


def _poly(shape, pts) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 1)
    return m > 0


@pytest.fixture(scope="module")
def astronaut():
    import skimage.data

    img = np.ascontiguousarray(skimage.data.astronaut())
    face = analyse(img)
    return img, face, CPURenderer(img, face)


@pytest.fixture(scope="module")
def grey_astronaut():
    import skimage.data

    img = np.ascontiguousarray(np.repeat(skimage.data.astronaut().astype(np.float32) @ LUMA, 3)
                               .reshape(512, 512, 3).round().astype(np.uint8))
    face = analyse(img)
    return img, face, CPURenderer(img, face)


EXPRESSIONS = {
    "closed": _aus(),
    "speaking": _aus(AU25=1.0, AU26=0.4),
    "wide open, fear": _aus(AU1=1, AU2=1, AU4=0.6, AU5=1, AU20=1, AU25=1, AU26=0.9),
    "happy": _aus(AU6=1, AU12=1, AU25=1, AU26=0.3),
    "disgust": _aus(AU9=1, AU10=1, AU4=0.5, AU25=0.6, AU26=0.2),
}


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_a_black_and_white_portrait_gives_black_and_white_frames(grey_astronaut, name):
    img, face, r = grey_astronaut
    assert chroma_scale(img, face.landmarks) == 0.0
    frame = _frame(r, EXPRESSIONS[name]).astype(np.int16)
    spread = frame.max(-1) - frame.min(-1)
    assert spread.max() <= 2, f"{name}: a pixel's channels differ by {spread.max()} grey levels"


def test_closed_lips_from_an_open_smile_are_her_own_lip_colours(astronaut):
    """Her teeth show in the portrait; closed, the lips hold her own lip colours (no tooth-white, no
    flat inpainted fill), judged against the colours of her lip body in the portrait."""
    img, face, r = astronaut
    p = face.points
    inner = _poly(img.shape, p[T.LIPS_INNER_RING])
    assert (img.astype(np.float32) @ LUMA)[inner].max() > 200  # her teeth
    body = _poly(img.shape, p[T.LIPS_OUTER_RING]) & ~cv2.dilate(inner.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    ref = lab[body.ravel()]
    lo, hi = np.percentile(ref, 1, axis=0), np.percentile(ref, 99, axis=0)
    frame = _frame(r, EXPRESSIONS["closed"])
    tgt = r.landmarks(EXPRESSIONS["closed"], np.zeros(3))
    lips = cv2.erode(_poly(img.shape, tgt[T.LIPS_OUTER_RING]).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    now = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)[lips.ravel()]
    margin = np.array([8.0, 6.0, 6.0])  # L, a, b units of OpenCV's 8-bit Lab
    inside = np.all((now >= lo - margin) & (now <= hi + margin), axis=1)
    # The seam between the lips is darker than any lip pixel: a thin line of them is allowed.
    assert inside.mean() >= 0.9, f"only {inside.mean():.0%} of the closed lips' pixels have her lip colours"
    assert (now[:, 0] * 100 / 255 > 85).sum() == 0  # nothing tooth-white left


@pytest.mark.parametrize("name", ["speaking", "wide open, fear"])
def test_the_mouth_interior_has_the_portraits_grain(astronaut, name):
    """No flat fill: the drawn interior carries fine detail (the portrait's grain) at least half as
    strong as the portrait's own, over its whole area."""
    img, face, r = astronaut
    sigma = grain_sigma(img, face.landmarks, face.interocular)
    assert sigma > 0.3
    aus = EXPRESSIONS[name]
    frame = _frame(r, aus).astype(np.float32) @ LUMA
    tgt = r.landmarks(aus, np.zeros(3))
    inner = cv2.erode(_poly(img.shape, tgt[T.LIPS_INNER_RING]).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert inner.sum() > 30
    detail = frame - cv2.GaussianBlur(frame, (0, 0), 1.0)
    local = np.sqrt(cv2.blur(detail ** 2, (5, 5)))[inner]
    assert np.median(local) >= 0.5 * sigma, (np.median(local), sigma)
    assert np.mean(local < 0.1 * sigma) < 0.05, "flat patches in the mouth interior"


def test_a_portrait_showing_teeth_keeps_its_own_teeth(astronaut):
    """Her teeth show in the portrait. The mouth drawn into her closed (filled) portrait at her own
    landmarks, the same opening, shows her teeth again: it correlates with the portrait there far
    better than the drawn teeth model does."""
    import dataclasses

    from emocast.render.mouth import draw_mouth

    img, face, r = astronaut
    assert r.style.own is not None
    p = face.landmarks[:, :2]
    region = cv2.erode(_poly(img.shape, p[T.LIPS_INNER_RING]).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert region.sum() > 100
    portrait = (img.astype(np.float32) @ LUMA)[region]
    closed = r.warper.image
    assert np.corrcoef((closed.astype(np.float32) @ LUMA)[region], portrait)[0, 1] < 0.6  # her teeth are gone
    corr = {}
    for name, style in (("own", r.style), ("drawn", dataclasses.replace(r.style, own=None))):
        frame = closed.copy()
        draw_mouth(frame, face.landmarks, style, r.s, upper_teeth=1.0, lower_teeth=0.5)
        corr[name] = float(np.corrcoef((frame.astype(np.float32) @ LUMA)[region], portrait)[0, 1])
    assert corr["own"] > 0.8 and corr["own"] > corr["drawn"] + 0.2, corr


def _shut_eye_dark_share(r: CPURenderer) -> list[float]:
    """Share of each shut eye's box (AU43 1) darker than half its upper lid's skin: the dark smudge."""
    aus = _aus(AU43=1.0)
    fr = r.render(aus, np.zeros(3), 0.0, 0.0).astype(np.float32) @ LUMA
    tgt = r.landmarks(aus, np.zeros(3))
    out = []
    for up, lo in ((T.RIGHT_EYE_UPPER, T.RIGHT_EYE_LOWER), (T.LEFT_EYE_UPPER, T.LEFT_EYE_LOWER)):
        pts = tgt[up + lo]
        x0, y0 = (pts.min(0) - [0, 0.06 * r.s]).astype(int)
        x1, y1 = (pts.max(0) + [0, 0.06 * r.s]).astype(int)
        lid = np.median(fr[int(pts[:, 1].min() - 0.1 * r.s):int(pts[:, 1].min() - 0.03 * r.s), x0:x1])
        out.append(float((fr[y0:y1, x0:x1] < 0.5 * lid).mean()))
    return out


def test_a_blink_closes_her_own_lid_over_both_eyes_alike(astronaut):
    """Shut, each eye shows lid skin and a lash line, not the crushed iris and white (a dark smudge):
    the layer that covers the opening with her upper lid cuts the smudge to well under what the warp
    alone leaves, on both eyes alike."""
    import copy

    img, face, r = astronaut
    with_lids = _shut_eye_dark_share(r)
    bare = copy.copy(r)
    bare.texture = copy.copy(r.texture)
    bare.texture.layers = [L for L in r.texture.layers if L.name != "closed_lids"]
    bare.texture.cols = [c for L, c in zip(r.texture.layers, r.texture.cols) if L.name != "closed_lids"]
    bare.texture.windows = [w for L, w in zip(r.texture.layers, r.texture.windows) if L.name != "closed_lids"]
    without = _shut_eye_dark_share(bare)
    assert max(with_lids) < 0.6 * max(without), (with_lids, without)
    assert abs(with_lids[0] - with_lids[1]) < 0.03, with_lids
    half = r.render(_aus(AU43=0.5), np.zeros(3), 0.0, 0.0)
    assert np.array_equal(half, bare.render(_aus(AU43=0.5), np.zeros(3), 0.0, 0.0))  # a half-shut eye keeps its iris

