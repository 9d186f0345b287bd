"""LSE-D / LSE-C with user-supplied SyncNet weights, as in Wav2Lip's evaluation.

Sources: Chung & Zisserman, *Out of time: automated lip sync in the wild* (ACCV-W 2016), the
``joonson/syncnet_python`` model (``SyncNetModel.S``) and Wav2Lip's ``evaluation/scores_LSE``
(Prajwal et al., ACM MM 2020): 5-frame 224x224 BGR face crops against 13x20 MFCC windows
(``python_speech_features.mfcc`` defaults on int16-scaled 16 kHz audio, 100 Hz), pairwise distances
over offsets -15..+15 frames, ``LSE-D`` = smallest mean distance, ``LSE-C`` = median minus smallest
mean distance. No SyncNet weights ship with EmoCAST: pass ``syncnet_v2.model`` (a PyTorch state dict
with keys ``netcnnaud.*``, ``netfcaud.*``, ``netcnnlip.*``, ``netfclip.*``).

Difference from the reference pipeline: faces are located with dlib's HOG detector (syncnet_python
uses S3FD); the crop rule (``crop_scale`` 0.4, median-smoothed boxes) is the same, applied to the
dlib box enlarged by :data:`DLIB_TO_S3FD` to approximate S3FD's larger box.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError

VSHIFT = 15
DLIB_TO_S3FD = 1.25
"""dlib HOG boxes (brows to chin) are smaller than S3FD's (forehead to chin): scale factor."""


