"""Denoising UNet of EmoCAST on video latents (paper Sec. 3.2), assembled from diffusers blocks.

Leaves are diffusers modules applied frame by frame (frames folded into the batch):
``ResnetBlock2D``, ``Transformer2DModel`` (spatial self-attention with the reference bank, and the
decoupled text/face cross-attention), ``Downsample2D``/``Upsample2D``, ``Timesteps``/
``TimestepEmbedding``; plus per level our :class:`~emocast.neural.attention.EmotiveAudioTransformer`
and AnimateDiff :class:`~emocast.neural.temporal.TemporalModule` on unfolded ``(B, C, F, H, W)``.

Order inside every attention layer (down/up blocks with attention, and the mid block):
resnet -> spatial transformer -> emotive audio transformer -> temporal module (with the motion-frame
tokens of the paired ReferenceNet block prepended).
"""
from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.downsampling import Downsample2D
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.resnet import ResnetBlock2D
from diffusers.models.transformers.transformer_2d import Transformer2DModel
from diffusers.models.upsampling import Upsample2D
from torch import nn

from .attention import AudioConditioning, EmotiveAudioTransformer, ReferenceBank
from .config import NetConfig
from .temporal import TemporalModule


def _fold(x: torch.Tensor) -> torch.Tensor:
    b, c, f, h, w = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)


