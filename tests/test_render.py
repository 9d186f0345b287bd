"""The CPU renderer's texture layers, mouth interior and warp, on the astronaut portrait."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from emocast.face import analyse
from emocast.face import topology as T
from emocast.rig import AU_INDEX, AU_NAMES
from emocast.render import CPURenderer
from emocast.render.cpu import N_WARP, fill_open_mouth
from emocast.render.texture import TextureLayers


@pytest.fixture(scope="module")
def astronaut():
    import skimage.data

    img = np.ascontiguousarray(skimage.data.astronaut())
    return img, analyse(img)


@pytest.fixture(scope="module")
def renderer(astronaut):
    img, face = astronaut
    return CPURenderer(img, face)


def _aus(**kw) -> np.ndarray:
    a = np.zeros(len(AU_NAMES), np.float32)
    for k, v in kw.items():
        a[AU_INDEX[k]] = v
    return a


def _grey(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _glabella_box(pts: np.ndarray, s: float) -> tuple[slice, slice]:
    """Pixels between the inner ends of the brows (rows, cols)."""
    c = 0.5 * (pts[55] + pts[285])
    return slice(int(c[1] - 0.25 * s), int(c[1] + 0.05 * s)), slice(int(c[0] - 0.12 * s), int(c[0] + 0.12 * s))


def test_layers_fade_with_the_action_unit(astronaut):
    img, face = astronaut
    tex = TextureLayers(img, face)
    # At rest only the smile-softening layer of this smiling portrait is on; it never touches the brows.
    rows, cols = _glabella_box(face.points, face.interocular)
    base = _grey(img)[rows, cols].mean()
    darkening = []
    for a in (0.0, 0.25, 0.5, 1.0):
        out = tex.apply(_aus(AU4=a, AU12=1.0, AU6=1.0))
        darkening.append(base - _grey(out)[rows, cols].mean())
    assert darkening[0] == pytest.approx(0.0, abs=0.01)
    assert all(b > a for a, b in zip(darkening, darkening[1:])), darkening  # fades in monotonically
    assert darkening[-1] > 4.0, darkening  # frown furrows and brow shadow: clearly darker
    # Away from the furrows (the chin) nothing changes.
    chin = face.points[T.CHIN].astype(int)
    out = tex.apply(_aus(AU4=1.0, AU12=1.0, AU6=1.0))
    np.testing.assert_array_equal(out[chin[1] - 25:chin[1] - 10, chin[0] - 10:chin[0] + 10],
                                  img[chin[1] - 25:chin[1] - 10, chin[0] - 10:chin[0] + 10])


def test_creases_are_skin_in_shadow_not_grey(astronaut):
    """Frown furrows darken the skin without greying it: where AU4 darkens the glabella, saturation
    does not fall (an even darkening of light skin gives pencil-grey strokes)."""
    img, face = astronaut
    tex = TextureLayers(img, face)
    rows, cols = _glabella_box(face.points, face.interocular)
    out = tex.apply(_aus(AU4=1.0, AU12=1.0, AU6=1.0))[rows, cols]
    ref = tex.apply(_aus(AU12=1.0, AU6=1.0))[rows, cols]
    dark = _grey(ref) - _grey(out) > 8  # the furrows themselves
    assert dark.sum() > 20, dark.sum()
    sat0 = cv2.cvtColor(ref, cv2.COLOR_RGB2HSV)[..., 1][dark].astype(float).mean()
    sat1 = cv2.cvtColor(out, cv2.COLOR_RGB2HSV)[..., 1][dark].astype(float).mean()
    assert sat1 > sat0 + 3, (sat0, sat1)


def test_lip_press_pales_the_lips(astronaut):
    img, face = astronaut
    tex = TextureLayers(img, face)
    m = face.region_mask("lips") > 0
    hsv0 = cv2.cvtColor(tex.apply(_aus(AU12=1.0)), cv2.COLOR_RGB2HSV)[m]
    hsv1 = cv2.cvtColor(tex.apply(_aus(AU12=1.0, AU23=1.0, AU24=1.0)), cv2.COLOR_RGB2HSV)[m]
    assert hsv1[:, 1].mean() < hsv0[:, 1].mean() - 3  # less saturated ...
    assert hsv1[:, 2].mean() > hsv0[:, 2].mean() + 3  # ... and lighter: paler lips


def test_texture_follows_the_moving_face(renderer):
    """The furrows are drawn on the skin before the warp: with the head turned and the brows lowered,
    the texture's change sits between the *moved* brows."""
    r = renderer
    aus = _aus(AU4=1.0)
    pose = np.array([25.0, -10.0, 12.0])
    tgt = r.landmarks(aus, pose)
    boxes = r._fine_boxes(tgt)
    plain = r.warper.warp(tgt[:N_WARP], image=r.image, fine_boxes=boxes)
    textured = r.warper.warp(tgt[:N_WARP], image=r.texture.apply(aus), fine_boxes=boxes)
    diff = (_grey(plain) - _grey(textured)).clip(0)
    moved = 0.5 * (tgt[55] + tgt[285])
    before = 0.5 * (r.src[55, :2] + r.src[285, :2])
    assert np.linalg.norm(moved - before) > 0.2 * r.s  # the pose moved the brows
    # Darkening near the brows: its centroid sits at the moved glabella, not where it was.
    c = 0.5 * (moved + before)
    y0, y1, x0, x1 = int(c[1] - r.s), int(c[1] + 0.6 * r.s), int(c[0] - r.s), int(c[0] + r.s)
    w = diff[y0:y1, x0:x1]
    assert w.mean() > 0.5
    yy, xx = np.mgrid[y0:y1, x0:x1]
    centroid = np.array([(w * xx).sum(), (w * yy).sum()]) / w.sum()
    assert np.linalg.norm(centroid - moved) < np.linalg.norm(centroid - before)


