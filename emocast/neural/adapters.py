"""Small conditioning networks of EmoCAST (paper Sec. 3.2): face locator, face-embedding
projection and audio projection."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class FaceLocator(ModelMixin, ConfigMixin):
    """Face-region image -> latent-resolution features added to the noisy latents after ``conv_in``.

    Input ``(B, 3, H, W)`` or ``(B, 3, F, H, W)`` float in [0, 1] (a white face box on black);
    output ``(B, out_channels, h, w)`` or ``(B, out_channels, F, h, w)`` with ``h = H / 8``. Seven
    3x3 convolutions with SiLU between them (three with stride 2) and a zero-initialised output
    convolution, so an untrained locator adds nothing.
    """

    @register_to_config
    def __init__(self, out_channels: int = 320, channels: tuple = (16, 32, 64, 128)):
        super().__init__()
        c = list(channels)
        self.conv_in = nn.Conv2d(3, c[0], 3, padding=1)
        blocks = []
        for i in range(len(c) - 1):
            blocks.append(nn.Conv2d(c[i], c[i], 3, padding=1))
            blocks.append(nn.Conv2d(c[i], c[i + 1], 3, padding=1, stride=2))
        self.blocks = nn.ModuleList(blocks)
        self.conv_out = nn.Conv2d(c[-1], out_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        video = x.dim() == 5
        if video:
            b, ch, f, h, w = x.shape
            x = x.permute(0, 2, 1, 3, 4).reshape(b * f, ch, h, w)
        y = F.silu(self.conv_in(x))
        for blk in self.blocks:
            y = F.silu(blk(y))
        y = self.conv_out(y)
        if video:
            y = y.reshape(b, f, *y.shape[1:]).permute(0, 2, 1, 3, 4)
        return y


class FaceProjection(ModelMixin, ConfigMixin):
    """ArcFace embedding -> face tokens (IP-Adapter image projection).

    ``(B, embed_dim)`` float (raw, unnormalised ArcFace vector; zeros = no face) ->
    ``(B, num_tokens, token_dim)``: one linear layer to ``num_tokens * token_dim``, then LayerNorm.
    Note ``forward(zeros)`` is the LayerNorm of the bias, not zero: the unconditional CFG branch
    uses exactly that (release behaviour).
    """

    @register_to_config
    def __init__(self, embed_dim: int = 512, token_dim: int = 768, num_tokens: int = 4):
        super().__init__()
        self.num_tokens = num_tokens
        self.token_dim = token_dim
        self.proj = nn.Linear(embed_dim, num_tokens * token_dim)
        self.norm = nn.LayerNorm(token_dim)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        y = self.proj(emb.to(self.proj.weight.dtype)).reshape(-1, self.num_tokens, self.token_dim)
        return self.norm(y)


class AudioProjection(ModelMixin, ConfigMixin):
    """Windowed wav2vec2 features -> audio tokens per video frame.

    Input ``(B, F, window, layers, dim)`` = (B, F, 5, 12, 768) in the release: for every video
    frame the hidden states of all wav2vec2 layers at frames i-2..i+2. Flattened (window, layers,
    dim order) and mapped by a ReLU MLP (46080 -> 512 -> 512 -> tokens*token_dim), reshaped to
    tokens and LayerNorm-ed. Output ``(B, F, tokens, token_dim)`` = (B, F, 32, 768).
    """

    @register_to_config
    def __init__(self, window: int = 5, layers: int = 12, dim: int = 768, hidden: int = 512,
                 tokens: int = 32, token_dim: int = 768):
        super().__init__()
        self.tokens = tokens
        self.token_dim = token_dim
        self.proj1 = nn.Linear(window * layers * dim, hidden)
        self.proj2 = nn.Linear(hidden, hidden)
        self.proj3 = nn.Linear(hidden, tokens * token_dim)
        self.norm = nn.LayerNorm(token_dim)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        b, f = feats.shape[:2]
        x = feats.reshape(b * f, -1).to(self.proj1.weight.dtype)
        x = torch.relu(self.proj1(x))
        x = torch.relu(self.proj2(x))
        x = self.proj3(x).reshape(b * f, self.tokens, self.token_dim)
        return self.norm(x).reshape(b, f, self.tokens, self.token_dim)
