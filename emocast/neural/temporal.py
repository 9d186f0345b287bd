"""AnimateDiff temporal ("motion") module on video features, built from diffusers'
:class:`~diffusers.models.attention.BasicTransformerBlock` (two temporal self-attentions with a
sinusoidal frame-position encoding, GEGLU feed-forward).

Differences from diffusers' own ``AnimateDiffTransformer3D``: the GroupNorm is applied per frame,
as in AnimateDiff's original module (diffusers normalises over all frames together), and the
module accepts extra leading "motion frames" (features of the previous clip's last frames) that
are attended to and then dropped.
"""
from __future__ import annotations

import torch
from diffusers.models.attention import BasicTransformerBlock
from torch import nn


class TemporalModule(nn.Module):
    """Temporal self-attention over frames at every pixel (paper Sec. 3.2, AnimateDiff v2).

    Args:
        channels: feature width C.
        heads: attention heads (8).
        max_len: longest frame sequence of the position encoding (32).
        groups: GroupNorm groups.

    forward(x ``(B, C, F, H, W)``, motion ``(B, C, M, H, W)`` or None) -> ``(B, C, F, H, W)``.
    With motion frames, the sequence is ``[motion ; x]`` (F+M <= max_len) and only the last F
    frames are returned. ``proj_out`` is zero-initialised, so a fresh module is an identity.
    """

    def __init__(self, channels: int, heads: int = 8, max_len: int = 32, groups: int = 32):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)
        self.transformer_blocks = nn.ModuleList([
            BasicTransformerBlock(channels, heads, channels // heads, double_self_attention=True,
                                  activation_fn="geglu", positional_embeddings="sinusoidal",
                                  num_positional_embeddings=max_len)
        ])
        self.proj_out = nn.Linear(channels, channels)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x: torch.Tensor, motion: torch.Tensor | None = None) -> torch.Tensor:
        f_out = x.shape[2]
        if motion is not None:
            x = torch.cat([motion.to(x.dtype), x], dim=2)
        b, c, f, h, w = x.shape
        res = x
        y = x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
        y = self.norm(y)                                                    # per frame
        y = y.reshape(b, f, c, h * w).permute(0, 3, 1, 2).reshape(b * h * w, f, c)
        y = self.proj_in(y)
        for blk in self.transformer_blocks:
            y = blk(y)
        y = self.proj_out(y)
        y = y.reshape(b, h, w, f, c).permute(0, 4, 3, 1, 2)
        y = y + res
        return y[:, :, f - f_out:]
