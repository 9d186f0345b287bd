"""The weights folder of the neural engine, laid out like the release's ``pretrained_models``::

    WEIGHTS/
      emocast/net.pth                         EmoCAST network (2.49 B parameters)
      sd-vae-ft-mse/                          AutoencoderKL (config.json + weights)
      wav2vec/wav2vec2-base-960h/             Wav2Vec2Model (also accepted: wav2vec2-base-960h/)
      clip-vit-large-patch14/                 CLIP text encoder + tokenizer
      face_analysis/models/glintr100.onnx     ArcFace (or w600k_r50.onnx / arcface*.onnx)
      stable-diffusion-v1-5/unet/             only to initialise training (net.pth replaces it)
      motion_module/mm_sd_v15_v2.ckpt         only to initialise training

Everything is read from disk (``local_files_only``); nothing is downloaded.
"""
from __future__ import annotations

import glob
import os

from emocast.errors import InputError

_WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin", "model.safetensors",
                 "pytorch_model.bin", "diffusion_pytorch_model.fp16.safetensors")


def _has_model(d: str) -> bool:
    return os.path.isfile(os.path.join(d, "config.json")) and any(
        os.path.isfile(os.path.join(d, f)) for f in _WEIGHT_FILES)


def _first(root: str, options: list[str], ok) -> str | None:
    for o in options:
        p = os.path.join(root, o)
        if ok(p):
            return p
    return None


def _has_tokenizer(d: str) -> bool:
    return os.path.isfile(os.path.join(d, "tokenizer.json")) or (
        os.path.isfile(os.path.join(d, "vocab.json")) and os.path.isfile(os.path.join(d, "merges.txt")))


def _arcface(root: str) -> str | None:
    d = os.path.join(root, "face_analysis", "models")
    for name in ("glintr100.onnx", "w600k_r50.onnx"):
        if os.path.isfile(os.path.join(d, name)):
            return os.path.join(d, name)
    found = sorted(glob.glob(os.path.join(d, "arcface*.onnx")))
    return found[0] if found else None


def locate(weights_dir: str, training: bool = False) -> tuple[dict, list[str]]:
    """Find every part. Returns ``(paths, missing)``: part -> path, and one description per
    missing part (relative to ``weights_dir``)."""
    root = os.fspath(weights_dir)
    parts, missing = {}, []

    def need(key, path, what):
        if path:
            parts[key] = path
        else:
            missing.append(what)

    need("net", _first(root, ["emocast/net.pth", "emocast/net.safetensors"], os.path.isfile), "emocast/net.pth")
    need("vae", _first(root, ["sd-vae-ft-mse"], _has_model), "sd-vae-ft-mse/ (config.json + weights)")
    need("wav2vec", _first(root, ["wav2vec/wav2vec2-base-960h", "wav2vec2-base-960h"], _has_model),
         "wav2vec/wav2vec2-base-960h/ (config.json + weights)")
    clip = _first(root, ["clip-vit-large-patch14"], lambda d: _has_model(d) and _has_tokenizer(d))
    need("clip", clip, "clip-vit-large-patch14/ (config.json + weights + tokenizer)")
    need("arcface", _arcface(root), "face_analysis/models/glintr100.onnx (or w600k_r50.onnx)")
    if training:
        need("sd15", _first(root, ["stable-diffusion-v1-5/unet"], _has_model),
             "stable-diffusion-v1-5/unet/ (config.json + weights)")
        need("motion_module", _first(root, ["motion_module/mm_sd_v15_v2.ckpt"], os.path.isfile),
             "motion_module/mm_sd_v15_v2.ckpt")
    return parts, missing


def check_weights(weights_dir: str, training: bool = False) -> dict:
    """Check the weights folder; return part -> path.

    Raises :class:`~emocast.errors.InputError` ``"<weights_dir>: missing: a, b, c"`` (one line)
    listing every missing part relative to the folder, or ``"... not a folder"``.
    The ArcFace model is optional in practice (without it the face tokens are those of a zero
    embedding, like the release when no face is detected) but is listed here so a user knows.
    """
    if not os.path.isdir(weights_dir):
        raise InputError(weights_dir, "weights folder not found (expected the release's pretrained_models layout)")
    parts, missing = locate(weights_dir, training)
    if missing:
        raise InputError(weights_dir, "missing: " + ", ".join(missing))
    return parts