def test_no_flicker_on_a_smooth_expression(renderer):
    """A smooth AU ramp gives a smooth change of the rendered glabella, frame to frame."""
    r = renderer
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 16))
    rows, cols = _glabella_box(r.src[:, :2], r.s)
    lum = np.array([_grey(r.render(_aus(AU4=a, AU7=0.5 * a), np.zeros(3)))[rows, cols].mean() for a in ramp])
    steps = np.diff(lum)
    assert np.all(steps <= 0.05), steps  # darker at every step, never back and forth
    assert np.abs(np.diff(steps)).max() < 0.5 * np.abs(steps).max() + 0.3  # no sudden jumps


def test_open_smile_closes_without_specks(astronaut, renderer):
    """The astronaut smiles with her teeth showing. Closed to neutral, the lips hold no stray dark or
    bright pixels (the old mouth interior sampled at the corners, or far-off pixels from folded
    triangles)."""
    img, face = astronaut
    filled = fill_open_mouth(img, face)
    m = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(face.points[T.LIPS_INNER_RING]).astype(np.int32)], 1)
    assert _grey(img)[m > 0].max() > 200  # her teeth
    assert _grey(filled)[m > 0].max() < _grey(img)[m > 0].max() - 20
    for aus in (_aus(), _aus(AU1=1.2, AU4=0.8, AU15=1.2, AU17=0.35)):  # neutral and sad, lips closed
        fr = renderer.render(aus, np.zeros(3))
        g = _grey(fr)
        med = cv2.medianBlur(fr, 3).astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        lips = renderer.landmarks(aus, np.zeros(3))[T.UPPER_LIP + T.LOWER_LIP]
        (x0, y0), (x1, y1) = lips.min(0).astype(int) - 8, lips.max(0).astype(int) + 8
        outliers = np.abs(g - med)[y0:y1, x0:x1] > 50
        assert outliers.sum() <= 3, outliers.sum()


