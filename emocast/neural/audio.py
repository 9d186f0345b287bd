"""Speech -> per-video-frame wav2vec2 features for the audio projection (paper Sec. 3.2.2).

Steps (as the release prepares audio, minus its vocal separation):

1. waveform float32 16 kHz mono, normalised to zero mean / unit variance (wav2vec2 feature
   extractor convention);
2. ``n = ceil(seconds * fps)`` video frames; zero-pad so that ``n`` is a multiple of the clip
   length (``pad_to``), 640 samples per missing frame at 25 fps;
3. wav2vec2's convolutional features (50 Hz) are linearly resampled (``align_corners=True``) to
   ``n`` frames *before* the feature projection and the transformer;
4. the hidden states of all transformer layers are stacked -> ``(n, layers, dim)``;
5. each frame takes the frames i-2..i+2 (clamped at the ends) -> ``(n, 5, layers, dim)``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

SAMPLE_RATE = 16000


def n_video_frames(n_samples: int, fps: float = 25.0) -> int:
    """Video frames covering ``n_samples`` of 16 kHz audio: ``ceil(n_samples / 16000 * fps)``."""
    return max(1, math.ceil(n_samples / SAMPLE_RATE * fps))


def pad_audio(audio: np.ndarray, fps: float = 25.0, pad_to: int = 16) -> tuple[np.ndarray, int, int]:
    """Zero-pad ``audio`` (float32, 16 kHz, already normalised by :func:`normalise`) to whole ``pad_to``-frame clips,
    as the release does: ``(pad_to - n % pad_to) * (16000 // fps)`` zeros after the samples (none when
    ``n`` is already a multiple), so the padding is silence *after* normalisation.

    Returns ``(padded, n_frames, n_frames_padded)``; ``n_frames`` is the real video length.
    """
    n = n_video_frames(len(audio), fps)
    n_pad = int(math.ceil(n / pad_to) * pad_to) if pad_to else n
    out = np.zeros(len(audio) + (n_pad - n) * int(SAMPLE_RATE // fps), np.float32)
    out[: len(audio)] = audio
    return out, n, n_pad


def normalise(audio: np.ndarray) -> np.ndarray:
    """Zero-mean unit-variance waveform (``Wav2Vec2FeatureExtractor(do_normalize=True)``)."""
    a = np.asarray(audio, np.float32)
    return (a - a.mean()) / np.sqrt(a.var() + 1e-7)


@torch.no_grad()
def wav2vec_features(model, audio: np.ndarray, n_frames: int, device=None, dtype=torch.float32,
                     normalised: bool = False) -> torch.Tensor:
    """Hidden states of every wav2vec2 layer at ``n_frames`` video frames.

    Args:
        model: a ``transformers.Wav2Vec2Model`` (eval mode).
        audio: float32 16 kHz mono waveform (padded with :func:`pad_audio`).
        n_frames: number of video frames to resample the 50 Hz features to.
        normalised: ``audio`` was normalised before padding (the release's order); otherwise it is
            normalised here.

    Returns: ``(n_frames, layers, dim)`` float tensor on ``device`` (release: (N, 12, 768)).
    """
    device = device or next(model.parameters()).device
    x = torch.from_numpy(np.asarray(audio, np.float32) if normalised else normalise(audio))[None]
    x = x.to(device, next(model.parameters()).dtype)
    feats = model.feature_extractor(x)                                   # (1, C, T50)
    feats = F.interpolate(feats.float(), size=n_frames, mode="linear", align_corners=True).to(feats.dtype)
    hidden, _ = model.feature_projection(feats.transpose(1, 2))
    enc = model.encoder
    # run the encoder layer by layer to collect every layer's output (transformers 4 and 5 alike)
    h = hidden + enc.pos_conv_embed(hidden)
    stable = getattr(model.config, "do_stable_layer_norm", False)
    if not stable:
        h = enc.layer_norm(h)
    states = []
    for layer in enc.layers:
        out = layer(h)
        h = out[0] if isinstance(out, tuple) else out
        states.append(h)
    if stable:
        states[-1] = enc.layer_norm(states[-1])
    return torch.stack(states, dim=2)[0].to(dtype)                      # (n, layers, dim)


def audio_windows(features: torch.Tensor, window: int = 5) -> torch.Tensor:
    """``(N, layers, dim)`` -> ``(N, window, layers, dim)``: frame i gets i-w//2 .. i+w//2, clamped."""
    n = features.shape[0]
    half = window // 2
    idx = torch.arange(n)[:, None] + torch.arange(-half, half + 1)[None]
    idx = idx.clamp(0, n - 1).to(features.device)
    return features[idx]
