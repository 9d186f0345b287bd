"""The warp's OpenGL rasteriser draws the same mesh as the CPU one (emocast/render/gl.py)."""
from __future__ import annotations

import os

import numpy as np
import pytest


@pytest.fixture(scope="module")
def gl():
    from emocast.render.gl import backend, raster

    name, why = backend()
    if name != "gl":
        if os.environ.get("EMOCAST_REQUIRE_GL"):
            pytest.fail(f"EMOCAST_REQUIRE_GL is set but the OpenGL rasteriser is unavailable: {why}")
        pytest.skip(f"no OpenGL rasteriser here: {why}")
    return raster()


def test_one_triangle_is_its_affine_map(gl):
    """Inside a triangle the drawn displacement is the affine interpolation of its vertices' (float32
    precision); outside it nothing is drawn."""
    pts = np.array([[3.0, 4.0], [60.0, 10.0], [20.0, 50.0]])
    disp = np.array([[1.0, -2.0], [5.0, 3.0], [-4.0, 0.5]])
    (out, cov), = gl.displacement(pts, disp, np.array([[0, 1, 2]]), [(0.0, 0.0, 1.0, 64, 64)])
    yy, xx = np.mgrid[0:64, 0:64]
    A = np.c_[pts, np.ones(3)]
    coef = np.linalg.solve(A, disp)  # disp = [x y 1] @ coef
    want = np.stack([xx, yy, np.ones_like(xx)], -1) @ coef
    assert 800 < cov.sum() < 1300  # the triangle's area is 1,083.5 px²
    assert np.abs(out[cov] - want[cov]).max() < 1e-3
    assert not out[~cov].any()


def test_grid_spacing_and_origin(gl):
    """Grid point (i, j) is the pixel (ox + i*step, oy + j*step): a map that is the identity's
    displacement field (-x, -y) comes back as the grid's own coordinates."""
    pts = np.array([[-10.0, -10.0], [300.0, -10.0], [-10.0, 300.0], [300.0, 300.0]])
    (out, cov), = gl.displacement(pts, -pts, np.array([[0, 1, 2], [1, 3, 2]]), [(20.0, 30.0, 2.5, 40, 30)])
    assert cov.all()
    j, i = np.mgrid[0:30, 0:40]
    assert np.abs(out[..., 0] + (20.0 + i * 2.5)).max() < 1e-3
    assert np.abs(out[..., 1] + (30.0 + j * 2.5)).max() < 1e-3


def test_grids_drawn_side_by_side_are_each_their_own(gl):
    """Several grids in one pass (one framebuffer, one read): each is what it is when drawn alone (to
    float32 rounding), whatever its size and the others' sizes."""
    pts = np.array([[-10.0, -10.0], [300.0, -10.0], [-10.0, 300.0], [140.0, 120.0]])
    disp = np.array([[1.0, 2.0], [-3.0, 4.0], [5.0, -6.0], [0.5, 0.5]])
    tris = np.array([[0, 1, 3], [1, 2, 3], [0, 3, 2]])
    grids = [(0.0, 0.0, 3.0, 100, 90), (120.0, 100.0, 1.0, 37, 50), (10.0, 200.0, 1.0, 64, 20)]
    together = gl.displacement(pts, disp, tris, grids)
    for g, (out, cov) in zip(grids, together):
        (alone, cov_alone), = gl.displacement(pts, disp, tris, [g])
        assert out.shape == (g[4], g[3], 2) and cov.shape == (g[4], g[3])
        assert np.array_equal(cov, cov_alone) and np.abs(out - alone).max() < 1e-4  # float32 rounding


def test_frames_match_the_cpu_rasteriser(gl, fixtures_dir):
    """Whole frames of a fixture portrait: the two rasterisers differ only at a few edge pixels."""
    from emocast.engines.fit import fit_portrait
    from emocast.face import analyse
    from emocast.media import load_image
    from emocast.render import CPURenderer
    from emocast.rig import AU_INDEX, AU_NAMES

    img = load_image(fixtures_dir / "portraits" / "AniPortrait_Aragaki.png")
    img, face = fit_portrait(img, analyse(img), 512)
    r = CPURenderer(img, face)
    assert r.warper.rasteriser == "gl"
    frames = {}
    for mode in ("cpu", "gl"):
        r.warper.rasteriser = mode
        out = []
        for i in range(12):
            a = np.zeros(len(AU_NAMES), np.float32)
            a[AU_INDEX["AU26"]], a[AU_INDEX["AU25"]] = 0.4 + 0.4 * np.sin(i), 0.6
            a[AU_INDEX["AU4"]], a[AU_INDEX["AU12"]] = 0.7, 0.3 * (i % 3)
            out.append(r.render(a, np.array([4 * np.sin(i / 3), 2.0, -1.0]), 1.0, 0.4))
        frames[mode] = np.array(out, np.int16)
    d = np.abs(frames["cpu"] - frames["gl"]).max(-1)
    assert d.mean() < 0.05, d.mean()
    assert (d > 8).mean() < 5e-4, (d > 8).mean()


def test_generate_says_which_rasteriser_ran(gl, astronaut_png, tmp_path):
    import emocast

    info = emocast.generate(str(astronaut_png), text="Hi.", output=str(tmp_path / "a.mp4"), size=384).info
    assert any(m.startswith("warp rasterised on OpenGL: OpenGL") for m in info.messages), info.messages
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMOCAST_RASTER", "cpu")
        info = emocast.generate(str(astronaut_png), text="Hi.", output=str(tmp_path / "b.mp4"), size=384).info
    assert any(m.startswith("warp rasterised on the CPU") for m in info.messages), info.messages