def test_warp_never_samples_beyond_the_landmarks_moves(renderer):
    """Every pixel's displacement is a blend of its triangle's corner displacements, so it never exceeds
    the largest landmark displacement (no extrapolation from thin triangles)."""
    r = renderer
    for aus in (_aus(), _aus(AU25=1.0, AU26=1.0), _aus(AU20=1.0, AU16=0.6, AU25=0.6, AU5=1.3, AU1=1.2)):
        tgt = r.landmarks(aus, np.array([8.0, 4.0, -3.0]))
        source_xy = r.warper.backward_map(tgt[:N_WARP], r._fine_boxes(tgt))
        h, w = source_xy.shape[:2]
        d = np.linalg.norm(source_xy - r.warper.coords[:h, :w], axis=-1)
        biggest = np.linalg.norm(r.src[:N_WARP, :2] - tgt[:N_WARP], axis=1).max()
        assert d.max() <= biggest * 1.02 + 1.0


def test_teeth_rows(renderer):
    """Fear (AU20, AU16) shows a lower row of teeth in the lower half of the opening; speech alone does not."""
    from emocast.rig import teeth_rows

    r = renderer
    speech = _aus(AU25=1.0, AU26=0.5)
    fear = _aus(AU25=1.0, AU26=0.5, AU20=1.0, AU16=0.6)
    out = []
    for aus in (speech, fear):
        up, lo = teeth_rows(aus)
        assert 0.2 <= up <= 1.0
        fr = r.render(aus, np.zeros(3), upper_teeth=float(up), lower_teeth=float(lo))
        tgt = r.landmarks(aus, np.zeros(3))
        mid = 0.5 * (tgt[13] + tgt[14])
        lower_band = _grey(fr)[int(mid[1]) + 1:int(tgt[14, 1]) - 1, int(mid[0]) - 6:int(mid[0]) + 6]
        out.append(lower_band.mean())
    assert teeth_rows(speech)[1] < 0.1 and teeth_rows(fear)[1] > 0.9
    assert out[1] > out[0] + 15, out  # lower teeth are lighter than the dark mouth behind


def _open_mouth(r: CPURenderer, aus: np.ndarray) -> tuple[np.ndarray, float, float, int]:
    """Grey frame with the teeth rows :func:`teeth_rows` gives ``aus``, the inner lips' midline heights
    (top, bottom, pixels) and the mouth's centre column."""
    from emocast.rig import teeth_rows

    up, lo = teeth_rows(aus)
    fr = _grey(r.render(aus, np.zeros(3), upper_teeth=float(up), lower_teeth=float(lo)))
    tgt = r.landmarks(aus, np.zeros(3))
    return fr, float(tgt[13, 1]), float(tgt[14, 1]), int(tgt[13, 0])


@pytest.fixture(scope="module")
def drawn(renderer):
    """The astronaut's renderer drawing the teeth model instead of showing her own teeth (as for a
    portrait whose mouth is closed)."""
    return _drawn_teeth(renderer)


def _drawn_teeth(r: CPURenderer) -> CPURenderer:
    import copy
    import dataclasses

    d = copy.copy(r)
    d.style = dataclasses.replace(r.style, own=None)
    return d


def test_rounded_lips_cover_the_teeth(drawn):
    """An open mouth with rounded lips (AU18: surprise's "oh", the vowels OW, UW) shows less of the upper
    teeth than the same jaw drop with relaxed lips: only the incisal edges peek below the upper lip."""
    bright = []
    for aus in (_aus(AU25=1.0, AU26=0.8), _aus(AU25=1.0, AU26=0.8, AU18=0.6)):
        fr, top, bottom, x = _open_mouth(drawn, aus)
        assert bottom - top > 8  # open either way
        band = fr[int(top) + 1:int(top + 0.5 * (bottom - top)), x - 6:x + 6]
        bright.append(float((band > 150).mean()))  # share of tooth-lit pixels in the opening's upper half
    assert bright[1] < 0.75 * bright[0], bright


def test_relaxed_lips_shade_the_teeth(drawn):
    """Teeth behind relaxed, parted lips (speech) are in the lips' shade; lips drawn back from them (AU20
    stretch, AU12 smile) bare them to the light. Compared at the same opening: the brightest teeth pixels
    of the speaking mouth are clearly darker."""
    from emocast.rig import teeth_light

    peaks = []
    for aus in (_aus(AU25=1.0, AU26=0.5), _aus(AU25=1.0, AU26=0.5, AU20=1.0)):
        fr, top, bottom, x = _open_mouth(drawn, aus)
        assert bottom - top > 6
        peaks.append(float(np.percentile(fr[int(top):int(bottom) + 1, x - 8:x + 8], 95)))
    assert peaks[0] < 0.85 * peaks[1], peaks
    assert teeth_light(_aus(AU25=1.0, AU26=0.5)) < 0.7 and teeth_light(_aus(AU12=1.0)) == 1.0


