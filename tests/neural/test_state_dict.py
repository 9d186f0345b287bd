"""Interoperability with the released net.pth: keys, shapes, converter, strict loading."""
from pathlib import Path

import pytest
import torch

from emocast.neural.config import tiny_config
from emocast.neural.convert import (convert_release_state_dict, convert_to_release_state_dict,
                                    release_key_to_ours)
from emocast.neural.net import build_net

TSV = Path(__file__).resolve().parents[3] / "shared" / "neural" / "net_state_dict.tsv"


def _release_meta_state_dict():
    if not TSV.exists():
        pytest.skip(f"{TSV} not present")
    sd = {}
    for line in TSV.read_text().splitlines()[1:]:
        key, shape, dtype = line.split("\t")[:3]
        dims = tuple(int(x) for x in shape.strip("[]").split(",") if x)
        sd[key] = torch.empty(dims, dtype=getattr(torch, dtype), device="meta")
    return sd


@pytest.fixture(scope="module")
def full_meta():
    return build_net(device="meta")


def test_full_network_matches_release_keys_and_shapes(full_meta):
    rel = _release_meta_state_dict()
    assert len(rel) == 2832
    conv = convert_release_state_dict(rel)
    ours = full_meta.state_dict()
    assert set(conv) == set(ours)
    bad = [k for k in ours if tuple(ours[k].shape) != tuple(conv[k].shape)]
    assert not bad, bad[:5]
    # the strict load itself
    res = full_meta.load_state_dict(conv, strict=True, assign=True)
    assert not res.missing_keys and not res.unexpected_keys


def test_full_network_parameter_count(full_meta):
    n = sum(p.numel() for p in full_meta.parameters())
    assert n == 2_493_427_348
    per = {k: sum(p.numel() for p in getattr(full_meta, k).parameters())
           for k in ("reference_unet", "denoising_unet", "face_locator", "face_proj", "audio_proj")}
    assert per == {"reference_unet": 878_678_080, "denoising_unet": 1_576_191_748, "face_locator": 514_896,
                   "face_proj": 1_577_472, "audio_proj": 36_465_152}


def test_every_release_key_has_a_rule():
    rel = _release_meta_state_dict()
    dropped = [k for k in rel if release_key_to_ours(k) is None]
    assert len(dropped) == 21 and all(k.endswith("attention_blocks.1.pos_encoder.pe") for k in dropped)
    back = convert_to_release_state_dict(convert_release_state_dict(rel))
    assert set(back) == set(rel)
    assert all(back[k].dtype == rel[k].dtype for k in rel if k.startswith("audioproj"))


def test_tiny_round_trip_through_release_names(tiny):
    net = tiny["net"]
    rel = convert_to_release_state_dict(net.state_dict())
    fresh = build_net(tiny_config())
    fresh.load_state_dict(convert_release_state_dict(rel, dtype=torch.float32), strict=True)
    for (k, a), b in zip(net.state_dict().items(), fresh.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-3), k  # audio_proj went through fp16


def test_converter_checks_duplicate_position_tables(tiny):
    rel = convert_to_release_state_dict(tiny["net"].state_dict())
    key = next(k for k in rel if k.endswith("attention_blocks.1.pos_encoder.pe"))
    rel[key] = rel[key] + 1
    with pytest.raises(ValueError, match="position table"):
        convert_release_state_dict(rel)