def build_syncnet(num_layers_in_fc_layers: int = 1024):
    """SyncNet ``S`` of syncnet_python in PyTorch.

    ``forward_aud``: ``(N, 1, 13, 20)`` MFCC -> ``(N, 1024)``; ``forward_lip``:
    ``(N, 3, 5, 224, 224)`` BGR 0-255 -> ``(N, 1024)``.
    """
    from torch import nn

    class S(nn.Module):
        def __init__(self):
            super().__init__()
            self.netcnnaud = nn.Sequential(
                nn.Conv2d(1, 64, 3, 1, 1), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(1, 1),
                nn.Conv2d(64, 192, 3, 1, 1), nn.BatchNorm2d(192), nn.ReLU(inplace=True), nn.MaxPool2d(3, (1, 2)),
                nn.Conv2d(192, 384, 3, padding=1), nn.BatchNorm2d(384), nn.ReLU(inplace=True),
                nn.Conv2d(384, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(inplace=True),
                nn.Conv2d(256, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
                nn.Conv2d(256, 512, (5, 4), padding=0), nn.BatchNorm2d(512), nn.ReLU(),
            )
            self.netfcaud = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, num_layers_in_fc_layers))
            self.netfclip = nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, num_layers_in_fc_layers))
            self.netcnnlip = nn.Sequential(
                nn.Conv3d(3, 96, (5, 7, 7), (1, 2, 2), 0), nn.BatchNorm3d(96), nn.ReLU(inplace=True), nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
                nn.Conv3d(96, 256, (1, 5, 5), (1, 2, 2), (0, 1, 1)), nn.BatchNorm3d(256), nn.ReLU(inplace=True),
                nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
                nn.Conv3d(256, 256, (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(256), nn.ReLU(inplace=True),
                nn.Conv3d(256, 256, (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(256), nn.ReLU(inplace=True),
                nn.Conv3d(256, 256, (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(256), nn.ReLU(inplace=True),
                nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
                nn.Conv3d(256, 512, (1, 6, 6), padding=0), nn.BatchNorm3d(512), nn.ReLU(inplace=True),
            )

        def forward_aud(self, x):
            m = self.netcnnaud(x)
            return self.netfcaud(m.view(m.size(0), -1))

        def forward_lip(self, x):
            m = self.netcnnlip(x)
            return self.netfclip(m.view(m.size(0), -1))

    return S()


def load_syncnet(path: str | os.PathLike):
    """Build SyncNet and load the weights at ``path`` (strict: every key and shape must match).

    Raises:
        InputError: missing/unreadable file, not a state dict, or keys/shapes that are not SyncNet's.
    """
    import torch

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "SyncNet weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file
        raise InputError(path, f"cannot read SyncNet weights ({type(e).__name__})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(hasattr(v, "shape") for v in state.values()):
        raise InputError(path, "not a SyncNet state dict (expected syncnet_python's syncnet_v2.model)")
    state = {k.removeprefix("__S__."): v for k, v in state.items()}
    model = build_syncnet()
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise InputError(path, f"not SyncNet weights: {len(missing)} missing keys (e.g. {missing[:1]}), "
                               f"{len(unexpected)} unexpected (e.g. {unexpected[:1]})")
    bad = [k for k in own if tuple(own[k].shape) != tuple(state[k].shape)]
    if bad:
        raise InputError(path, f"SyncNet weight {bad[0]} has shape {tuple(state[bad[0]].shape)}, expected {tuple(own[bad[0]].shape)}")
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def mfcc(wav: np.ndarray, sr: int = 16000) -> np.ndarray:
    """``python_speech_features.mfcc`` with its defaults (25 ms frames every 10 ms, NFFT 512, 26 mel
    filters 0..sr/2, pre-emphasis 0.97, 13 cepstra, lifter 22, c0 replaced by log frame energy).

    Args:
        wav: waveform in the units the reference reads (int16 scale: float * 32768).

    Returns:
        ``float64 (n_frames, 13)`` at 100 Hz.
    """
    from scipy.fft import dct

    x = np.asarray(wav, np.float64)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    flen, fstep, nfft, nfilt = int(round(0.025 * sr)), int(round(0.01 * sr)), 512, 26
    n = 1 if len(x) <= flen else 1 + int(np.ceil((len(x) - flen) / fstep))
    x = np.concatenate([x, np.zeros((n - 1) * fstep + flen - len(x))])
    frames = x[np.arange(flen)[None, :] + fstep * np.arange(n)[:, None]]
    pspec = np.abs(np.fft.rfft(frames, nfft)) ** 2 / nfft
    energy = pspec.sum(1)
    energy = np.where(energy == 0, np.finfo(float).eps, energy)
    hz2mel = lambda h: 2595 * np.log10(1 + h / 700.0)  # noqa: E731
    mel2hz = lambda m: 700 * (10 ** (m / 2595.0) - 1)  # noqa: E731
    bins = np.floor((nfft + 1) * mel2hz(np.linspace(hz2mel(0), hz2mel(sr / 2), nfilt + 2)) / sr)
    fb = np.zeros((nfilt, nfft // 2 + 1))
    for j in range(nfilt):
        for i in range(int(bins[j]), int(bins[j + 1])):
            fb[j, i] = (i - bins[j]) / (bins[j + 1] - bins[j])
        for i in range(int(bins[j + 1]), int(bins[j + 2])):
            fb[j, i] = (bins[j + 2] - i) / (bins[j + 2] - bins[j + 1])
    feat = pspec @ fb.T
    feat = np.where(feat == 0, np.finfo(float).eps, feat)
    feat = dct(np.log(feat), type=2, axis=1, norm="ortho")[:, :13]
    feat *= 1 + 11.0 * np.sin(np.pi * np.arange(13) / 22)
    feat[:, 0] = np.log(energy)
    return feat


def face_crops(frames: np.ndarray, boxes: np.ndarray, crop_scale: float = 0.4) -> np.ndarray:
    """syncnet_python's ``crop_video``: 224x224 BGR crops around median-smoothed face boxes.

    Args:
        frames: ``uint8 (T, H, W, 3)`` RGB.
        boxes: ``(T, 4)`` ``(l, t, r, b)`` dlib boxes (NaN rows are interpolated).

    Returns:
        ``uint8 (T, 224, 224, 3)`` BGR.
    """
    import cv2
    from scipy.signal import medfilt

    from .lipsync import fill_gaps

    b = np.stack([fill_gaps(boxes[:, j]) for j in range(4)], 1)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    s = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2 * DLIB_TO_S3FD
    k = min(13, len(b) - (1 - len(b) % 2))  # medfilt needs an odd kernel no longer than the series
    s, cx, cy = medfilt(s, k), medfilt(cx, k), medfilt(cy, k)
    out = np.empty((len(frames), 224, 224, 3), np.uint8)
    for i, f in enumerate(frames):
        bs = s[i]
        bsi = int(bs * (1 + 2 * crop_scale))
        pad = np.pad(f[..., ::-1], ((bsi, bsi), (bsi, bsi), (0, 0)), constant_values=110)
        my, mx = cy[i] + bsi, cx[i] + bsi
        face = pad[int(my - bs):int(my + bs * (1 + 2 * crop_scale)), int(mx - bs * (1 + crop_scale)):int(mx + bs * (1 + crop_scale))]
        out[i] = cv2.resize(face, (224, 224))
    return out


def lse(model, crops_bgr: np.ndarray, wav: np.ndarray, sr: int = 16000, vshift: int = VSHIFT, batch: int = 20) -> dict:
    """LSE-D, LSE-C and SyncNet's offset, as Wav2Lip's ``calculate_scores`` computes them.

    Args:
        model: from :func:`load_syncnet` (or :func:`build_syncnet`).
        crops_bgr: ``uint8 (T, 224, 224, 3)`` BGR face crops at 25 fps.
        wav: ``float32`` 16 kHz mono waveform in [-1, 1].

    Returns:
        dict ``lse_d`` (lower is better), ``lse_c`` (higher is better), ``syncnet_offset`` (frames,
        SyncNet's own sign ``vshift - argmin``: positive when the video lags the audio, i.e. the
        *opposite* of :mod:`emocast.evaluate.lipsync`'s ``offset_frames``), ``frames_scored``.

    Raises:
        InputError: fewer than 6 frames.
    """
    import torch

    if sr != 16000:
        raise ValueError("SyncNet expects 16 kHz audio")
    pcm = np.clip(np.round(np.asarray(wav, np.float64) * 32768.0), -32768, 32767)  # the reference reads int16 WAV
    cc = mfcc(pcm, sr).T  # (13, n)
    min_len = min(len(crops_bgr), len(wav) // 640)
    last = min_len - 5
    if last < 1:
        raise InputError("video", "too short for SyncNet (needs at least 6 frames)")
    im = torch.from_numpy(crops_bgr.astype(np.float32)).permute(3, 0, 1, 2)[None]  # (1, 3, T, 224, 224)
    cct = torch.from_numpy(cc.astype(np.float32))[None, None]  # (1, 1, 13, n)
    im_feat, cc_feat = [], []
    with torch.no_grad():
        for i in range(0, last, batch):
            idx = range(i, min(last, i + batch))
            im_feat.append(model.forward_lip(torch.cat([im[:, :, v:v + 5] for v in idx], 0)))
            cc_feat.append(model.forward_aud(torch.cat([cct[:, :, :, v * 4:v * 4 + 20] for v in idx], 0)))
    im_feat, cc_feat = torch.cat(im_feat), torch.cat(cc_feat)
    win = 2 * vshift + 1
    ccp = torch.nn.functional.pad(cc_feat, (0, 0, vshift, vshift))
    dists = torch.stack([torch.nn.functional.pairwise_distance(im_feat[[i]].repeat(win, 1), ccp[i:i + win])
                         for i in range(len(im_feat))], 1)  # (win, n)
    mdist = dists.mean(1)
    minval, minidx = torch.min(mdist, 0)
    return {"lse_d": round(float(minval), 4), "lse_c": round(float(torch.median(mdist) - minval), 4),
            "syncnet_offset": int(vshift - int(minidx)), "frames_scored": int(len(im_feat))}