def _folded_lower_lip_triangles(r: CPURenderer, aus: np.ndarray) -> int:
    tgt = r.landmarks(aus, np.zeros(3))[:N_WARP]
    w = r.warper
    ok = w._signed_area(np.concatenate([tgt, w.anchors])) * w.sign > 1e-6
    lower = np.isin(w.tris, T.LOWER_LIP).any(1)
    # Leave out the lip corners, where slivers may fold on a strong stretch (the warp skips them).
    src = r.src[:N_WARP, :2]
    cx = 0.5 * (src[T.MOUTH_CORNERS[0], 0] + src[T.MOUTH_CORNERS[1], 0])
    half = 0.5 * abs(src[T.MOUTH_CORNERS[1], 0] - src[T.MOUTH_CORNERS[0], 0])
    xs = np.concatenate([src, w.anchors])[w.tris][..., 0]
    central = (np.abs(xs - cx) < 0.75 * half).all(1)
    return int((~ok & lower & central).sum())


@pytest.mark.parametrize("portrait", ["SadTalker_sad.png", "AniPortrait_Aragaki.png"])
def test_skin_under_the_lower_lip_follows_it(fixtures_dir, portrait):
    """A lower lip pulled down (fear: AU16 + AU20 + lips apart, jaw open) takes the skin under it along:
    no mesh triangle between the lip and the chin folds over, which showed as stair-stepped blocks
    under the lip."""
    from emocast.engines.fit import fit_portrait
    from emocast.media import load_image

    img = load_image(fixtures_dir / "portraits" / portrait)
    img, face = fit_portrait(img, analyse(img), 512)
    r = CPURenderer(img, face)
    for speech in (0.3, 0.6):
        fear = _aus(AU1=1.2, AU2=0.7, AU4=0.8, AU5=1.3, AU15=0.25, AU16=0.6, AU20=1.3, AU25=0.8 + speech,
                    AU26=0.45 + 0.4 * speech)
        assert _folded_lower_lip_triangles(r, fear) == 0


