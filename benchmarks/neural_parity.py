"""Numerical parity of our EmoCAST network with the official release (GVCLab/EmoCAST).

What it measures: one denoising-UNet evaluation, run the way the release's
``FaceAnimatePipeline.__call__`` (``emocast/animate/face_animate_text.py``) runs it, on the release's
own modules and on our :class:`emocast.neural.net.EmoCASTNet` holding the same weights. For every
corresponding block it prints the largest absolute difference (max |ours - release|) and the largest
absolute value of the release's tensor, both in the network's activation units (latent / feature
values, no scaling), and their ratio.

Inputs (all fixed by ``--seed``):

* weights: random, of the release's shapes (every LayerNorm/GroupNorm affine and every
  zero-initialised layer is randomised too, so no path is trivially zero), or ``--weights DIR``
  (``DIR/emocast/net.pth``, loaded strictly into the release's ``Net`` and into ours through
  :func:`emocast.neural.convert.load_release_checkpoint`). The release's state dict is converted
  with :func:`convert_release_state_dict` and loaded into ours strictly; keys that do not map are
  listed and the script exits 2.
* batch as the release's CFG: B = 2 (unconditional, conditional), ``--frames`` frames (4) of
  ``--latent`` x ``--latent`` latents (32) plus 2 motion frames, two timesteps (999, 499);
  stand-ins for the frozen encoders (CLIP text states, ArcFace embedding, windowed wav2vec2
  features, VAE latents of the portrait and the motion frames), a face-region image for the
  FaceLocator and soft full/face/lip masks at the four resolutions.
* the ReferenceNet pass first (t = 0, latents ``[r, m1, m2] x 2`` against ``[u, c]`` context as the
  release), then the reference bank is handed to the denoising UNet with the release's
  ``ReferenceAttentionControl``. One deliberate change: ``update(writer, dtype=<model dtype>)``;
  the release casts the bank to fp16 (default argument), which makes fp32 runs differ by ~1e-3
  and is documented as a kept difference of our pipeline.
* the release's denoising UNet runs in training mode with gradient checkpointing, under
  ``no_grad``: that is how ``scripts/inference.py`` leaves it (``from_config`` does not call
  ``eval()``, and the blocks' non-checkpointed branch does not run), so the attention-free blocks'
  motion modules are skipped there, as in ours.

Tolerance: the final v-prediction must satisfy max|diff| <= tol * max|v_release| with tol = 1e-4
in float32 and 1e-2 in float16 (``--tol`` overrides); otherwise the exit status is 1.

The release's source folder is imported at run time under the package name ``emocast_release``
(``xformers`` is stubbed; it is only imported, never called). Nothing is copied into this project.

Usage::

    git -C /work/.mirror/GVCLab+EmoCAST/repo archive HEAD | tar -x -C /tmp/emocast_release
    python benchmarks/neural_parity.py --release /tmp/emocast_release --config tiny
"""
from __future__ import annotations

import argparse
import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import time
import types
import warnings

import torch
from diffusers.utils import logging as diffusers_logging
from torch import nn

from emocast.neural.config import NetConfig, full_config, tiny_config
from emocast.neural.convert import convert_release_state_dict, convert_to_release_state_dict
from emocast.neural.net import build_net, write_reference
from emocast.neural.attention import REGIONS, AudioConditioning
from emocast.neural.pipeline import EmoCASTPipeline

TOL = {"float32": 1e-4, "float16": 1e-2}
TIMESTEPS = (999, 499)
MOTION_FRAMES = 2
#: stable-diffusion-v1-5/unet/config.json (the release builds both UNets from it).
SD15_UNET = {"_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8,
             "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": False, "cross_attention_dim": 768,
             "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"], "downsample_padding": 1,
             "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
             "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4,
             "sample_size": 64, "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3}


# ------------------------------------------------------------------ configs
def parity_config(name: str) -> NetConfig:
    """Sizes the release can be built with. The release hard-codes a few widths that our config
    exposes: emotion x audio attention 768 wide with 80-wide heads and as many heads as the UNet
    (``attention_text.py``), 32 GroupNorm groups in the motion modules (``motion_module.py``).
    So ``tiny`` here is :func:`tiny_config` with those values, not ``tiny_config()`` itself."""
    if name == "full":
        return full_config()
    if name == "reduced":
        return full_config().replace(block_out_channels=(64, 128, 256, 256))
    return tiny_config().replace(norm_num_groups=32, cross_attention_dim=768, emo_audio_heads=4,
                                 emo_audio_head_dim=80)


