"""``emocast train export``: a run's trained weights -> a weights folder laid out like the release."""
from __future__ import annotations

import json
import os
import shutil

from ..errors import InputError
from .loop import TRAINABLE


def export(run: str, output: str) -> str:
    """Write ``output/`` in the release's layout: ``emocast/net.pth`` (the starting network with the run's
    trained weights, release key names, loadable strictly by :func:`emocast.neural.convert.load_release_checkpoint`)
    beside the starting folder's VAE, CLIP, wav2vec2 and ArcFace parts.

    Raises:
        InputError: not a run folder, no trained weights yet, weights that do not fit the network, or an
            output that exists and is not empty.
    """
    import torch
    from safetensors.torch import load_file

    from ..neural.convert import convert_to_release_state_dict
    from .model import load_components

    meta_path, weights_path = os.path.join(run, "run.json"), os.path.join(run, TRAINABLE)
    if not os.path.isfile(meta_path):
        raise InputError(run, "not a training run folder (no run.json)")
    if not os.path.isfile(weights_path):
        raise InputError(run, "no trained weights yet (the run saved no step)")
    if os.path.isdir(output) and os.listdir(output):
        raise InputError(output, "output folder exists and is not empty")
    with open(meta_path) as f:
        meta = json.load(f)
    comp = load_components(meta["weights"])
    trained = load_file(weights_path)
    own = dict(comp.net.named_parameters())
    bad = [k for k in trained if k not in own or own[k].shape != trained[k].shape]
    if bad:
        raise InputError(weights_path, f"weight {bad[0]} does not fit the starting network")
    with torch.no_grad():
        for k, v in trained.items():
            own[k].copy_(v)
    tmp = output.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(meta["weights"], tmp, ignore=shutil.ignore_patterns("net.pth", "net.safetensors"))
    torch.save(convert_to_release_state_dict(comp.net.state_dict()), os.path.join(tmp, "emocast", "net.pth"))
    if os.path.isdir(output):
        os.rmdir(output)
    os.replace(tmp, output)
    return output