def test_lips_part_in_a_lens(renderer):
    """Parted lips open most in the middle and stay joined towards the corners (no slot with square ends)."""
    r = renderer
    tgt = r.landmarks(_aus(AU25=1.0, AU26=0.5), np.zeros(3))
    up, lo = tgt[T.LIPS_INNER_UPPER], tgt[T.LIPS_INNER_LOWER]
    gap = lo[:, 1] - up[:, 1]
    mid = gap[len(gap) // 2]
    assert mid > 0.1 * r.s
    # The points next to each corner open at most half as wide as the middle.
    assert gap[1] < 0.5 * mid and gap[-2] < 0.5 * mid, (gap / mid).round(2)


def test_filled_mouth_gets_a_lip_line(renderer):
    """The astronaut's own open smile is filled in; closed to neutral, a darker seam is drawn where the
    lips meet, as on a closed mouth."""
    r = renderer
    assert r.style.lip_line > 0
    aus = _aus()
    fr = _grey(r.render(aus, np.zeros(3)))
    tgt = r.landmarks(aus, np.zeros(3))
    seam = 0.5 * (tgt[T.LIPS_INNER_UPPER, 1] + tgt[T.LIPS_INNER_LOWER, 1])
    cols = range(int(tgt[T.LIPS_INNER_UPPER[2], 0]), int(tgt[T.LIPS_INNER_UPPER[-3], 0]))
    ys = np.interp(list(cols), tgt[T.LIPS_INNER_UPPER, 0], seam)
    d = int(round(0.04 * r.s))
    line = np.mean([fr[int(round(y)), x] for x, y in zip(cols, ys)])
    around = np.mean([0.5 * (fr[int(round(y)) - d, x] + fr[int(round(y)) + d, x]) for x, y in zip(cols, ys)])
    assert line < around - 6, (line, around)


def _iris_height(frame: np.ndarray, pts: np.ndarray, iris) -> float:
    """Height of the dark iris blob through the iris centre, in iris diameters."""
    g = _grey(frame)
    c = pts[iris[0]]
    rad = float(np.mean(np.linalg.norm(pts[iris[1:]] - c, axis=1)))
    col = g[int(c[1] - 3 * rad):int(c[1] + 3 * rad), int(round(c[0]))]
    white = np.median(g[int(c[1] - rad):int(c[1] + rad), int(c[0] + 1.6 * rad)])
    dark = col < 0.5 * (col.min() + white)
    lo = hi = len(col) // 2
    while lo > 0 and dark[lo - 1]:
        lo -= 1
    while hi < len(col) - 1 and dark[hi + 1]:
        hi += 1
    return (hi - lo + 1) / (2 * rad)


def test_widened_eyes_keep_round_irises(renderer):
    """Raised upper lids (AU5, surprise) show white above the iris instead of stretching it into a tall
    oval: the dark iris blob stays within its diameter (the plain warp stretched it to 1.14-1.26)."""
    r = renderer
    aus = _aus(AU1=1.0, AU2=1.0, AU5=1.3)
    fr = r.render(aus, np.zeros(3))
    tgt = r.landmarks(aus, np.zeros(3))
    for iris in (T.RIGHT_IRIS, T.LEFT_IRIS):
        assert _iris_height(fr, tgt, iris) <= 1.0


def test_eyes_left_to_the_warp_unless_widened(renderer):
    """A blink or a squint (AU43, AU6 + AU7) is the warped portrait's own lids: no eyeball is painted."""
    r = renderer
    for aus in (_aus(AU43=0.8), _aus(AU6=1.0, AU7=0.8, AU12=1.0)):
        fr = r.render(aus, np.zeros(3))
        eyes, r.eyes.eyes = r.eyes.eyes, []
        try:
            plain = r.render(aus, np.zeros(3))
        finally:
            r.eyes.eyes = eyes
        assert np.array_equal(fr, plain)


@pytest.fixture(scope="module")
def astronaut_1024(astronaut):
    img, face = astronaut
    # Her head, cropped square and enlarged to fill a 1024² frame (a typical close-up portrait).
    x0, y0, x1, y1 = face.box
    c, half = np.array([(x0 + x1) / 2, (y0 + y1) / 2]), 0.75 * max(x1 - x0, y1 - y0)
    a, b = np.maximum(np.round(c - half).astype(int), 0), np.round(c + half).astype(int)
    big = cv2.resize(img[a[1]:b[1], a[0]:b[0]], (1024, 1024), interpolation=cv2.INTER_CUBIC)
    r = CPURenderer(big, analyse(big))
    # Enlarged 6.4x, the photo is soft (blur about 2.5 px) and the mouth would be drawn as soft
    # (test_mouth_interior_as_soft_as_the_portrait); these tests look at the detail drawn for a sharp one.
    r.style.blur = 0.0
    return r


def test_upper_teeth_show_as_separate_teeth(astronaut_1024):
    """At 1024², an open speech mouth shows single upper teeth: darker gaps between them and a rounded
    incisal edge that rises at each gap (a flat white band read as a denture strip)."""
    r = _drawn_teeth(astronaut_1024)
    aus = _aus(AU25=1.0, AU26=0.6)
    fr = _grey(r.render(aus, np.zeros(3), upper_teeth=0.8))
    tgt = r.landmarks(aus, np.zeros(3))
    cx, s = tgt[13, 0], r.s
    cols = np.arange(int(cx - 0.25 * s), int(cx + 0.25 * s))
    top = int(tgt[13, 1]) + 2
    band = fr[top:int(tgt[14, 1]), cols]
    lit = band > band.max() * 0.6
    # Brightness along a row through the teeth (the brightest row of the band) dips at each gap.
    row = band[int(np.argmax(band.mean(1)))]
    dips = [i for i in range(2, len(row) - 2) if row[i] == row[i - 2:i + 3].min() and row[i] < 0.85 * np.median(row)]
    assert len(dips) >= 4, (len(dips), row.round())
    # The lowest lit pixel of each column (the incisal edge) is uneven: teeth end in rounded tips.
    edge = len(band) - np.argmax(lit[::-1], 0)
    assert np.ptp(edge) >= 3, edge


def test_tongue_is_domed(astronaut_1024):
    """A wide-open mouth shows a tongue whose top is highest in the middle and falls towards the sides,
    not a band running parallel to the lower lip."""
    r = _drawn_teeth(astronaut_1024)
    aus = _aus(AU25=1.0, AU26=1.2)
    fr = r.render(aus, np.zeros(3), upper_teeth=0.6).astype(np.float32)
    tgt = r.landmarks(aus, np.zeros(3))
    cx, s = tgt[13, 0], r.s
    red = (fr[..., 0] - fr[..., 2] > 25) & (fr[..., 0] > 90)

    def tongue_top(x: float) -> int:
        x = int(round(x))
        y0, y1 = int(tgt[13, 1]) + 2, int(tgt[14, 1]) - 2
        col = red[y0:y1, x]
        assert col[-3:].all(), "no tongue above the lower lip"
        return y0 + len(col) - int(np.argmin(col[::-1]))  # first non-tongue pixel going up, from the lip

    lip = tgt[T.LIPS_INNER_LOWER]
    order = np.argsort(lip[:, 0])

    def thickness(x: float) -> float:
        """How far the tongue's top stands above the lower lip's inner edge at column x, pixels."""
        return float(np.interp(x, lip[order, 0], lip[order, 1])) - tongue_top(x)

    mid, side = thickness(cx), 0.5 * (thickness(cx - 0.12 * s) + thickness(cx + 0.12 * s))
    # It stands clearly higher above the lip in the middle than towards the sides (a band parallel to
    # the U of the lower lip stands equally high everywhere).
    assert mid - side > 0.05 * s, (mid, side, s)


def test_expression_weakened_only_past_the_displacement_budget(renderer):
    """The astronaut's broad smile is undone first; full fear on top would move her face past the
    budget, so it is scaled down until the two moves fit; happy and a mild fear fit as they are."""
    from emocast.emotion.aus import PROTOTYPES
    from emocast.rig import RigConfig

    fear = _aus(**PROTOTYPES["fear"])
    g = renderer.rig.expression_gain(np.stack([0.2 * fear, fear]))
    assert 0.5 <= g < 1.0
    rms = lambda d: float(np.sqrt((d ** 2).sum(-1).mean()))  # noqa: E731
    moved = rms(renderer.neutral) + rms(np.tensordot(g * fear, renderer.basis, axes=1))
    assert moved == pytest.approx(RigConfig().displacement_budget, abs=1e-3)
    assert renderer.rig.expression_gain(_aus(**PROTOTYPES["happy"])) == 1.0
    assert renderer.rig.expression_gain(0.3 * fear) == 1.0
    assert renderer.rig.expression_gain(np.zeros((5, len(AU_NAMES)), np.float32)) == 1.0


def test_small_face_teeth_rows_read_as_teeth(renderer):
    """On a small face (the astronaut at 512², 43 px between the eyes) a fear mouth shows both rows as
    tooth-coloured bands: a row only a pixel tall, shaded by the lip over it, showed as a grey line."""
    from emocast.rig import teeth_rows

    r = renderer
    assert r.s < 50
    aus = _aus(AU25=1.0, AU26=0.8, AU20=1.0, AU16=1.0, AU15=1.3)  # a stretched, open fear mouth
    up, lo = teeth_rows(aus)
    assert up < 0.3 and lo > 0.9  # the upper row shows only a little of itself
    fr = _grey(r.render(aus, np.zeros(3), upper_teeth=float(up), lower_teeth=float(lo)))
    tgt = r.landmarks(aus, np.zeros(3))
    cx = int(round(0.5 * (tgt[13, 0] + tgt[14, 0])))
    teeth = float(r.style.teeth @ np.array([0.299, 0.587, 0.114]))
    for top, bottom in ((tgt[13, 1], 0.5 * (tgt[13, 1] + tgt[14, 1])), (0.5 * (tgt[13, 1] + tgt[14, 1]), tgt[14, 1])):
        band = fr[int(top):int(np.ceil(bottom)) + 1, cx - 3:cx + 4]
        # Every column through the middle of the mouth crosses a row of teeth nearly as light as a lit tooth.
        assert band.max(0).min() > 0.75 * teeth, (band.max(0).round(), teeth)


def test_closed_lip_seam_has_no_hooks():
    """The seam drawn between closed lips is one smooth line, even where the inner contours' points
    cross and double back near a corner (as on a mouth closed from a broad smile): no column of it
    holds two separate dark strokes, and it ends within the mouth."""
    from emocast.render.mouth import draw_lip_line

    frame = np.full((120, 220, 3), 180, np.uint8)
    xs = np.linspace(40.0, 180.0, 11)
    upper = np.stack([xs, 60 - 0.2 * np.sin(np.linspace(0, np.pi, 11)) * 6], 1)
    lower = upper.copy()
    # Near the right corner the lower contour's points cross over and run back under the upper's.
    upper[-2], lower[-2] = [166.0, 58.0], [186.0, 61.0]
    upper[-1], lower[-1] = [180.0, 66.0], [150.0, 69.0]
    draw_lip_line(frame, upper, lower, interocular=90.0, strength=1.0)
    dark = _grey(frame) < 170
    assert dark.any()
    cols = np.nonzero(dark.any(0))[0]
    assert cols.min() >= 38 and cols.max() <= 184, (cols.min(), cols.max())
    for x in cols:
        runs = np.count_nonzero(np.diff(dark[:, x].astype(int)) == 1)
        assert runs == 1, (x, np.nonzero(dark[:, x])[0])


def test_open_smile_fill_takes_the_dark_corners(astronaut_1024):
    """A broad open smile's shadowed corners (outside the inner lip contour) are filled with the teeth
    and the opening, so closing the mouth leaves no brown hooks at its corners."""
    r = astronaut_1024
    ring = np.zeros(r.image.shape[:2], np.uint8)
    cv2.fillPoly(ring, [np.round(r.face.points[T.LIPS_OUTER_RING]).astype(np.int32)], 1)
    hsv_v = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2HSV)[..., 2][ring > 0].astype(np.float32)  # noqa: E731
    v = hsv_v(r.warper.image)
    assert np.mean(v < 0.7 * np.median(v)) < 0.005, np.mean(v < 0.7 * np.median(v))