def check_representable(cfg: NetConfig) -> None:
    need = {"cross_attention_dim": 768, "emo_audio_head_dim": 80, "emo_audio_heads": cfg.attention_heads,
            "norm_num_groups": 32, "motion_mid_block": True, "run_plain_block_motion": False,
            "latent_channels": 4}
    bad = [f"{k}={getattr(cfg, k)} (release: {v})" for k, v in need.items() if getattr(cfg, k) != v]
    if bad:
        raise SystemExit("config not representable by the release: " + ", ".join(bad))


# ------------------------------------------------------------------ the release
def load_release(root: str, name: str = "emocast_release") -> types.SimpleNamespace:
    """Import ``root/emocast`` as package ``name`` (ours is also ``emocast``) with xformers stubbed."""
    if "xformers" not in sys.modules:
        x = types.ModuleType("xformers")
        x.__spec__ = importlib.machinery.ModuleSpec("xformers", None, is_package=True)
        x.__path__ = []
        ops = types.ModuleType("xformers.ops")
        ops.__spec__ = importlib.machinery.ModuleSpec("xformers.ops", None)
        x.ops = ops
        sys.modules.update({"xformers": x, "xformers.ops": ops})
    pkg = os.path.join(os.path.abspath(root), "emocast")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(pkg, "__init__.py"),
                                                      submodule_search_locations=[pkg])
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    m = lambda s: importlib.import_module(f"{name}.models.{s}")  # noqa: E731
    return types.SimpleNamespace(
        UNet2D=m("unet_2d_condition_text").UNet2DConditionModel, UNet3D=m("unet_3d_text").UNet3DConditionModel,
        Control=m("mutual_self_attention_text").ReferenceAttentionControl,
        FaceLocator=m("face_locator").FaceLocator,
        ImageProj=m("image_proj").ImageProjModel, AudioProj=m("audio_proj").AudioProjModel,
        root=os.path.abspath(root))


class ReleaseNet(nn.Module):
    """Same attribute names as ``Net`` in the release's ``scripts/inference.py`` (the keys of net.pth)."""

    def __init__(self, reference_unet, denoising_unet, face_locator, imageproj, audioproj):
        super().__init__()
        self.reference_unet, self.denoising_unet, self.face_locator = reference_unet, denoising_unet, face_locator
        self.imageproj, self.audioproj = imageproj, audioproj


def build_release(rel, cfg: NetConfig) -> ReleaseNet:
    """The release's modules built as ``scripts/inference.py`` builds them (SD-1.5 UNet config with
    ``configs/inference/default.yaml``'s ``unet_additional_kwargs``), at ``cfg``'s sizes."""
    import yaml

    with open(os.path.join(rel.root, "configs", "inference", "default.yaml")) as f:
        extra = yaml.safe_load(f)["unet_additional_kwargs"]
    extra["motion_module_kwargs"].update(num_attention_heads=cfg.attention_heads,
                                         temporal_position_encoding_max_len=cfg.motion_max_len)
    extra["audio_attention_dim"] = cfg.cross_attention_dim
    n = len(cfg.block_out_channels)
    unet = dict(SD15_UNET, sample_size=cfg.sample_size, in_channels=cfg.latent_channels,
                out_channels=cfg.latent_channels, block_out_channels=list(cfg.block_out_channels),
                layers_per_block=cfg.layers_per_block, cross_attention_dim=cfg.cross_attention_dim,
                attention_head_dim=cfg.attention_heads, norm_num_groups=cfg.norm_num_groups,
                down_block_types=["CrossAttnDownBlock2D"] * (n - 1) + ["DownBlock2D"],
                up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * (n - 1))
    reference = rel.UNet2D.from_config(unet)                 # from_pretrained(base_model_path, "unet")
    unet3d = dict(unet, _class_name="UNet3DConditionModel", mid_block_type="UNetMidBlock3DCrossAttn",
                  down_block_types=["CrossAttnDownBlock3D"] * (n - 1) + ["DownBlock3D"],
                  up_block_types=["UpBlock3D"] + ["CrossAttnUpBlock3D"] * (n - 1))
    denoising = rel.UNet3D.from_config(unet3d, **extra)      # as UNet3DConditionModel.from_pretrained_2d
    locator = rel.FaceLocator(conditioning_embedding_channels=cfg.block_out_channels[0],
                              block_out_channels=tuple(cfg.locator_channels))
    image_proj = rel.ImageProj(cross_attention_dim=cfg.cross_attention_dim, clip_embeddings_dim=cfg.face_embed_dim,
                               clip_extra_context_tokens=cfg.face_tokens)
    audio_proj = rel.AudioProj(seq_len=cfg.audio_window, blocks=cfg.audio_layers, channels=cfg.audio_dim,
                               intermediate_dim=cfg.audio_hidden, output_dim=cfg.cross_attention_dim,
                               context_tokens=cfg.audio_tokens)
    return ReleaseNet(reference, denoising, locator, image_proj, audio_proj)


