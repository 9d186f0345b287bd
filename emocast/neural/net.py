"""The EmoCAST network container (paper Sec. 3.2): ReferenceNet, denoising UNet, face locator,
face and audio projections, with the reference-attention bank wired between the two UNets.

Also the training hooks: :meth:`EmoCASTNet.set_trainable` (per-part freezing) and
:meth:`EmoCASTNet.enable_gradient_checkpointing`.
"""
from __future__ import annotations

import fnmatch

import torch
from diffusers import UNet2DConditionModel
from diffusers.models.transformers.transformer_2d import Transformer2DModel
from torch import nn

from .adapters import AudioProjection, FaceLocator, FaceProjection
from .attention import (AudioConditioning, BankReadProcessor, BankWriteProcessor, DecoupledCrossAttnProcessor,
                        ReferenceBank)
from .config import NetConfig, full_config
from .unet3d import DenoisingUNet3D


class ReferenceNet(UNet2DConditionModel):
    """SD-1.5 UNet used as ReferenceNet: diffusers' ``UNet2DConditionModel`` without the output
    head (``conv_norm_out``/``conv_out`` are absent in the release). Its only product is the
    reference bank: every spatial transformer block stores its self-attention input.

    forward(latents ``(N, 4, h, w)``, timestep, context ``(N, T+K, D)``) -> features
    ``(N, C0, h, w)`` of the last up block (unused).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conv_norm_out = None
        self.conv_out = nn.Identity()


def reference_net(cfg: NetConfig) -> ReferenceNet:
    n = len(cfg.block_out_channels)
    return ReferenceNet(
        sample_size=cfg.sample_size, in_channels=cfg.latent_channels, out_channels=cfg.latent_channels,
        down_block_types=("CrossAttnDownBlock2D",) * (n - 1) + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * (n - 1),
        block_out_channels=tuple(cfg.block_out_channels), layers_per_block=cfg.layers_per_block,
        cross_attention_dim=cfg.cross_attention_dim, attention_head_dim=cfg.attention_heads,
        norm_num_groups=cfg.norm_num_groups,
    )


#: name patterns of the trainable parts (for :meth:`EmoCASTNet.set_trainable`), in our key naming.
PARTS = {
    "reference_unet": ["reference_unet.*"],
    "face_adapter": ["*.attn2.processor.to_k_ip.*", "*.attn2.processor.to_v_ip.*", "face_proj.*"],
    "motion_modules": ["denoising_unet.*motion_modules.*"],
    "emotion_audio": ["denoising_unet.*audio_modules.*emo_audio_*"],
    "audio_modules": ["denoising_unet.*audio_modules.*"],
    "audio_proj": ["audio_proj.*"],
    "face_locator": ["face_locator.*"],
    "denoising_unet": ["denoising_unet.*"],
}


class EmoCASTNet(nn.Module):
    """All trainable parts of EmoCAST (what the release stores in ``net.pth``).

    Attributes:
        reference_unet: :class:`ReferenceNet`.
        denoising_unet: :class:`~emocast.neural.unet3d.DenoisingUNet3D`.
        face_locator: :class:`~emocast.neural.adapters.FaceLocator`.
        face_proj: :class:`~emocast.neural.adapters.FaceProjection` (release name ``imageproj``).
        audio_proj: :class:`~emocast.neural.adapters.AudioProjection` (release name ``audioproj``).
        bank: the :class:`~emocast.neural.attention.ReferenceBank` both UNets share.

    Keys differ from ``net.pth`` in a few places; :mod:`emocast.neural.convert` maps them.
    """

    def __init__(self, cfg: NetConfig | None = None):
        super().__init__()
        cfg = cfg or full_config()
        self.cfg = cfg
        self.reference_unet = reference_net(cfg)
        self.denoising_unet = DenoisingUNet3D(net_config=cfg.to_dict())
        self.face_locator = FaceLocator(out_channels=cfg.block_out_channels[0], channels=tuple(cfg.locator_channels))
        self.face_proj = FaceProjection(cfg.face_embed_dim, cfg.cross_attention_dim, cfg.face_tokens)
        self.audio_proj = AudioProjection(cfg.audio_window, cfg.audio_layers, cfg.audio_dim, cfg.audio_hidden,
                                          cfg.audio_tokens, cfg.cross_attention_dim)
        self.bank = self.denoising_unet.bank
        self._install_processors()

    # ---------------------------------------------------------------- processors
    def _install_processors(self) -> None:
        d = self.cfg.cross_attention_dim
        for unet, proc in ((self.reference_unet, BankWriteProcessor), (self.denoising_unet, BankReadProcessor)):
            for name, mod in unet.named_modules():
                if not isinstance(mod, Transformer2DModel):
                    continue
                blk = mod.transformer_blocks[0]
                blk.attn1.set_processor(proc(self.bank, name))
                c = blk.attn2.to_q.out_features
                blk.attn2.set_processor(DecoupledCrossAttnProcessor(c, d, self.cfg.face_tokens))

    def decoupled_processors(self):
        for m in self.modules():
            if isinstance(m, DecoupledCrossAttnProcessor):
                yield m

    def set_guidance_weights(self, text: float = 1.0, face: float = 1.0) -> None:
        """Weights of the emotion-text and face parts of every decoupled cross-attention."""
        for p in self.decoupled_processors():
            p.text_scale, p.face_scale = float(text), float(face)

    # ---------------------------------------------------------------- forward pieces
    @torch.no_grad()
    def write_reference(self, ref_latents: torch.Tensor, context: torch.Tensor, n_slots: int,
                        rows: list[int] | torch.Tensor | None = None) -> None:
        """Run the ReferenceNet once (t = 0) and fill the bank.

        Args:
            ref_latents: ``(R*S, 4, h, w)`` latents, ``S = n_slots`` per row (portrait, motion frames).
            context: ``(R*S, T+K, D)`` context per latent.
            n_slots: S.
            rows: which of the R rows each denoising batch row reads (default: identity).
        """
        write_reference(self.reference_unet, self.bank, ref_latents, context, n_slots, rows)

    def denoise(self, latents: torch.Tensor, timestep, context: torch.Tensor, audio: AudioConditioning | None,
                locator: torch.Tensor | None, use_reference: torch.Tensor | None = None) -> torch.Tensor:
        """One UNet evaluation: see :class:`~emocast.neural.unet3d.DenoisingUNet3D`. ``use_reference``
        bool ``(B,)`` switches reference self-attention off for some rows (unconditional CFG branch)."""
        self.bank.use_reference = use_reference
        return self.denoising_unet(latents, timestep, context, audio, locator)

    # ---------------------------------------------------------------- training
    def set_trainable(self, parts: list[str] | str | None = None) -> int:
        """Freeze everything, then unfreeze ``parts`` (names of :data:`PARTS` or glob patterns over
        parameter names). Returns the number of trainable parameters. ``None`` freezes all."""
        parts = [parts] if isinstance(parts, str) else list(parts or [])
        pats = []
        for p in parts:
            pats.extend(PARTS.get(p, [p]))
        n = 0
        for name, prm in self.named_parameters():
            on = any(fnmatch.fnmatchcase(name, pat) for pat in pats)
            prm.requires_grad_(on)
            n += prm.numel() if on else 0
        return n

    def enable_gradient_checkpointing(self) -> None:
        """Activation checkpointing in both UNets (per resnet / attention / audio / temporal layer)."""
        self.reference_unet.enable_gradient_checkpointing()
        self.denoising_unet.enable_gradient_checkpointing()


@torch.no_grad()
def write_reference(reference_unet: ReferenceNet, bank: ReferenceBank, latents: torch.Tensor, context: torch.Tensor,
                    n_slots: int, rows=None) -> None:
    """Fill ``bank`` from one ReferenceNet pass at t = 0 and switch it to ``"read"``.
    ``latents`` ``(R*S, 4, h, w)``, ``context`` ``(R*S, T+K, D)``; see :meth:`EmoCASTNet.write_reference`."""
    fill_bank(reference_unet, bank, latents, context, n_slots, rows)


def fill_bank(reference_unet: ReferenceNet, bank: ReferenceBank, latents: torch.Tensor, context: torch.Tensor,
              n_slots: int, rows=None) -> None:
    """:func:`write_reference` that keeps the autograd graph when gradients are enabled (training the
    ReferenceNet through the bank). Clear the bank only after ``backward``: the graph holds its tensors."""
    bank.clear()
    bank.mode = "write"
    reference_unet(latents, 0, encoder_hidden_states=context, return_dict=False)
    bank.arrange(n_slots, rows)
    bank.mode = "read"


def build_net(cfg: NetConfig | None = None, device: str | torch.device | None = None,
              dtype: torch.dtype | None = None) -> EmoCASTNet:
    """Build :class:`EmoCASTNet`; ``device="meta"`` allocates nothing (shape checks, fast loading)."""
    if device is not None and str(device) == "meta":
        with torch.device("meta"):
            net = EmoCASTNet(cfg)
    else:
        net = EmoCASTNet(cfg)
        if device is not None:
            net.to(device)
    if dtype is not None:
        net.to(dtype)
    return net