def test_frown_on_a_smiling_portrait_keeps_the_lips_in_order(astronaut_1024):
    """Sad corners (AU15) on the astronaut's broad smile, brought to neutral first: at every point
    along the mouth the upper lip stays above the lower one, and no more mesh triangles fold than
    at rest. Built on the smiling photo, AU15's falloff reached the upper lip beside each corner but
    not the lower lip hanging below it, and pulled the upper lip across the lower at the corners."""
    r = astronaut_1024
    s = r.s

    def folded(aus):
        tgt = r.landmarks(aus, np.zeros(3))
        dst = np.concatenate([tgt[:N_WARP], r.warper.anchors])
        return tgt, int(np.count_nonzero(np.sign(r.warper._signed_area(dst)) != r.warper.sign))

    _, at_rest = folded(_aus())
    tgt, sad = folded(_aus(AU1=1.2, AU4=0.6, AU15=1.3, AU17=0.25))
    # Closed lips press into each other a little along the seam (their inner contours overlap by about
    # 2 % of the eye distance at rest); the lips' outer edges never cross. Built on the smiling photo,
    # both crossed by 6-7 % near the corners.
    for up, lo, tol in ((T.LIPS_INNER_UPPER, T.LIPS_INNER_LOWER, 0.03), (T.LIPS_OUTER_UPPER, T.LIPS_OUTER_LOWER, 0.0)):
        gap = (tgt[lo[1:-1], 1] - tgt[up[1:-1], 1]) / s
        assert gap.min() > -tol, gap.round(3)
    assert sad <= at_rest + 2, (sad, at_rest)


