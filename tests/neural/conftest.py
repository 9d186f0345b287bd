import pytest
import torch

pytest.importorskip("diffusers")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny():
    from emocast.neural.tiny import tiny_components
    return tiny_components(seed=0)
