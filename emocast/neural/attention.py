"""Attention pieces of the EmoCAST network (paper Sec. 3.2), written as diffusers attention
processors and small blocks around diffusers' :class:`~diffusers.models.attention_processor.Attention`.

* :class:`ReferenceBank` with :class:`BankWriteProcessor` / :class:`BankReadProcessor`: the
  ReferenceNet's self-attention inputs are stored per transformer block and the denoising UNet's
  self-attention attends to ``[own tokens ; reference tokens]`` (identity preservation).
* :class:`DecoupledCrossAttnProcessor`: the text-guided emotive attention (Sec. 3.2.1). The context
  is ``[emotion-text tokens ; face tokens]``; the two parts are attended separately (face tokens
  through their own key/value projections ``to_k_ip`` / ``to_v_ip``) and the results are summed
  with separate weights.
* :class:`EmotiveAudioBlock` / :class:`EmotiveAudioTransformer`: the emotive audio attention
  (Sec. 3.2.2). Emotion-text tokens query the audio tokens of their frame; the resulting
  audio-aware emotion tokens are the keys/values of three cross-attentions whose outputs are
  restricted to the whole frame (pose/background), the face and the lips by soft masks, passed
  through zero-initialised 1x1 convolutions and added with user weights.

All attention goes through :func:`torch.nn.functional.scaled_dot_product_attention` (SDPA).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from torch import nn


def _sdpa(attn: Attention, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Multi-head SDPA: (B, Nq, C), (B, Nk, C), (B, Nk, C) -> (B, Nq, C) before ``to_out``."""
    b, nq, c = query.shape
    h = attn.heads
    q = query.view(b, nq, h, c // h).transpose(1, 2)
    k = key.view(b, key.shape[1], h, c // h).transpose(1, 2)
    v = value.view(b, value.shape[1], h, c // h).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, k, v, scale=attn.scale)
    return out.transpose(1, 2).reshape(b, nq, c)


def _out(attn: Attention, x: torch.Tensor) -> torch.Tensor:
    x = attn.to_out[0](x)
    return attn.to_out[1](x)


# --------------------------------------------------------------------------------------------
# Reference attention bank
# --------------------------------------------------------------------------------------------
@dataclass
class ReferenceBank:
    """Per-block store of ReferenceNet tokens shared by the write and read processors.

    After the ReferenceNet pass, :meth:`arrange` turns each stored ``(B_ref, HW, C)`` tensor into
    ``(B, S, HW, C)``: ``B`` = denoising batch rows, ``S`` = reference slots (slot 0 = the portrait,
    slots 1.. = motion frames, the last frames of the previous clip).

    Attributes:
        mode: ``"write"`` (ReferenceNet stores), ``"read"`` (denoising UNet uses) or ``"off"``.
        store: block name -> tensor.
        num_frames: frames per video in the denoising batch (set by the UNet forward).
        use_reference: bool ``(B,)``; rows where it is False use plain self-attention (the
            unconditional CFG branch, NOTES.md Sec. 5). None = all rows use the reference.
    """

    mode: str = "off"
    store: dict = field(default_factory=dict)
    num_frames: int = 1
    use_reference: torch.Tensor | None = None

    def clear(self) -> None:
        self.store.clear()
        self.mode = "off"
        self.use_reference = None

    def arrange(self, n_slots: int, rows: torch.Tensor | list[int] | None = None) -> None:
        """Reshape stored ``(B_ref*S, HW, C)`` to ``(B, S, HW, C)`` selecting ``rows`` of ``B_ref``."""
        for k, v in list(self.store.items()):
            v = v.reshape(-1, n_slots, *v.shape[1:])
            if rows is not None:
                v = v[torch.as_tensor(rows, device=v.device)]
            self.store[k] = v

    def reference_tokens(self, name: str) -> torch.Tensor:
        """Slot-0 tokens of block ``name``: ``(B, HW, C)``."""
        return self.store[name][:, 0]

    def motion_tokens(self, name: str) -> torch.Tensor | None:
        """Motion-frame tokens of block ``name``: ``(B, S-1, HW, C)`` or None (no bank)."""
        v = self.store.get(name)
        if v is None or v.shape[1] < 2:
            return None
        return v[:, 1:]


class BankWriteProcessor:
    """Self-attention processor of the ReferenceNet: plain self-attention that also stores its
    input (the block's ``norm1`` output, ``(B_ref, HW, C)``) in ``bank.store[name]`` when the bank
    is in ``"write"`` mode."""

    def __init__(self, bank: ReferenceBank, name: str):
        self.bank = bank
        self.name = name

    def __call__(self, attn: Attention, hidden_states, encoder_hidden_states=None, attention_mask=None, **kw):
        if self.bank.mode == "write":
            self.bank.store[self.name] = hidden_states.detach() if not torch.is_grad_enabled() else hidden_states
        ctx = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        out = _sdpa(attn, attn.to_q(hidden_states), attn.to_k(ctx), attn.to_v(ctx))
        return _out(attn, out)


class BankReadProcessor:
    """Self-attention processor of the denoising UNet's spatial blocks.

    Input ``(B*F, HW, C)`` frame tokens, batch-major. In ``"read"`` mode, rows whose batch sample has
    ``use_reference`` attend to ``[own HW tokens ; reference HW tokens]`` (2*HW keys), where frame row
    ``k`` takes the reference tokens of batch row ``k % B`` (the release tiles the bank with
    ``repeat``, it does not interleave it); other rows use plain self-attention. Output has the
    input's shape.
    """

    def __init__(self, bank: ReferenceBank, name: str):
        self.bank = bank
        self.name = name

    def __call__(self, attn: Attention, hidden_states, encoder_hidden_states=None, attention_mask=None, **kw):
        x = hidden_states
        q = attn.to_q(x)
        if self.bank.mode != "read" or self.name not in self.bank.store:
            return _out(attn, _sdpa(attn, q, attn.to_k(x), attn.to_v(x)))
        f = self.bank.num_frames
        ref = self.bank.reference_tokens(self.name).to(x.dtype)          # (B, HW, C)
        # As the release (mutual self-attention "read", Hallo's code): the B reference rows are tiled
        # across the B*F frame rows, so frame row k reads reference row k % B. With CFG (B=2) the
        # conditional half's frames alternate between the unconditional and the conditional reference
        # pass; the unconditional half is overwritten by plain self-attention below.
        ref = ref.repeat(f, 1, 1)                                        # (B*F, HW, C), row k <- k % B
        use = self.bank.use_reference
        if use is None or bool(use.all()):
            kv = torch.cat([x, ref], dim=1)
            return _out(attn, _sdpa(attn, q, attn.to_k(kv), attn.to_v(kv)))
        rows = use.to(x.device).repeat_interleave(f)                     # (B*F,)
        out = torch.empty_like(q)
        if rows.any():
            xr = x[rows]
            kv = torch.cat([xr, ref[rows]], dim=1)
            out[rows] = _sdpa(attn, q[rows], attn.to_k(kv), attn.to_v(kv))
        plain = ~rows
        if plain.any():
            xp = x[plain]
            out[plain] = _sdpa(attn, q[plain], attn.to_k(xp), attn.to_v(xp))
        return _out(attn, out)


# --------------------------------------------------------------------------------------------
# Text-guided emotive attention (decoupled text / face cross-attention)
# --------------------------------------------------------------------------------------------
class DecoupledCrossAttnProcessor(nn.Module):
    """Cross-attention with decoupled emotion-text and face-identity tokens (paper Sec. 3.2.1).

    ``encoder_hidden_states`` is ``(B, T + K, D)``: ``T`` emotion-text tokens (CLIP, 77) followed by
    ``K`` face tokens (``num_tokens``, 4). Text goes through the layer's own ``to_k``/``to_v``,
    face tokens through ``to_k_ip[0]``/``to_v_ip[0]`` (``Linear(D, C, bias=False)``, IP-Adapter
    names, so released keys map one to one). Output:
    ``to_out(text_scale * attn(q, text) + face_scale * attn(q, face))``, shape ``(B, N, C)``.
    """

    def __init__(self, hidden_size: int, cross_attention_dim: int, num_tokens: int = 4,
                 text_scale: float = 1.0, face_scale: float = 1.0):
        super().__init__()
        self.num_tokens = num_tokens
        self.text_scale = text_scale
        self.face_scale = face_scale
        self.to_k_ip = nn.ModuleList([nn.Linear(cross_attention_dim, hidden_size, bias=False)])
        self.to_v_ip = nn.ModuleList([nn.Linear(cross_attention_dim, hidden_size, bias=False)])

    def __call__(self, attn: Attention, hidden_states, encoder_hidden_states=None, attention_mask=None, **kw):
        if encoder_hidden_states is None:
            raise ValueError("decoupled cross-attention needs [text ; face] context tokens")
        if encoder_hidden_states.shape[0] != hidden_states.shape[0]:
            reps = hidden_states.shape[0] // encoder_hidden_states.shape[0]
            encoder_hidden_states = encoder_hidden_states.repeat_interleave(reps, dim=0)
        k = self.num_tokens
        text, face = encoder_hidden_states[:, :-k], encoder_hidden_states[:, -k:]
        q = attn.to_q(hidden_states)
        out = _sdpa(attn, q, attn.to_k(text), attn.to_v(text))
        if self.text_scale != 1.0:
            out = out * self.text_scale
        if self.face_scale != 0.0:
            out = out + self.face_scale * _sdpa(attn, q, self.to_k_ip[0](face), self.to_v_ip[0](face))
        return _out(attn, out)


# --------------------------------------------------------------------------------------------
# Emotive audio attention
# --------------------------------------------------------------------------------------------
REGIONS = ("full", "face", "lip")


@dataclass
class AudioConditioning:
    """Per-call inputs of the audio modules.

    Attributes:
        audio_tokens: ``(B, F, A, D)`` projected audio tokens per frame (A = 32 in the release).
        emotion_tokens: ``(B, T, D)`` emotion-text tokens (CLIP last hidden state, T = 77).
        masks: region -> list over resolution levels of ``(B or 1, HW_level)`` soft masks in
            [0, 1] (level 0 = latent size, each next level halves the side). The same mask is
            used for every frame.
        region_weights: region -> weight (release: 1, 1, 1).
    """

    audio_tokens: torch.Tensor
    emotion_tokens: torch.Tensor
    masks: dict
    region_weights: dict = field(default_factory=lambda: {r: 1.0 for r in REGIONS})


def _attention(dim: int, cross: int | None, heads: int, head_dim: int, out_dim: int | None = None) -> Attention:
    a = Attention(query_dim=dim, cross_attention_dim=cross, heads=heads, dim_head=head_dim,
                  bias=False, out_bias=True, out_dim=out_dim)
    return a


class EmotiveAudioBlock(nn.Module):
    """One emotive audio transformer block on ``(B*F, HW, C)`` tokens (paper Sec. 3.2.2).

    1. ``x = x + self_attn(norm1(x))``
    2. ``e = emo_audio_norm(emo_audio_attn(query=emotion text (B*F, T, D), kv=audio (B*F, A, D)))``
       -> audio-aware emotion tokens ``(B*F, T, D)``
    3. ``n = norm2(x)``; for region r in full/face/lip: ``y_r = region_out[r](mask_r * region_attn[r](n, e))``
    4. ``x = x + sum_r w_r * y_r``
    5. ``x = x + ff(norm3(x))``

    ``region_out`` are 1x1 convolutions, zero-initialised so a freshly added block is an identity.
    ``level`` picks which mask resolution applies. Step 2 has no residual around the emotion x
    audio attention: that is our reading of NOTES.md Sec. 4 (attention then LayerNorm), not checked
    against the release's code.
    """

    def __init__(self, dim: int, heads: int, cross_dim: int, emo_heads: int, emo_head_dim: int, level: int):
        super().__init__()
        self.level = level
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = _attention(dim, None, heads, dim // heads)
        self.emo_audio_attn = _attention(cross_dim, cross_dim, emo_heads, emo_head_dim)
        self.emo_audio_norm = nn.LayerNorm(cross_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.region_attn = nn.ModuleDict({r: _attention(dim, cross_dim, heads, dim // heads) for r in REGIONS})
        self.region_out = nn.ModuleDict({r: nn.Conv2d(dim, dim, 1) for r in REGIONS})
        for conv in self.region_out.values():
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, activation_fn="geglu")

    def emotion_audio_tokens(self, emotion: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """(B*F, T, D) emotion tokens x (B*F, A, D) audio tokens -> (B*F, T, D)."""
        return self.emo_audio_norm(self.emo_audio_attn(emotion, encoder_hidden_states=audio))

    def forward(self, x: torch.Tensor, height: int, width: int, emotion: torch.Tensor, audio: torch.Tensor,
                masks: dict, weights: dict) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x))
        e = self.emotion_audio_tokens(emotion, audio)
        n = self.norm2(x)
        bf, hw, c = x.shape
        total = 0
        for r in REGIONS:
            y = self.region_attn[r](n, encoder_hidden_states=e)
            m = masks[r][self.level].to(y.dtype)
            if m.shape[-1] != hw:
                raise ValueError(f"{r} mask level {self.level} has {m.shape[-1]} tokens, block has {hw}")
            if m.shape[0] != bf:
                m = m.repeat(bf // m.shape[0], 1) if bf % m.shape[0] == 0 else m.expand(bf, -1)
            y = y * m.unsqueeze(-1)
            y = y.transpose(1, 2).reshape(bf, c, height, width)
            y = self.region_out[r](y).reshape(bf, c, hw).transpose(1, 2)
            total = total + weights.get(r, 1.0) * y
        x = x + total
        return x + self.ff(self.norm3(x))


class EmotiveAudioTransformer(nn.Module):
    """Wrapper of one :class:`EmotiveAudioBlock` on video features.

    Input ``(B, C, F, H, W)``; GroupNorm (per frame) -> 1x1 conv C->inner -> block -> 1x1 conv
    inner->C -> residual. ``inner`` may be smaller than ``C`` (release rule: the width of the
    features entering the UNet block). Output has the input's shape.
    """

    def __init__(self, channels: int, inner: int, heads: int, cross_dim: int, emo_heads: int,
                 emo_head_dim: int, level: int, groups: int = 32):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            [EmotiveAudioBlock(inner, heads, cross_dim, emo_heads, emo_head_dim, level)])
        self.proj_out = nn.Conv2d(inner, channels, 1)

    def forward(self, x: torch.Tensor, cond: AudioConditioning) -> torch.Tensor:
        b, c, f, h, w = x.shape
        res = x
        y = x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
        y = self.proj_in(self.norm(y))
        inner = y.shape[1]
        y = y.reshape(b * f, inner, h * w).transpose(1, 2)
        audio = cond.audio_tokens.reshape(b * f, *cond.audio_tokens.shape[2:]).to(y.dtype)
        emo = cond.emotion_tokens.to(y.dtype)
        if emo.shape[0] == b:
            emo = emo.repeat_interleave(f, dim=0)
        masks = {r: [m.repeat_interleave(f, dim=0) if m.shape[0] == b and b > 1 else m
                     for m in cond.masks[r]] for r in REGIONS}
        for blk in self.transformer_blocks:
            y = blk(y, h, w, emo, audio, masks, cond.region_weights)
        y = y.transpose(1, 2).reshape(b * f, inner, h, w)
        y = self.proj_out(y).reshape(b, f, c, h, w).permute(0, 2, 1, 3, 4)
        return y + res