def test_edge_blur_sigma_recovers_a_known_blur(astronaut):
    """The re-blur estimate (Zhuo & Sim 2011) reads a sharp photo as sharp and a blurred copy as the blur
    put on it."""
    from emocast.render.sharpness import edge_blur_sigma

    img, face = astronaut
    x0, y0 = face.points.min(0).astype(int)
    x1, y1 = face.points.max(0).astype(int)
    box = (x0, y0, x1, y1)
    assert edge_blur_sigma(img, box) < 0.5
    for sigma in (1.5, 2.5):
        est = edge_blur_sigma(cv2.GaussianBlur(img, (0, 0), sigma), box)
        assert abs(est - sigma) < 0.4, (sigma, est)


def test_mouth_interior_as_soft_as_the_portrait(astronaut):
    """On a soft photo (here the astronaut blurred by 2 px) the drawn mouth interior is as soft as the
    face around it, not a crisp patch on a blurry face."""
    from emocast.render.sharpness import edge_blur_sigma

    img, _ = astronaut
    soft = cv2.GaussianBlur(img, (0, 0), 2.0)
    r = CPURenderer(soft, analyse(soft))
    assert r.style.blur > 1.5
    aus = _aus(AU25=1.0, AU26=0.8)
    frame = r.render(aus, np.zeros(3))
    lips = r.landmarks(aus, np.zeros(3))[T.LIPS_OUTER_RING]
    x0, y0 = np.floor(lips.min(0)).astype(int) - 15
    x1, y1 = np.ceil(lips.max(0)).astype(int) + 15
    assert edge_blur_sigma(frame, (x0, y0, x1, y1)) > 1.2  # 0.0 with the interior drawn crisp