def net_config_for(net_path: str):
    """Network sizes for a checkpoint: ``config.json`` beside ``net.pth`` if present (our tiny
    test checkpoints), else the release's sizes."""
    import json

    from .config import NetConfig, full_config

    p = os.path.join(os.path.dirname(net_path), "config.json")
    if not os.path.isfile(p):
        return full_config()
    with open(p) as f:
        d = json.load(f)
    return NetConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def save_release_layout(folder: str, net, vae, text_encoder, tokenizer, audio_encoder, arcface_onnx: str | None = None,
                        write_config: bool = True) -> str:
    """Write components in the release's folder layout (``net.pth`` with the release's key names).

    Used by tests with tiny random models, and to export a fine-tuned network. ``arcface_onnx``
    is copied to ``face_analysis/models/glintr100.onnx`` when given. Returns ``folder``.
    """
    import json
    import shutil

    import torch

    from .convert import convert_to_release_state_dict

    os.makedirs(os.path.join(folder, "emocast"), exist_ok=True)
    torch.save(convert_to_release_state_dict(net.state_dict()), os.path.join(folder, "emocast", "net.pth"))
    if write_config:
        with open(os.path.join(folder, "emocast", "config.json"), "w") as f:
            json.dump(net.cfg.to_dict(), f)
    vae.save_pretrained(os.path.join(folder, "sd-vae-ft-mse"))
    text_encoder.save_pretrained(os.path.join(folder, "clip-vit-large-patch14"))
    tokenizer.save_pretrained(os.path.join(folder, "clip-vit-large-patch14"))
    audio_encoder.save_pretrained(os.path.join(folder, "wav2vec", "wav2vec2-base-960h"))
    if arcface_onnx:
        os.makedirs(os.path.join(folder, "face_analysis", "models"), exist_ok=True)
        shutil.copy(arcface_onnx, os.path.join(folder, "face_analysis", "models", "glintr100.onnx"))
    return folder


def load_pipeline(weights_dir: str, device=None, dtype=None, sampler: str = "ddim", cpu_offload: bool = False):
    """Build an :class:`~emocast.neural.pipeline.EmoCASTPipeline` from the weights folder.

    The network is created on the ``meta`` device and filled from ``net.pth`` (no double
    allocation). Returns ``(pipeline, arcface_path)``. Raises InputError for missing parts.
    """
    import torch
    from diffusers import AutoencoderKL
    from transformers import CLIPTextModel, CLIPTokenizer, Wav2Vec2Model

    from .convert import load_release_checkpoint
    from .net import build_net
    from .pipeline import EmoCASTPipeline, make_scheduler

    parts = check_weights(weights_dir)
    dtype = dtype or torch.float32
    net = build_net(net_config_for(parts["net"]), device="meta")
    load_release_checkpoint(net, parts["net"], dtype=dtype)
    net.eval()
    kw = dict(local_files_only=True, torch_dtype=dtype)
    vae = AutoencoderKL.from_pretrained(parts["vae"], **kw).eval()
    text = CLIPTextModel.from_pretrained(parts["clip"], **kw).eval()
    tok = CLIPTokenizer.from_pretrained(parts["clip"], local_files_only=True)
    w2v = Wav2Vec2Model.from_pretrained(parts["wav2vec"], local_files_only=True, torch_dtype=torch.float32).eval()
    pipe = EmoCASTPipeline.from_net(net, vae, text, tok, w2v, make_scheduler(sampler))
    if cpu_offload:
        pipe.enable_model_cpu_offload(device=device or "cuda")
    else:
        pipe.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        pipe.audio_encoder.to(torch.float32)
    return pipe, parts.get("arcface")
