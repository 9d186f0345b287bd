"""Sizes of the EmoCAST network (paper Sec. 3.2).

:func:`full_config` gives the released checkpoint's sizes (2.49 B parameters in ``net.pth``);
:func:`tiny_config` keeps every module and every wiring rule but uses a few channels, so the whole
pipeline runs on a CPU in seconds with random weights (tests, CI).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class NetConfig:
    """Hyper-parameters of every module of :class:`emocast.neural.net.EmoCASTNet`.

    Attributes:
        block_out_channels: UNet widths per resolution level (SD-1.5: 320, 640, 1280, 1280).
        layers_per_block: resnets per down block (up blocks have one more).
        norm_num_groups: GroupNorm groups everywhere in the UNets.
        attention_heads: heads of every spatial / audio / temporal attention (head width = C // heads).
        cross_attention_dim: width of text, face and audio tokens (CLIP-L: 768).
        latent_channels: VAE latent channels (4).
        face_tokens: face-embedding tokens appended to the text context (IP-Adapter style).
        face_embed_dim: ArcFace embedding size (512).
        audio_layers / audio_dim: wav2vec2 hidden layers stacked per frame and their width.
        audio_window: audio frames per video frame (i-2 .. i+2 -> 5).
        audio_hidden: hidden width of the audio projection MLP.
        audio_tokens: audio tokens per video frame after projection.
        emo_audio_heads / emo_audio_head_dim: the emotion-text x audio attention (8 x 80 = 640).
        motion_max_len: frames the temporal position encoding covers (32).
        locator_channels: FaceLocator conv widths.
        motion_mid_block: a temporal module in the mid block.
        run_plain_block_motion: run the temporal modules of the attention-free blocks
            (down_blocks[-1], up_blocks[0]). The release never runs them (its checkpointed
            training-mode path skips them, NOTES.md Sec. 2); their weights are still loaded.
        sample_size: latent side the network was trained at (64 -> 512 px).
    """

    block_out_channels: tuple = (320, 640, 1280, 1280)
    layers_per_block: int = 2
    norm_num_groups: int = 32
    attention_heads: int = 8
    cross_attention_dim: int = 768
    latent_channels: int = 4
    face_tokens: int = 4
    face_embed_dim: int = 512
    audio_layers: int = 12
    audio_dim: int = 768
    audio_window: int = 5
    audio_hidden: int = 512
    audio_tokens: int = 32
    emo_audio_heads: int = 8
    emo_audio_head_dim: int = 80
    motion_max_len: int = 32
    locator_channels: tuple = (16, 32, 64, 128)
    motion_mid_block: bool = True
    run_plain_block_motion: bool = False
    sample_size: int = 64
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def replace(self, **kw) -> "NetConfig":
        return replace(self, **kw)


def full_config() -> NetConfig:
    """The released EmoCAST sizes (SD-1.5 UNets, CLIP-L tokens, wav2vec2-base features)."""
    return NetConfig()


def tiny_config() -> NetConfig:
    """Same structure as :func:`full_config` with small widths, for CPU tests with random weights.

    Pairs with :func:`emocast.neural.tiny.tiny_components` (tiny CLIP text encoder of width 32,
    tiny wav2vec2 with 2 layers of width 32, tiny VAE).
    """
    return NetConfig(
        block_out_channels=(32, 32, 64, 64),
        layers_per_block=2,
        norm_num_groups=8,
        attention_heads=4,
        cross_attention_dim=32,
        face_tokens=4,
        face_embed_dim=16,
        audio_layers=2,
        audio_dim=32,
        audio_window=5,
        audio_hidden=32,
        audio_tokens=4,
        emo_audio_heads=2,
        emo_audio_head_dim=8,
        motion_max_len=32,
        locator_channels=(8, 8, 16, 16),
        sample_size=8,
    )