def test_pchip_equals_scipys(renderer):
    """The renderer's PCHIP gives SciPy's PchipInterpolator values on the face's lip contours (moved by
    each AU) and on contours with flat and turning stretches."""
    from scipy.interpolate import PchipInterpolator

    from emocast.render.curves import pchip

    contours = []
    for name in AU_NAMES:
        tgt = renderer.landmarks(_aus(**{name: 1.0}), np.zeros(3))
        contours += [tgt[T.LIPS_INNER_UPPER], tgt[T.LIPS_INNER_LOWER], tgt[T.UPPER_LIP[:11]]]
    xs0 = np.arange(0, 40.0)
    contours += [np.stack([xs0[::4], np.round(np.sin(xs0[::4] / 5) * 3)], 1), np.array([[0.0, 1.0], [5.0, 2.0]])]
    for c in contours:
        order = np.argsort(c[:, 0])
        x, y = c[order, 0], c[order, 1]
        keep = np.concatenate([[True], np.diff(x) > 1e-3])
        x, y = x[keep], y[keep]
        xs = np.linspace(x[0], x[-1], 97)
        np.testing.assert_array_equal(pchip(x, y, xs), PchipInterpolator(x, y, extrapolate=False)(xs))


def test_warp_mesh_is_the_delaunay_triangulation(renderer):
    """OpenCV's triangulation of the warp mesh has the triangles of SciPy's (Qhull) Delaunay."""
    from scipy.spatial import Delaunay

    from emocast.render.warp import delaunay

    pts = renderer.warper.src
    ours = delaunay(pts)
    assert len(ours) > 1000
    assert {tuple(sorted(t)) for t in ours.tolist()} == {tuple(sorted(t)) for t in Delaunay(pts).simplices.tolist()}


def test_warp_outside_the_moving_box_is_the_portrait(renderer):
    """Resampling only the moving triangles' box gives the frame a remap of the whole head region gives."""
    w = renderer.warper
    tgt = renderer.landmarks(_aus(AU12=1.0, AU26=0.6), np.array([6.0, 3.0, 2.0]))[:N_WARP]
    x0, y0, x1, y1 = w.moving_box(tgt)
    assert (x1 - x0) * (y1 - y0) < (w.x1 - w.x0) * (w.y1 - w.y0)
    full = renderer.image.copy()
    full[w.y0:w.y1, w.x0:w.x1] = cv2.remap(renderer.image, w.backward_map(tgt), None, cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_REFLECT)
    np.testing.assert_array_equal(w.warp(tgt), full)
