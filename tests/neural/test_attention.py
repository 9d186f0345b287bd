"""Shapes and semantics of each attention module (NOTES.md Sec. 4)."""
import pytest
import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from emocast.neural.attention import (REGIONS, AudioConditioning, BankReadProcessor, BankWriteProcessor,
                                      DecoupledCrossAttnProcessor, EmotiveAudioBlock, EmotiveAudioTransformer,
                                      ReferenceBank)
from emocast.neural.config import tiny_config
from emocast.neural.temporal import TemporalModule


def _ref_attn(attn, q_in, kv_in):
    """Plain multi-head attention written out (no SDPA) for comparisons."""
    q, k, v = attn.to_q(q_in), attn.to_k(kv_in), attn.to_v(kv_in)
    b, n, c = q.shape
    h = attn.heads
    q, k, v = (t.view(b, -1, h, c // h).transpose(1, 2) for t in (q, k, v))
    w = (q @ k.transpose(-1, -2) * attn.scale).softmax(-1)
    return (w @ v).transpose(1, 2).reshape(b, n, c)


def test_decoupled_cross_attention_sums_text_and_face():
    torch.manual_seed(0)
    attn = Attention(16, cross_attention_dim=12, heads=4, dim_head=4)
    proc = DecoupledCrossAttnProcessor(16, 12, num_tokens=4, text_scale=1.0, face_scale=0.7)
    attn.set_processor(proc)
    x, ctx = torch.randn(3, 10, 16), torch.randn(3, 77 + 4, 12)
    out = attn(x, encoder_hidden_states=ctx)
    assert out.shape == (3, 10, 16)
    text = _ref_attn(attn, x, ctx[:, :77])
    qf = attn.to_q(x)
    kf, vf = proc.to_k_ip[0](ctx[:, 77:]), proc.to_v_ip[0](ctx[:, 77:])
    b, h = 3, 4
    w = (qf.view(b, -1, h, 4).transpose(1, 2) @ kf.view(b, -1, h, 4).transpose(1, 2).transpose(-1, -2) * attn.scale)
    face = (w.softmax(-1) @ vf.view(b, -1, h, 4).transpose(1, 2)).transpose(1, 2).reshape(b, 10, 16)
    expect = attn.to_out[0](text + 0.7 * face)
    assert torch.allclose(out, expect, atol=1e-5)
    # face weight 0 == ordinary cross-attention on the text tokens only
    proc.face_scale = 0.0
    plain = Attention(16, cross_attention_dim=12, heads=4, dim_head=4)
    plain.load_state_dict({k: v for k, v in attn.state_dict().items() if "processor" not in k})
    plain.set_processor(AttnProcessor2_0())
    assert torch.allclose(attn(x, encoder_hidden_states=ctx), plain(x, encoder_hidden_states=ctx[:, :77]), atol=1e-5)


def test_reference_bank_write_then_read():
    torch.manual_seed(0)
    bank = ReferenceBank()
    a_ref, a_den = Attention(8, heads=2, dim_head=4), Attention(8, heads=2, dim_head=4)
    a_ref.set_processor(BankWriteProcessor(bank, "blk"))
    a_den.set_processor(BankReadProcessor(bank, "blk"))
    B, S, F_, HW = 2, 3, 4, 6
    ref_tokens = torch.randn(B * S, HW, 8)
    bank.mode = "write"
    a_ref(ref_tokens)
    bank.arrange(S)
    bank.mode, bank.num_frames = "read", F_
    assert bank.store["blk"].shape == (B, S, HW, 8)
    assert torch.equal(bank.motion_tokens("blk"), ref_tokens.view(B, S, HW, 8)[:, 1:])
    x = torch.randn(B * F_, HW, 8)
    bank.use_reference = torch.tensor([False, True])
    out = a_den(x)
    assert out.shape == x.shape
    # row 0 (unconditional): plain self-attention; row 1: keys = [own ; reference slot 0], where, as in
    # the release, frame row k (batch-major) reads the reference of batch row k % B: the conditional
    # frames alternate between the two reference passes
    plain = a_den.to_out[0](_ref_attn(a_den, x[:F_], x[:F_]))
    slot0 = ref_tokens.view(B, S, HW, 8)[:, 0]
    ref = torch.stack([slot0[(F_ + j) % B] for j in range(F_)])
    assert not torch.equal(ref[0], ref[1])
    withref = a_den.to_out[0](_ref_attn(a_den, x[F_:], torch.cat([x[F_:], ref], 1)))
    assert torch.allclose(out[:F_], plain, atol=1e-5)
    assert torch.allclose(out[F_:], withref, atol=1e-5)
    bank.clear()
    assert torch.allclose(a_den(x[:F_]), plain, atol=1e-5)  # bank off -> self-attention


def _block(level=0):
    torch.manual_seed(0)
    blk = EmotiveAudioBlock(dim=16, heads=4, cross_dim=12, emo_heads=2, emo_head_dim=8, level=level)
    return blk


def test_emotive_audio_block_shapes_and_zero_init():
    blk = _block()
    bf, h, w = 6, 4, 4
    x = torch.randn(bf, h * w, 16)
    emo, audio = torch.randn(bf, 77, 12), torch.randn(bf, 5, 12)
    masks = {r: [torch.rand(1, h * w)] for r in REGIONS}
    e = blk.emotion_audio_tokens(emo, audio)
    assert e.shape == (bf, 77, 12)  # emotion tokens are the queries, audio the keys/values
    out = blk(x, h, w, emo, audio, masks, {r: 1.0 for r in REGIONS})
    assert out.shape == x.shape
    # zero-initialised region outputs: the three audio cross-attentions add nothing yet
    y = x + blk.attn1(blk.norm1(x))
    assert torch.allclose(out, y + blk.ff(blk.norm3(y)), atol=1e-5)


def test_emotive_audio_masks_and_weights():
    blk = _block()
    for conv in blk.region_out.values():
        torch.nn.init.normal_(conv.weight, std=0.1)
    bf, h, w = 2, 4, 4
    x, emo, audio = torch.randn(bf, 16, 16), torch.randn(bf, 7, 12), torch.randn(bf, 5, 12)
    masks = {r: [torch.rand(1, 16)] for r in REGIONS}
    masks["lip"] = [torch.zeros(1, 16)]
    wts = {r: 1.0 for r in REGIONS}
    base = blk(x, h, w, emo, audio, masks, wts)
    # a zero lip mask: the lip attention's weights do not matter
    with torch.no_grad():
        blk.region_attn["lip"].to_v.weight.mul_(3.0)
    assert torch.allclose(blk(x, h, w, emo, audio, masks, wts), base, atol=1e-5)
    # user weights scale the region branch: weight 0 on face removes its contribution
    w0 = dict(wts, face=0.0)
    assert not torch.allclose(blk(x, h, w, emo, audio, masks, w0), base, atol=1e-4)
    # the output depends on the audio through the emotion x audio attention
    assert not torch.allclose(blk(x, h, w, emo, audio * 2 + 1, masks, wts), base, atol=1e-4)
    with pytest.raises(ValueError, match="mask"):
        blk(x, h, w, emo, audio, {r: [torch.rand(1, 9)] for r in REGIONS}, wts)


def test_emotive_audio_transformer_inner_width_and_levels():
    torch.manual_seed(0)
    mod = EmotiveAudioTransformer(channels=32, inner=16, heads=4, cross_dim=12, emo_heads=2, emo_head_dim=8,
                                  level=1, groups=8)
    assert mod.proj_in.weight.shape == (16, 32, 1, 1) and mod.proj_out.weight.shape == (32, 16, 1, 1)
    B, F_ = 2, 3
    x = torch.randn(B, 32, F_, 4, 4)
    masks = {r: [torch.rand(1, 64), torch.rand(1, 16)] for r in REGIONS}  # level 1 = 4x4
    cond = AudioConditioning(torch.randn(B, F_, 5, 12), torch.randn(B, 77, 12), masks)
    assert mod(x, cond).shape == x.shape


def test_temporal_module_motion_frames_and_identity_init():
    torch.manual_seed(0)
    tm = TemporalModule(16, heads=4, max_len=32, groups=8)
    x, motion = torch.randn(2, 16, 5, 3, 3), torch.randn(2, 16, 2, 3, 3)
    assert torch.allclose(tm(x), x)            # zero-initialised proj_out
    torch.nn.init.normal_(tm.proj_out.weight, std=0.1)
    y = tm(x, motion)
    assert y.shape == x.shape
    assert not torch.allclose(y, tm(x), atol=1e-5)   # motion frames are attended to
    assert tm.transformer_blocks[0].pos_embed.pe.shape == (1, 32, 16)


def test_denoising_unet_shapes_and_cfg_reference_switch(tiny):
    net = tiny["net"]
    cfg = tiny_config()
    D, h, F_, S = cfg.cross_attention_dim, 16, 3, 3
    ctx = torch.randn(2, 81, D)
    net.write_reference(torch.randn(2 * S, 4, h, h), ctx.repeat(S, 1, 1), S)
    name = "down_blocks.0.attentions.0"
    assert net.bank.store[name].shape == (2, S, h * h, cfg.block_out_channels[0])
    masks = {r: [torch.rand(1, (h >> lv) ** 2) for lv in range(4)] for r in REGIONS}
    audio = AudioConditioning(torch.randn(2, F_, cfg.audio_tokens, D), torch.randn(2, 77, D), masks)
    lat = torch.randn(1, 4, F_, h, h).repeat(2, 1, 1, 1, 1)
    with torch.no_grad():
        out = net.denoise(lat, 500, ctx, audio, torch.randn(2, cfg.block_out_channels[0], h, h),
                          torch.tensor([False, True]))
    assert out.shape == (2, 4, F_, h, h) and out.isfinite().all()
    net.bank.clear()
