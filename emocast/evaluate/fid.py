"""Fréchet Inception Distance between a video's frames and a reference set.

Source: Heusel et al., *GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium* (NeurIPS 2017); the distance as computed by ``pytorch-fid``'s
``calculate_frechet_distance``. No Inception weights ship with EmoCAST: pass a TorchScript feature
extractor, e.g. NVIDIA's ``inception-2015-12-05.pt`` (the TF-FID Inception used by StyleGAN2-ADA
and clean-fid), which takes ``uint8 (N, 3, H, W)`` RGB and, called with ``return_features=True``,
returns ``(N, 2048)`` pool features. FID from a few hundred frames is biased upwards; compare
figures only at equal sample counts.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import InputError

IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
VIDEO_EXT = (".mp4", ".mov", ".avi", ".mkv", ".webm")


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between Gaussians ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``:
    ``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))``.

    Args:
        mu1, mu2: ``(D,)`` means. sigma1, sigma2: ``(D, D)`` covariances.
        eps: diagonal offset used when the product is singular.

    Raises:
        ValueError: shape mismatch or an imaginary component that is not numerical noise.
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    s1, s2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise ValueError("means and covariances must have matching shapes")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        off = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + off) @ (s2 + off))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag))}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def feature_stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` of features ``(N, D)`` (N >= 2)."""
    feats = np.asarray(feats, np.float64)
    if feats.ndim != 2 or len(feats) < 2:
        raise ValueError("need at least 2 feature vectors")
    return feats.mean(0), np.cov(feats, rowvar=False)


def load_inception(path: str | os.PathLike):
    """Load a TorchScript feature extractor.

    Raises:
        InputError: missing file or not a TorchScript module.
    """
    import torch

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "Inception weights file not found")
    import warnings

    try:
        with warnings.catch_warnings():  # TorchScript is deprecated in new torch, but it is the format
            warnings.simplefilter("ignore", DeprecationWarning)  # the published FID Inception ships in
            model = torch.jit.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - anything torch.jit cannot load is a bad file
        raise InputError(path, "not a TorchScript Inception feature extractor "
                               f"(expected e.g. inception-2015-12-05.pt; {type(e).__name__})") from None
    model.eval()
    return model


def extract_features(model, images: np.ndarray, batch: int = 16) -> np.ndarray:
    """Features of ``uint8 (N, H, W, 3)`` RGB images -> ``float64 (N, D)``.

    The model is called with ``return_features=True`` when it accepts it (NVIDIA's Inception), else
    plainly; its output must be ``(N, D)``.
    """
    import torch

    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = torch.from_numpy(np.ascontiguousarray(images[i:i + batch])).permute(0, 3, 1, 2).contiguous()
            try:
                f = model(x, return_features=True)
            except (RuntimeError, TypeError):
                f = model(x)
            f = f.reshape(f.shape[0], -1) if f.ndim > 2 else f
            out.append(f.detach().cpu().numpy().astype(np.float64))
    return np.concatenate(out)


def load_reference(folder: str | os.PathLike, max_images: int = 1000, size: tuple[int, int] | None = None) -> np.ndarray:
    """Images (and video frames) of a reference folder as ``uint8 (N, H, W, 3)`` RGB.

    Args:
        folder: directory holding images and/or videos (not searched recursively).
        max_images: at most this many, spread evenly over the videos' frames.
        size: resize everything to ``(width, height)`` (default: the first image's size).

    Raises:
        InputError: the folder is missing or holds no image or video.
    """
    import cv2

    from ..media import load_image, read_video

    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise InputError(folder, "reference folder not found")
    names = sorted(os.listdir(folder))
    imgs: list[np.ndarray] = []
    for n in names:
        p = os.path.join(folder, n)
        if n.lower().endswith(IMAGE_EXT):
            imgs.append(load_image(p))
        elif n.lower().endswith(VIDEO_EXT):
            fr, _, _ = read_video(p, with_audio=False)
            imgs.extend(fr[np.unique(np.linspace(0, len(fr) - 1, min(len(fr), 100)).astype(int))])
        if len(imgs) >= max_images:
            break
    if not imgs:
        raise InputError(folder, "reference folder holds no image or video")
    imgs = imgs[:max_images]
    w, h = size or (imgs[0].shape[1], imgs[0].shape[0])
    return np.stack([im if im.shape[:2] == (h, w) else cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA) for im in imgs])


def fid(model, frames: np.ndarray, reference: np.ndarray) -> dict:
    """FID of video frames against reference images.

    Returns:
        dict ``fid``, ``n_frames``, ``n_reference``, ``feature_dim``.
    """
    fa, fb = extract_features(model, frames), extract_features(model, reference)
    if fa.shape[1] != fb.shape[1]:
        raise ValueError("feature dimensions differ")
    mu1, s1 = feature_stats(fa)
    mu2, s2 = feature_stats(fb)
    return {"fid": round(frechet_distance(mu1, s1, mu2, s2), 4), "n_frames": int(len(fa)),
            "n_reference": int(len(fb)), "feature_dim": int(fa.shape[1])}
