"""Tiny random stand-ins for every component of the neural engine (tests and CI; nothing is
downloaded). Same classes and wiring as the real models, a few channels wide."""
from __future__ import annotations

import json
import os
import string
import tempfile

import torch

from .config import NetConfig, tiny_config


def tiny_tokenizer(folder: str | None = None):
    """A ``CLIPTokenizer`` over single characters (vocab and merges written to ``folder``)."""
    from transformers import CLIPTokenizer

    folder = folder or tempfile.mkdtemp(prefix="emocast_tok_")
    chars = string.ascii_lowercase + string.digits + ".,:;!?'-"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    vp, mp = os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt")
    with open(vp, "w") as f:
        json.dump(vocab, f)
    with open(mp, "w") as f:
        f.write("#version: 0.2\n")
    return CLIPTokenizer.from_pretrained(folder, model_max_length=77)


def tiny_components(cfg: NetConfig | None = None, seed: int = 0) -> dict:
    """Random tiny ``net`` (:class:`EmoCASTNet`), ``vae``, ``text_encoder``, ``tokenizer`` and
    ``audio_encoder`` matching ``cfg`` (default :func:`tiny_config`)."""
    from diffusers import AutoencoderKL
    from transformers import CLIPTextConfig, CLIPTextModel, Wav2Vec2Config, Wav2Vec2Model

    from .net import build_net

    cfg = cfg or tiny_config()
    torch.manual_seed(seed)
    net = build_net(cfg).eval()
    # random (not zero) outputs for the zero-initialised layers, so every path is exercised
    with torch.no_grad():
        for name, p in net.named_parameters():
            if ("region_out" in name or "motion_modules" in name and "proj_out" in name
                    or name.startswith("face_locator.conv_out")):
                p.normal_(0, 0.02)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=cfg.latent_channels,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        block_out_channels=(8, 8, 8, 8), layers_per_block=1, norm_num_groups=4).eval()
    tok = tiny_tokenizer()
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok), hidden_size=cfg.cross_attention_dim,
                                        intermediate_size=2 * cfg.cross_attention_dim, num_hidden_layers=2,
                                        num_attention_heads=4, max_position_embeddings=77,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1)).eval()
    w2v = Wav2Vec2Model(Wav2Vec2Config(hidden_size=cfg.audio_dim, num_hidden_layers=cfg.audio_layers,
                                       num_attention_heads=2, intermediate_size=2 * cfg.audio_dim,
                                       conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                                       num_conv_pos_embedding_groups=2)).eval()
    return dict(net=net, vae=vae, text_encoder=text, tokenizer=tok, audio_encoder=w2v)


def tiny_pipeline(sampler: str = "ddim", seed: int = 0):
    """:class:`~emocast.neural.pipeline.EmoCASTPipeline` over :func:`tiny_components`."""
    from .pipeline import EmoCASTPipeline, make_scheduler

    c = tiny_components(seed=seed)
    return EmoCASTPipeline.from_net(c["net"], c["vae"], c["text_encoder"], c["tokenizer"], c["audio_encoder"],
                                    make_scheduler(sampler))
