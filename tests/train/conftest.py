"""A tiny release-layout weights folder and a one-clip dataset of the real KatieHill video, made once."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("diffusers")
pytest.importorskip("accelerate")

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"
KATIE = FIXTURES / "video" / "SadTalker_WDA_KatieHill_000.mp4"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    import torch

    from emocast.neural.tiny import tiny_components
    from emocast.neural.weights import save_release_layout
    from onnx_tiny import tiny_arcface

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("weights") / "w"
    save_release_layout(str(folder), **tiny_components(seed=0))
    (folder / "face_analysis" / "models").mkdir(parents=True)
    tiny_arcface(folder / "face_analysis" / "models" / "glintr100.onnx", dim=16)
    return folder


@pytest.fixture(scope="session")
def katie_dataset(tmp_path_factory):
    if not KATIE.is_file():
        pytest.skip(f"needs the real test media in {FIXTURES}")
    from emocast.dataset import build

    root = tmp_path_factory.mktemp("data")
    build([str(KATIE)], str(root), progress=False)
    return root