@torch.no_grad()
def randomise(net: nn.Module) -> None:
    """Random norms and random values for zero-initialised layers (so every path carries signal)."""
    for m in net.modules():
        if isinstance(m, (nn.LayerNorm, nn.GroupNorm)) and m.weight is not None:
            m.weight.normal_(1.0, 0.1)
            m.bias.normal_(0.0, 0.1)
    for p in net.parameters():
        if not p.any():
            p.normal_(0.0, p[0].numel() ** -0.5 if p.dim() > 1 else 0.02)


def set_release_modes(rnet: ReleaseNet) -> None:
    """As after ``scripts/inference.py``: reference UNet from ``from_pretrained`` (eval), denoising
    UNet from ``from_config`` (training mode) with ``enable_gradient_checkpointing()`` on both."""
    rnet.eval()
    rnet.denoising_unet.train()
    for m in list(rnet.reference_unet.modules()) + list(rnet.denoising_unet.modules()):
        if hasattr(m, "gradient_checkpointing"):
            m.gradient_checkpointing = True   # what the release's _set_gradient_checkpointing does


# ------------------------------------------------------------------ inputs
def make_inputs(cfg: NetConfig, frames: int, side: int, seed: int) -> dict:
    """Stand-ins for what the release's pipeline feeds the networks (float32, CPU)."""
    g = torch.Generator().manual_seed(seed + 1)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    d, px = cfg.cross_attention_dim, side * 8
    box = torch.zeros(3, px, px)
    box[:, px // 4: 3 * px // 4, px // 3: 2 * px // 3] = 1.0             # white face box on black
    masks = {}
    for reg in REGIONS:                                                  # (1, HW) per level, in [0, 1]
        masks[reg] = [torch.rand(1, (side >> i) ** 2, generator=g) for i in range(len(cfg.block_out_channels))]
    return dict(text=r(1, 77, d), empty_text=r(1, 77, d), face_emb=r(1, cfg.face_embed_dim),
                audio_feats=r(1, frames, cfg.audio_window, cfg.audio_layers, cfg.audio_dim),
                ref_latents=r(1 + MOTION_FRAMES, cfg.latent_channels, side, side) * 0.8,
                noise=r(1, cfg.latent_channels, frames, side, side), face_region=box, masks=masks)


def cast(x, device, dtype):
    if isinstance(x, torch.Tensor):
        return x.to(device, dtype)
    if isinstance(x, dict):
        return {k: cast(v, device, dtype) for k, v in x.items()}
    if isinstance(x, list):
        return [cast(v, device, dtype) for v in x]
    return x


# ------------------------------------------------------------------ hooks
def _tensor(o):
    while isinstance(o, (tuple, list)):
        o = o[0]
    return getattr(o, "sample", o)


def _tracked(name: str) -> bool:
    parts = name.split(".")
    if name == "mid_block" or (len(parts) == 2 and parts[0] in ("down_blocks", "up_blocks")):
        return True
    return len(parts) == 4 and parts[2] in ("attentions", "audio_modules", "motion_modules")


def hook(unet: nn.Module, store: dict, frames: int, tag: list) -> list:
    """Record the output of every block / spatial transformer / audio / motion module of a UNet as
    ``(B, C, F, H, W)`` (folded outputs are unfolded; motion modules' leading motion frames dropped)."""
    def fn(name):
        def _f(mod, args, out):
            t = _tensor(out)
            if t.dim() == 4:
                t = t.reshape(-1, frames, *t.shape[1:]).permute(0, 2, 1, 3, 4)
            store[(tag[0], name)] = t[:, :, -frames:].detach().float().cpu()
        return _f
    return [m.register_forward_hook(fn(n)) for n, m in unet.named_modules() if _tracked(n)]


# ------------------------------------------------------------------ the two runs
@torch.no_grad()
def run_release(rel, rnet: ReleaseNet, x: dict, frames: int, bank_dtype) -> dict:
    """``FaceAnimatePipeline.__call__`` of the release, reduced to the network calls (CFG on)."""
    out, tag = {}, [None]
    hooks = hook(rnet.denoising_unet, out, frames, tag)
    face = rnet.imageproj(x["face_emb"])
    ehs = torch.cat([x["text"], face], 1)
    uncond = torch.cat([x["empty_text"], rnet.imageproj(torch.zeros_like(x["face_emb"]))], 1)
    ehs = torch.cat([uncond, ehs], 0)
    writer = rel.Control(rnet.reference_unet, do_classifier_free_guidance=True, mode="write", batch_size=1,
                         fusion_blocks="full")
    reader = rel.Control(rnet.denoising_unet, do_classifier_free_guidance=True, mode="read", batch_size=1,
                         fusion_blocks="full")
    fm = x["face_region"][None, None].repeat(1, frames, 1, 1, 1).transpose(1, 2)   # (1, 3, F, H, W)
    fm = rnet.face_locator(fm)
    out[("-", "face_locator")] = fm[:, :, 0].float().cpu()
    fm = torch.cat([torch.zeros_like(fm), fm], 0)
    masks = {r: [torch.cat([m.repeat(frames, 1)] * 2) for m in x["masks"][r]] for r in REGIONS}
    audio = rnet.audioproj(x["audio_feats"].to(next(rnet.audioproj.parameters()).dtype))
    out[("-", "audio_proj")], out[("-", "face_proj")] = audio.float().cpu(), face.float().cpu()
    audio = torch.cat([torch.zeros_like(audio), audio], 0)
    emo = x["text"].unsqueeze(1).expand(-1, audio.shape[1], -1, -1).reshape(-1, *x["text"].shape[1:])
    emo = torch.cat([emo, emo], 0)
    latents = x["noise"]
    for i, t in enumerate(TIMESTEPS):
        t = torch.tensor(t, device=latents.device)
        if i == 0:
            rnet.reference_unet(x["ref_latents"].repeat(2, 1, 1, 1), torch.zeros_like(t), encoder_hidden_states=ehs,
                                return_dict=False)
            for n, m in rnet.reference_unet.named_modules():
                if getattr(m, "bank", None):
                    out[("ref", n.rsplit(".transformer_blocks", 1)[0])] = m.bank[0].float().cpu()
            reader.update(writer, dtype=bank_dtype)
            out["pairing"] = bank_pairing(rnet)
        tag[0] = int(t)
        v = rnet.denoising_unet(torch.cat([latents] * 2), t, encoder_hidden_states=ehs, mask_cond_fea=fm,
                                full_mask=masks["full"], face_mask=masks["face"], lip_mask=masks["lip"],
                                audio_embedding=audio, motion_scale=[1.0, 1.0, 1.0], return_dict=False,
                                emo_label=emo)[0]
        out[(int(t), "v_prediction")] = v.float().cpu()
    reader.clear()
    writer.clear()
    for h in hooks:
        h.remove()
    return out


def bank_pairing(rnet: ReleaseNet) -> list:
    """Reader blocks whose bank (paired by the release by sorted width) came from a writer block of
    another name; ours pairs by name. Empty = same pairing."""
    writers = {n: m.bank[0] for n, m in rnet.reference_unet.named_modules() if getattr(m, "bank", None)}
    bad = []
    for n, m in rnet.denoising_unet.named_modules():
        if getattr(m, "bank", None):
            got = m.bank[0]
            src = [w for w, b in writers.items() if b.shape == got.shape and torch.equal(b.to(got.dtype), got)]
            if n not in src:
                bad.append(f"{n} <- {src}")
    return bad


@torch.no_grad()
def run_ours(net, x: dict, frames: int) -> dict:
    """The same call through our pipeline's pieces (:meth:`EmoCASTPipeline.reference_inputs`,
    :func:`write_reference`, ``EmoCASTNet.denoise``), as ``EmoCASTPipeline.iter_frames`` does it."""
    out, tag = {}, [None]
    hooks = hook(net.denoising_unet, out, frames, tag)
    face_c, face_u = net.face_proj(x["face_emb"]), net.face_proj(torch.zeros_like(x["face_emb"]))
    ctx = {"u": torch.cat([x["empty_text"], face_u], 1), "c": torch.cat([x["text"], face_c], 1)}
    branches = ["u", "c"]
    locator = net.face_locator(x["face_region"][None])
    audio = net.audio_proj(x["audio_feats"])
    out[("-", "face_locator")], out[("-", "audio_proj")] = locator.float().cpu(), audio.float().cpu()
    out[("-", "face_proj")] = face_c.float().cpu()
    lat, rctx, rows = EmoCASTPipeline.reference_inputs(x["ref_latents"], ctx, branches)
    write_reference(net.reference_unet, net.bank, lat, rctx, 1 + MOTION_FRAMES, rows)
    for k, v in net.bank.store.items():
        out[("ref", k)] = v.reshape(-1, *v.shape[2:]).float().cpu()
    cond = AudioConditioning(torch.cat([audio * 0, audio]), torch.cat([x["text"], x["text"]]), x["masks"])
    use_ref = torch.tensor([False, True], device=x["noise"].device)
    for t in TIMESTEPS:
        tag[0] = t
        v = net.denoise(x["noise"].repeat(2, 1, 1, 1, 1), torch.tensor(t, device=x["noise"].device),
                        torch.cat([ctx[b] for b in branches]), cond, torch.cat([locator * 0, locator]), use_ref)
        out[(t, "v_prediction")] = v.float().cpu()
    net.bank.clear()
    for h in hooks:
        h.remove()
    return out


# ------------------------------------------------------------------ main
def build_pair(args, rel, cfg, dtype, device):
    """Release net (random or net.pth) and our net with the converted weights; returns
    ``(release_net, our_net, report)``."""
    torch.manual_seed(args.seed)
    report = {}
    if args.weights:                       # net.pth into the release's Net strictly, as scripts/inference.py
        with torch.device("meta"):
            rnet = build_release(rel, cfg)
        sd = torch.load(os.path.join(args.weights, "emocast", "net.pth"), map_location="cpu", weights_only=True,
                        mmap=True)
        sd = sd.get("state_dict", sd)
        try:
            rnet.load_state_dict(sd, strict=True, assign=True)
        except RuntimeError as e:
            raise SystemExit(f"release Net does not load net.pth at --config {args.config}: {str(e)[:600]}")
        del sd
    else:
        rnet = build_release(rel, cfg)
        randomise(rnet)
    rnet.to(device, dtype)
    rsd = rnet.state_dict()
    conv = convert_release_state_dict(rsd)
    net = build_net(cfg, device="meta")
    ours = net.state_dict()
    report["unmapped_release_keys"] = sorted(set(conv) - set(ours))
    report["missing_our_keys"] = sorted(set(ours) - set(conv))
    report["shape_mismatch"] = sorted(k for k in set(conv) & set(ours) if conv[k].shape != ours[k].shape)
    if report["unmapped_release_keys"] or report["missing_our_keys"] or report["shape_mismatch"]:
        return rnet, None, report
    net.load_state_dict(conv, strict=True, assign=True)   # shares the release's tensors (no copy)
    net.eval()
    back = convert_to_release_state_dict(net.state_dict())
    report["reverse_conversion_ok"] = set(back) == set(rsd) and all(
        torch.equal(back[k], rsd[k].to(back[k].dtype)) for k in rsd)   # audioproj goes back as fp16
    report["release_keys"], report["our_keys"] = len(rsd), len(ours)
    return rnet, net, report


def compare(rel_out: dict, our_out: dict) -> list:
    rows = []
    for key in rel_out:
        if key == "pairing":
            continue
        a, b = rel_out[key], our_out.get(key)
        name = f"{key[0]} {key[1]}" if key[0] != "-" else key[1]
        if b is None:
            rows.append(dict(block=name, shape=list(a.shape), max_abs_diff=None, max_abs=float(a.abs().max()),
                             note="release only"))
            continue
        if a.shape != b.shape:
            rows.append(dict(block=name, shape=list(a.shape), max_abs_diff=None, max_abs=float(a.abs().max()),
                             note=f"shape ours {list(b.shape)}"))
            continue
        diff, mx = float((a - b).abs().max()), float(a.abs().max())
        rows.append(dict(block=name, shape=list(a.shape), max_abs_diff=diff, max_abs=mx, rel=diff / max(mx, 1e-30)))
    for key in our_out:
        if key not in rel_out:
            rows.append(dict(block=f"{key[0]} {key[1]}", shape=list(our_out[key].shape), max_abs_diff=None,
                             max_abs=float(our_out[key].abs().max()), note="ours only"))
    return rows


def print_table(rows: list) -> None:
    print("| block | shape | max abs diff | max abs (release) | rel |")
    print("|---|---|---|---|---|")
    for r in rows:
        d = "-" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.3e}"
        rel = r.get("note") or f"{r['rel']:.2e}"
        print(f"| {r['block']} | {'x'.join(map(str, r['shape']))} | {d} | {r['max_abs']:.3e} | {rel} |")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--release", required=True, help="folder with the release's source (extracted tree)")
    p.add_argument("--weights", help="release pretrained_models folder with emocast/net.pth "
                   "(default: random weights); use with --config full")
    p.add_argument("--config", choices=("tiny", "reduced", "full"), default="tiny")
    p.add_argument("--dtype", choices=("float32", "float16"), default="float32")
    p.add_argument("--device", default="cpu", help="cpu | cuda")
    p.add_argument("--frames", type=int, default=4, help="generated frames per clip (plus 2 motion frames)")
    p.add_argument("--latent", type=int, default=32, help="latent side (pixels / 8); multiple of 8")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tol", type=float,
                   help="relative tolerance of the final v-prediction (default 1e-4 fp32, 1e-2 fp16)")
    p.add_argument("--json", help="write rows and verdict to this file")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")                     # checkpoint use_reentrant, deprecated IP-Adapter call
    diffusers_logging.set_verbosity_error()               # SD-1.5 config keys the release's classes ignore
    dtype, device = getattr(torch, args.dtype), torch.device(args.device)
    cfg = parity_config(args.config)
    check_representable(cfg)
    rel = load_release(args.release)
    t0 = time.time()
    rnet, net, report = build_pair(args, rel, cfg, dtype, device)
    print(f"config {args.config}: {sum(p.numel() for p in rnet.parameters()) / 1e6:.1f} M parameters, "
          f"{args.dtype} on {device}, built in {time.time() - t0:.1f} s")
    if net is None:
        print("strict load FAILED:", json.dumps(report, indent=1))
        return 2
    print(f"strict load ok: {report['release_keys']} release keys -> {report['our_keys']} ours; "
          f"reverse conversion {'ok' if report['reverse_conversion_ok'] else 'DIFFERS'}")
    set_release_modes(rnet)
    x = cast(make_inputs(cfg, args.frames, args.latent, args.seed), device, dtype)
    t0 = time.time()
    rel_out = run_release(rel, rnet, x, args.frames, bank_dtype=dtype)
    t1 = time.time()
    our_out = run_ours(net, x, args.frames)
    print(f"release {t1 - t0:.1f} s, ours {time.time() - t1:.1f} s (ReferenceNet pass + {len(TIMESTEPS)} UNet calls)")
    if rel_out["pairing"]:
        print("release pairs reference-bank blocks differently from ours (by name):", *rel_out["pairing"], sep="\n  ")
    rows = compare(rel_out, our_out)
    print_table(rows)
    tol = args.tol if args.tol is not None else TOL[args.dtype]
    finals = [r for r in rows if r["block"].endswith("v_prediction")]
    ok = bool(finals) and all(r["max_abs_diff"] is not None and r["rel"] <= tol for r in finals)
    worst = max((r.get("rel", float("inf")) for r in finals), default=float("inf"))
    verdict = "PASS" if ok else "FAIL"
    print(f"\nfinal v-prediction: max|diff| / max|v| = {worst:.2e} (tolerance {tol:.0e}) -> {verdict}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(config=args.config, dtype=args.dtype, device=str(device), tolerance=tol, passed=ok,
                           load=report, bank_pairing=rel_out["pairing"], rows=rows), f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
