"""Entry points of the neural engine for the CLI, the Python API and the web page."""
from __future__ import annotations

import logging
from typing import Iterator

import numpy as np

log = logging.getLogger(__name__)

_DTYPES = {"fp16": "float16", "float16": "float16", "bf16": "bfloat16", "bfloat16": "bfloat16",
           "fp32": "float32", "float32": "float32"}


def resolve_dtype(dtype: str, device) -> "torch.dtype":
    """``"fp16" | "bf16" | "fp32"`` -> torch dtype; fp16 on a CPU becomes fp32 (CPU fp16 is slow)."""
    import torch

    if dtype not in _DTYPES:
        from emocast.errors import InputError
        raise InputError("--dtype", f"unknown dtype {dtype!r} (use fp16, bf16 or fp32)")
    dt = getattr(torch, _DTYPES[dtype])
    if dt == torch.float16 and torch.device(device).type == "cpu":
        log.warning("fp16 on CPU is not supported well; using fp32")
        dt = torch.float32
    return dt


def _face_landmarks(image: np.ndarray):
    """MediaPipe mesh from the face stage when it is available, else None."""
    try:
        from emocast import face as face_stage
        return np.asarray(face_stage.analyse(image).landmarks, np.float32)[:, :2]  # x, y pixels (z dropped)
    except (ImportError, AttributeError):
        return None


def generate_frames(image: np.ndarray, audio: np.ndarray, track, weights_dir: str, *, steps: int = 40,
                    cfg_text: float = 3.5, cfg_audio: float = 3.5, dtype: str = "fp16", device=None,
                    size: int = 512, sampler: str = "ddim", cpu_offload: bool = False, progress: bool = True,
                    landmarks: np.ndarray | None = None, face_embedding: np.ndarray | None = None,
                    region_weights: dict | None = None, seed: int = 42, fps: float = 25.0,
                    pipeline=None) -> Iterator[np.ndarray]:
    """Render a talking-head video with the EmoCAST network (paper Sec. 3.2).

    Args:
        image: ``uint8 (H, W, 3)`` RGB portrait (resized to ``size`` square, no cropping).
        audio: ``float32`` 16 kHz mono speech; the video has ``ceil(seconds * 25)`` frames.
        track: :class:`~emocast.emotion.track.EmotionTrack` (``prompt_at(t)`` is read at each
            16-frame clip's centre, so the emotion can change every 0.64 s), or a plain string.
        weights_dir: folder laid out like the release (see :mod:`emocast.neural.weights`).
        steps: denoising steps per clip (40 = release; ~20 with ``sampler="dpm"``).
        cfg_text / cfg_audio: guidance for the emotion text and for identity/audio (3.5 / 3.5 =
            release; equal values reproduce the release's two-branch CFG).
        dtype: ``"fp16"``, ``"bf16"`` or ``"fp32"``.
        device: torch device (default: CUDA if available, else CPU; a CPU run is very slow).
        size: output side in pixels (512; multiples of 64).
        sampler: ``"ddim"`` (release) or ``"dpm"`` (DPM-Solver++ 2M).
        cpu_offload: keep models on the CPU and move each to the GPU only while it runs.
        progress: tqdm bar over all denoising steps.
        landmarks: ``float32 (N, 2)`` face landmarks in ``image`` pixels (MediaPipe 478 mesh);
            None = ask the face stage, else a centred box guess.
        face_embedding: ``float32 (512,)`` ArcFace embedding; None = computed from the weights
            folder's ArcFace model when landmarks are a mesh, else zeros.
        region_weights: ``{"full", "face", "lip"}`` weights of the audio attentions (1, 1, 1).
        seed: noise seed (release: 42).
        pipeline: an already built :class:`~emocast.neural.pipeline.EmoCASTPipeline` (tests,
            servers that keep the model loaded); ``weights_dir`` is then not read.

    Yields: ``uint8 (size, size, 3)`` RGB frames at 25 fps.

    Raises:
        emocast.errors.InputError: missing weights (one line listing the parts), bad dtype,
            size not a multiple of 64.
    """
    import torch

    from emocast.errors import InputError

    if size % 64:
        raise InputError("--size", f"size must be a multiple of 64, got {size}")
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    arcface = None
    if pipeline is None:
        from .weights import load_pipeline
        pipeline, arcface = load_pipeline(weights_dir, device=device, dtype=resolve_dtype(dtype, device),
                                          sampler=sampler, cpu_offload=cpu_offload)
    if landmarks is None:
        landmarks = _face_landmarks(image)
    if face_embedding is None and arcface and landmarks is not None and len(landmarks) >= 468:
        from .face_embed import ArcFaceEmbedder
        face_embedding = ArcFaceEmbedder(arcface).embed(image, landmarks)
    yield from pipeline.iter_frames(image, audio, track, landmarks=landmarks, face_embedding=face_embedding,
                                    num_inference_steps=steps, guidance_text=cfg_text, guidance_audio=cfg_audio,
                                    region_weights=region_weights, fps=fps, size=size, seed=seed,
                                    progress=progress)
