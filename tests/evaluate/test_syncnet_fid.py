"""SyncNet (LSE-D/LSE-C) and FID: no weights ship, so loading errors, shapes and the math are tested."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from emocast.errors import InputError
from emocast.evaluate import fid as F
from emocast.evaluate import syncnet as S


def test_syncnet_shapes_and_random_weights_roundtrip(tmp_path):
    torch.manual_seed(0)
    model = S.build_syncnet().eval()
    with torch.no_grad():
        assert model.forward_aud(torch.randn(2, 1, 13, 20)).shape == (2, 1024)
        assert model.forward_lip(torch.randn(2, 3, 5, 224, 224)).shape == (2, 1024)
    path = tmp_path / "syncnet_v2.model"
    torch.save(model.state_dict(), path)
    loaded = S.load_syncnet(path)
    k = "netcnnlip.0.weight"
    assert torch.equal(loaded.state_dict()[k], model.state_dict()[k])

    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (12, 224, 224, 3), dtype=np.uint8)
    wav = (rng.standard_normal(12 * 640) * 0.1).astype(np.float32)
    r = S.lse(loaded, crops, wav)
    assert r["frames_scored"] == 7  # 12 frames - 5, as in syncnet_python
    assert np.isfinite(r["lse_d"]) and r["lse_d"] > 0 and r["lse_c"] >= 0
    assert -S.VSHIFT <= r["syncnet_offset"] <= S.VSHIFT


def test_syncnet_loading_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        S.load_syncnet(tmp_path / "missing.model")
    junk = tmp_path / "junk.model"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot read"):
        S.load_syncnet(junk)
    sd = S.build_syncnet().state_dict()
    partial = tmp_path / "partial.model"
    torch.save({k: v for k, v in sd.items() if not k.startswith("netfclip")}, partial)
    with pytest.raises(InputError, match="missing keys"):
        S.load_syncnet(partial)
    wrong = dict(sd)
    wrong["netfcaud.3.weight"] = torch.zeros(512, 512)
    bad = tmp_path / "bad.model"
    torch.save(wrong, bad)
    with pytest.raises(InputError, match="shape"):
        S.load_syncnet(bad)


def test_mfcc_matches_reference_layout():
    wav = np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000) * 10000
    m = S.mfcc(wav)
    assert m.shape == (1 + int(np.ceil((16000 - 400) / 160)), 13)  # python_speech_features' framing
    np.testing.assert_allclose(m[5:-5, 0], m[5, 0], rtol=1e-3)  # steady tone: steady log energy


def test_face_crops_shape(astronaut):
    frames = np.repeat(astronaut[None], 3, 0)
    boxes = np.array([[180, 80, 280, 190]] * 3, np.float32)
    crops = S.face_crops(frames, boxes)
    assert crops.shape == (3, 224, 224, 3) and crops.dtype == np.uint8
    # BGR order: the astronaut's red flag/suit colours are swapped relative to RGB input
    assert not np.array_equal(crops[0], crops[0][..., ::-1])


def test_frechet_distance_math():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 4))
    mu, s = F.feature_stats(x)
    assert abs(F.frechet_distance(mu, s, mu, s)) < 1e-6
    # diagonal Gaussians: |mu1-mu2|^2 + sum (s1 + s2 - 2 sqrt(s1 s2))
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    want = np.sum((m1 - m2) ** 2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    assert abs(F.frechet_distance(m1, np.diag(v1), m2, np.diag(v2)) - want) < 1e-6
    with pytest.raises(ValueError):
        F.frechet_distance(m1, np.diag(v1), m2[:2], np.diag(v2[:2]))


class _TinyFeatures(torch.nn.Module):
    """Stand-in for the TorchScript Inception: uint8 images -> (N, 8) features."""

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        x = x.float() / 255.0
        pooled = torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)  # (N, 12)
        return pooled[:, :8]


def test_fid_pipeline_with_a_scripted_extractor(tmp_path, astronaut):
    path = tmp_path / "tiny.pt"
    torch.jit.script(_TinyFeatures()).save(str(path))
    model = F.load_inception(path)
    rng = np.random.default_rng(0)
    frames = np.clip(astronaut[None].astype(int) + rng.integers(-40, 40, (20, 1, 1, 3)), 0, 255).astype(np.uint8)
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    from PIL import Image

    for i in range(20):
        Image.fromarray(frames[i]).save(ref_dir / f"{i:02d}.png")
    ref = F.load_reference(ref_dir)
    same = F.fid(model, frames, ref)
    other = F.fid(model, 255 - frames, ref)
    assert same["n_frames"] == 20 and same["n_reference"] == 20 and same["feature_dim"] == 8
    assert abs(same["fid"]) < 1e-3 and other["fid"] > 0.1


def test_fid_loading_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        F.load_inception(tmp_path / "none.pt")
    sd = tmp_path / "state_dict.pth"
    torch.save({"w": torch.zeros(2)}, sd)
    with pytest.raises(InputError, match="TorchScript"):
        F.load_inception(sd)
    with pytest.raises(InputError, match="not found"):
        F.load_reference(tmp_path / "nodir")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no image"):
        F.load_reference(tmp_path / "empty")