def _unfold(x: torch.Tensor, f: int) -> torch.Tensor:
    bf, c, h, w = x.shape
    return x.reshape(bf // f, f, c, h, w).permute(0, 2, 1, 3, 4)


class _Ctx:
    """Per-forward state handed down the blocks."""

    def __init__(self, frames, temb, context, audio, bank, temporal=True):
        self.frames, self.temb, self.context, self.audio, self.bank = frames, temb, context, audio, bank
        self.temporal = temporal


class _Block(nn.Module):
    """Shared machinery of the 3-D UNet blocks (gradient checkpointing, one attention layer)."""

    gradient_checkpointing = False

    def _run(self, module, *args):
        if self.gradient_checkpointing and torch.is_grad_enabled():
            return self._gradient_checkpointing_func(module, *args)
        return module(*args)

    def _resnet(self, j, x, ctx):
        return self._run(self.resnets[j], x, ctx.temb)

    def _attention_layer(self, j, x, ctx, use_motion=True):
        """x folded (B*F, C, H, W) -> folded, through spatial, audio and temporal modules."""
        f = ctx.frames
        if hasattr(self, "attentions"):
            x = self._run(_Spatial(self.attentions[j]), x, ctx.context)
            x5 = _unfold(x, f)
            if ctx.audio is not None:
                x5 = self._run(self.audio_modules[j], x5, ctx.audio)
        else:
            x5 = _unfold(x, f)
        if use_motion and ctx.temporal and hasattr(self, "motion_modules"):
            motion = None
            if hasattr(self, "attentions") and ctx.bank is not None and ctx.bank.mode == "read":
                tokens = ctx.bank.motion_tokens(self.attention_names[j])     # (B, M, HW, C)
                if tokens is not None:
                    b, m, hw, c = tokens.shape
                    h, w = x.shape[-2:]
                    motion = tokens.reshape(b, m, h, w, c).permute(0, 4, 1, 2, 3)
                    if b != x5.shape[0]:
                        motion = motion.expand(x5.shape[0], -1, -1, -1, -1)
            x5 = self._run(self.motion_modules[j], x5, motion)
        return _fold(x5)



class _Spatial:
    """Positional-argument call of a ``Transformer2DModel`` (for checkpointing): (x, context) -> x."""

    def __init__(self, module):
        self.module = module

    def __call__(self, x, context):
        return self.module(x, encoder_hidden_states=context, return_dict=False)[0]


def _spatial(cfg: NetConfig, c: int) -> Transformer2DModel:
    return Transformer2DModel(num_attention_heads=cfg.attention_heads, attention_head_dim=c // cfg.attention_heads,
                              in_channels=c, cross_attention_dim=cfg.cross_attention_dim,
                              norm_num_groups=cfg.norm_num_groups)


def _audio(cfg: NetConfig, c: int, inner: int, level: int) -> EmotiveAudioTransformer:
    return EmotiveAudioTransformer(c, inner, cfg.attention_heads, cfg.cross_attention_dim, cfg.emo_audio_heads,
                                   cfg.emo_audio_head_dim, level, cfg.norm_num_groups)


def _resnet(cfg: NetConfig, cin: int, cout: int, temb: int) -> ResnetBlock2D:
    return ResnetBlock2D(in_channels=cin, out_channels=cout, temb_channels=temb, eps=1e-5,
                         groups=cfg.norm_num_groups)


def _motion(cfg: NetConfig, c: int) -> TemporalModule:
    return TemporalModule(c, cfg.attention_heads, cfg.motion_max_len, cfg.norm_num_groups)


class DownBlock3D(_Block):
    """Down block: ``layers`` x (resnet [+ spatial + audio] + temporal) then a stride-2 conv."""

    def __init__(self, cfg: NetConfig, cin: int, cout: int, temb: int, level: int, attention: bool, downsample: bool):
        super().__init__()
        n = cfg.layers_per_block
        self.resnets = nn.ModuleList([_resnet(cfg, cin if j == 0 else cout, cout, temb) for j in range(n)])
        if attention:
            self.attentions = nn.ModuleList([_spatial(cfg, cout) for _ in range(n)])
            self.audio_modules = nn.ModuleList([_audio(cfg, cout, cin if j == 0 else cout, level) for j in range(n)])
        self.motion_modules = nn.ModuleList([_motion(cfg, cout) for _ in range(n)])
        self.run_motion = attention or cfg.run_plain_block_motion
        if downsample:
            self.downsamplers = nn.ModuleList([Downsample2D(cout, use_conv=True, out_channels=cout, padding=1, name="op")])

    def forward(self, x, ctx):
        skips = []
        for j in range(len(self.resnets)):
            x = self._resnet(j, x, ctx)
            x = self._attention_layer(j, x, ctx, use_motion=self.run_motion)
            skips.append(x)
        if hasattr(self, "downsamplers"):
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class MidBlock3D(_Block):
    """Mid block: resnet, then (spatial + audio + temporal + resnet)."""

    def __init__(self, cfg: NetConfig, c: int, temb: int, level: int):
        super().__init__()
        self.resnets = nn.ModuleList([_resnet(cfg, c, c, temb), _resnet(cfg, c, c, temb)])
        self.attentions = nn.ModuleList([_spatial(cfg, c)])
        self.audio_modules = nn.ModuleList([_audio(cfg, c, c, level)])
        if cfg.motion_mid_block:
            self.motion_modules = nn.ModuleList([_motion(cfg, c)])

    def forward(self, x, ctx):
        x = self._resnet(0, x, ctx)
        x = self._attention_layer(0, x, ctx)
        return self._resnet(1, x, ctx)


class UpBlock3D(_Block):
    """Up block: ``layers+1`` x (concat skip, resnet [+ spatial + audio] + temporal), then upsample."""

    def __init__(self, cfg: NetConfig, cin: int, prev: int, cout: int, temb: int, level: int,
                 attention: bool, upsample: bool):
        super().__init__()
        n = cfg.layers_per_block + 1
        self.resnets = nn.ModuleList([
            _resnet(cfg, (prev if j == 0 else cout) + (cin if j == n - 1 else cout), cout, temb) for j in range(n)])
        if attention:
            self.attentions = nn.ModuleList([_spatial(cfg, cout) for _ in range(n)])
            self.audio_modules = nn.ModuleList([_audio(cfg, cout, cin, level) for _ in range(n)])
        self.motion_modules = nn.ModuleList([_motion(cfg, cout) for _ in range(n)])
        self.run_motion = attention or cfg.run_plain_block_motion
        if upsample:
            self.upsamplers = nn.ModuleList([Upsample2D(cout, use_conv=True, out_channels=cout)])

    def forward(self, x, skips, ctx, upsample_size=None):
        for j in range(len(self.resnets)):
            x = torch.cat([x, skips.pop()], dim=1)
            x = self._resnet(j, x, ctx)
            x = self._attention_layer(j, x, ctx, use_motion=self.run_motion)
        if hasattr(self, "upsamplers"):
            x = self.upsamplers[0](x, output_size=upsample_size)
        return x


class DenoisingUNet3D(ModelMixin, ConfigMixin):
    """The EmoCAST denoising UNet (v-prediction on video latents).

    forward(sample ``(B, 4, F, h, w)``, timestep (scalar or ``(B,)``), context ``(B, T+K, D)``
    [emotion text ; face tokens], audio :class:`AudioConditioning` or None, locator
    ``(B, C0, h, w)`` / ``(B, C0, F, h, w)`` FaceLocator output or None) -> ``(B, 4, F, h, w)``.

    The reference bank (``self.bank``) must be filled by the ReferenceNet and put in ``"read"``
    mode by the caller (see :class:`~emocast.neural.net.EmoCASTNet`); with the bank ``"off"`` the
    spatial self-attention is plain and no motion frames are used.
    """

    _supports_gradient_checkpointing = True
    temporal = True
    """False bypasses every temporal (motion) module: the image-level training stage (Hallo's stage 1)."""

    @register_to_config
    def __init__(self, net_config: dict | None = None):
        super().__init__()
        cfg = NetConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in (net_config or {}).items()})
        self.cfg = cfg
        ch = list(cfg.block_out_channels)
        temb = ch[0] * 4
        self.conv_in = nn.Conv2d(cfg.latent_channels, ch[0], 3, padding=1)
        self.time_proj = Timesteps(ch[0], flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        n = len(ch)
        self.down_blocks = nn.ModuleList()
        cin = ch[0]
        for i, cout in enumerate(ch):
            self.down_blocks.append(DownBlock3D(cfg, cin, cout, temb, i, attention=i < n - 1, downsample=i < n - 1))
            cin = cout
        self.mid_block = MidBlock3D(cfg, ch[-1], temb, n - 1)
        self.up_blocks = nn.ModuleList()
        rev = ch[::-1]
        prev = rev[0]
        for i, cout in enumerate(rev):
            cin_ = rev[min(i + 1, n - 1)]
            self.up_blocks.append(UpBlock3D(cfg, cin_, prev, cout, temb, n - 1 - i, attention=i > 0, upsample=i < n - 1))
            prev = cout
        self.conv_norm_out = nn.GroupNorm(cfg.norm_num_groups, ch[0], eps=1e-5)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(ch[0], cfg.latent_channels, 3, padding=1)
        self.bank = ReferenceBank()
        for prefix, blocks in (("down_blocks", self.down_blocks), ("up_blocks", self.up_blocks)):
            for i, blk in enumerate(blocks):
                if hasattr(blk, "attentions"):
                    blk.attention_names = [f"{prefix}.{i}.attentions.{j}" for j in range(len(blk.attentions))]
        self.mid_block.attention_names = ["mid_block.attentions.0"]

    def spatial_transformers(self):
        """(name, Transformer2DModel) of every spatial block; names match the ReferenceNet's."""
        for name, mod in self.named_modules():
            if isinstance(mod, Transformer2DModel):
                yield name, mod

    def forward(self, sample: torch.Tensor, timestep, context: torch.Tensor,
                audio: AudioConditioning | None = None, locator: torch.Tensor | None = None) -> torch.Tensor:
        b, _, f, h, w = sample.shape
        t = torch.as_tensor(timestep, device=sample.device)
        if t.dim() == 0:
            t = t[None]
        t = t.expand(b)
        emb = self.time_embedding(self.time_proj(t).to(sample.dtype))
        temb = emb.repeat_interleave(f, dim=0)
        self.bank.num_frames = f
        ctx = _Ctx(f, temb, context.repeat_interleave(f, dim=0), audio, self.bank, self.temporal)
        x = self.conv_in(_fold(sample))
        if locator is not None:
            loc = locator if locator.dim() == 5 else locator.unsqueeze(2).expand(-1, -1, f, -1, -1)
            x = x + _fold(loc.to(x.dtype))
        skips = [x]
        for blk in self.down_blocks:
            x, s = blk(x, ctx)
            skips.extend(s)
        x = self.mid_block(x, ctx)
        for i, blk in enumerate(self.up_blocks):
            n = len(blk.resnets)
            res, skips = skips[-n:], skips[:-n]
            size = skips[-1].shape[-2:] if i < len(self.up_blocks) - 1 else None
            x = blk(x, list(res), ctx, upsample_size=size)
        x = self.conv_out(self.conv_act(self.conv_norm_out(x)))
        return _unfold(x, f)
