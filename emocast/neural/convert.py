"""Key converter between the released ``net.pth`` (GVCLab/EmoCAST) and :class:`EmoCASTNet`.

Every released key has a rule here:

=====================================================  ==============================================
release                                                ours
=====================================================  ==============================================
``imageproj.*``                                        ``face_proj.*``
``audioproj.*`` (stored fp16)                          ``audio_proj.*`` (cast to the model dtype)
``…audio_modules.N.transformer_blocks.0.attn_audioemo``  ``….emo_audio_attn``
``….postnorm_audioemo``                                ``….emo_audio_norm``
``….attn2_0`` / ``attn2_1`` / ``attn2_2``              ``….region_attn.full`` / ``.face`` / ``.lip``
``….zero_conv_full`` / ``_face`` / ``_lip``            ``….region_out.full`` / ``.face`` / ``.lip``
``…motion_modules.N.temporal_transformer.X``           ``…motion_modules.N.X``
``….attention_blocks.0`` / ``.1``                      ``….attn1`` / ``.attn2``
``….norms.0`` / ``.1``, ``….ff_norm``                  ``….norm1`` / ``.norm2``, ``….norm3``
``….attention_blocks.0.pos_encoder.pe``                ``….pos_embed.pe`` (one table per block)
``….attention_blocks.1.pos_encoder.pe``                dropped after checking it equals the first
everything else (SD-1.5, IP-Adapter ``to_k_ip``/…)     same name
=====================================================  ==============================================
"""
from __future__ import annotations

import re

import torch

_PREFIX = [("imageproj.", "face_proj."), ("audioproj.", "audio_proj.")]
_AUDIO = [("attn_audioemo", "emo_audio_attn"), ("postnorm_audioemo", "emo_audio_norm"),
          ("attn2_0", "region_attn.full"), ("attn2_1", "region_attn.face"), ("attn2_2", "region_attn.lip"),
          ("zero_conv_full", "region_out.full"), ("zero_conv_face", "region_out.face"),
          ("zero_conv_lip", "region_out.lip")]
_MOTION = [("attention_blocks.0.pos_encoder.pe", "pos_embed.pe"), ("attention_blocks.0.", "attn1."),
           ("attention_blocks.1.", "attn2."), ("norms.0.", "norm1."), ("norms.1.", "norm2."),
           ("ff_norm.", "norm3.")]
_DUP_PE = re.compile(r"motion_modules\.\d+\.temporal_transformer\.transformer_blocks\.\d+\.attention_blocks\.1\.pos_encoder\.pe$")


def release_key_to_ours(key: str) -> str | None:
    """Our key for a released key; None for the duplicate second position table of a motion module."""
    for a, b in _PREFIX:
        if key.startswith(a):
            return b + key[len(a):]
    if ".audio_modules." in key:
        for a, b in _AUDIO:
            key = key.replace(f".transformer_blocks.0.{a}.", f".transformer_blocks.0.{b}.")
        return key
    if ".motion_modules." in key:
        if _DUP_PE.search(key):
            return None
        key = key.replace(".temporal_transformer.", ".")
        head, sep, tail = key.partition(".transformer_blocks.")
        for a, b in _MOTION:
            if tail.split(".", 1)[-1].startswith(a):
                n, rest = tail.split(".", 1)
                tail = f"{n}.{b}{rest[len(a):]}"
                break
        return head + sep + tail
    return key


def ours_key_to_release(key: str) -> list[str]:
    """Released key(s) for one of our keys (a position table maps to both of its attentions)."""
    for b, a in _PREFIX:
        if key.startswith(a):
            return [b + key[len(a):]]
    if ".audio_modules." in key:
        for a, b in _AUDIO:
            key = key.replace(f".transformer_blocks.0.{b}.", f".transformer_blocks.0.{a}.")
        return [key]
    if ".motion_modules." in key:
        head, sep, tail = key.partition(".transformer_blocks.")
        head = re.sub(r"(motion_modules\.\d+)$", r"\1.temporal_transformer", head)
        if not sep:  # norm / proj_in / proj_out of the temporal transformer
            m = re.match(r"(.*motion_modules\.\d+)\.(.*)$", key)
            return [f"{m.group(1)}.temporal_transformer.{m.group(2)}"]
        n, rest = tail.split(".", 1)
        if rest == "pos_embed.pe":
            return [f"{head}{sep}{n}.attention_blocks.{i}.pos_encoder.pe" for i in (0, 1)]
        for a, b in _MOTION[1:]:
            if rest.startswith(b):
                rest = a + rest[len(b):]
                break
        return [f"{head}{sep}{n}.{rest}"]
    return [key]


def convert_release_state_dict(sd: dict, dtype: torch.dtype | None = None, check: bool = True) -> dict:
    """Released ``Net`` state dict -> :class:`EmoCASTNet` state dict.

    Args:
        sd: key -> tensor as stored in ``net.pth`` (2,832 entries; meta tensors allowed).
        dtype: cast floating tensors to this dtype (``audioproj`` is stored in fp16); None keeps them.
        check: verify that the two position tables of each motion module are equal (skipped for
            meta tensors).

    Returns: a new dict; the input is not modified. Raises ``ValueError`` if two released keys
    map to the same key or a duplicate position table differs.
    """
    out = {}
    for k, v in sd.items():
        nk = release_key_to_ours(k)
        if nk is None:
            if check and v.device.type != "meta":
                first = sd.get(k.replace("attention_blocks.1.", "attention_blocks.0."))
                if first is None or not torch.allclose(first.float(), v.float(), atol=1e-4):
                    raise ValueError(f"{k}: second temporal position table differs from the first")
            continue
        if nk in out:
            raise ValueError(f"{k}: maps onto {nk} twice")
        if dtype is not None and v.is_floating_point():
            v = v.to(dtype)
        out[nk] = v
    return out


def convert_to_release_state_dict(sd: dict) -> dict:
    """Inverse of :func:`convert_release_state_dict` (for saving a fine-tuned net as ``net.pth``).
    ``audioproj`` tensors are stored in fp16 like the release."""
    out = {}
    for k, v in sd.items():
        for rk in ours_key_to_release(k):
            out[rk] = v.half() if rk.startswith("audioproj.") and v.is_floating_point() else v
    return out


def load_release_checkpoint(net, path: str, dtype: torch.dtype | None = None) -> None:
    """Load ``net.pth`` into ``net`` strictly (``torch.load(..., weights_only=True, mmap=True)``).

    Also accepts a ``.safetensors`` file with the same keys. Raises ``RuntimeError`` on any
    missing/unexpected key or shape mismatch.
    """
    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file
        sd = load_file(str(path))
    else:
        sd = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    if "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if dtype is None:
        dtype = next(net.parameters()).dtype
    conv = convert_release_state_dict(sd, dtype=dtype)
    meta = next(net.parameters()).device.type == "meta"
    net.load_state_dict(conv, strict=True, assign=meta)
