"""Optional step of a clip: the network's own input features, precomputed for training when the user
gives the models (the neural engine's code computes them, so training reads what inference feeds).

* ``cfg.wav2vec`` (a ``Wav2Vec2Model`` folder, the release's ``wav2vec2-base-960h``): every layer's hidden
  states at the clip's frames, the audio normalised then padded to whole 16-frame clips as
  :meth:`emocast.neural.pipeline.EmoCASTPipeline.encode_audio` prepares it, cut back to the clip's frames;
* ``cfg.arcface`` (an ArcFace ONNX model): the 512-d identity embedding of the clip's first frame, aligned
  from its Face Mesh landmarks (:class:`emocast.neural.face_embed.ArcFaceEmbedder`).
"""
from __future__ import annotations

import functools
import os

import numpy as np

from ..media.audio import load_audio
from ..media.video import iter_frames
from .clip import AUDIO, LANDMARKS, VIDEO
from .config import DatasetConfig

AUDIO_FEATURES, FACE_EMBEDDING = "audio_features.npy", "face_embedding.npy"


def outputs(cfg: DatasetConfig) -> list[str]:
    """The files this step writes for ``cfg`` (none without models)."""
    return ([AUDIO_FEATURES] if cfg.wav2vec else []) + ([FACE_EMBEDDING] if cfg.arcface else [])


@functools.cache
def _wav2vec(path: str):
    from transformers import Wav2Vec2Model

    from ..errors import InputError

    try:
        return Wav2Vec2Model.from_pretrained(path).eval()
    except (OSError, ValueError) as e:
        raise InputError(path, f"not a wav2vec2 model folder ({type(e).__name__})") from None


@functools.cache
def _arcface(path: str):
    from ..neural.face_embed import ArcFaceEmbedder

    return ArcFaceEmbedder(path)


def audio_features(model, wav: np.ndarray, n_frames: int, fps: int = 25) -> np.ndarray:
    """Every wav2vec2 layer's hidden states at ``n_frames`` video frames, ``float32 (n_frames, layers, dim)``:
    the audio normalised, padded to whole 16-frame clips and encoded as inference does, cut to the clip."""
    from ..neural.audio import normalise, pad_audio, wav2vec_features

    padded, _, n_padded = pad_audio(normalise(wav), fps=fps)
    return wav2vec_features(model, padded, n_padded, normalised=True)[:n_frames].float().numpy()


def write_features(out: str, n_frames: int, cfg: DatasetConfig) -> dict:
    """Write ``out/audio_features.npy`` (``float16 (T, layers, dim)``) and/or ``out/face_embedding.npy``
    (``float32 (512,)``). Returns their shapes."""
    result = {}
    if cfg.wav2vec:
        wav = load_audio(os.path.join(out, AUDIO), sr=cfg.sample_rate, check_silence=False)
        arr = audio_features(_wav2vec(cfg.wav2vec), wav, n_frames, cfg.fps).astype(np.float16)
        np.save(_tmp := os.path.join(out, f".{AUDIO_FEATURES}.tmp.npy"), arr)
        os.replace(_tmp, os.path.join(out, AUDIO_FEATURES))
        result["audio_features"] = list(arr.shape)
    if cfg.arcface:
        frame = next(f for _, f in iter_frames(os.path.join(out, VIDEO), 0, 1))
        emb = _arcface(cfg.arcface).embed(frame, np.load(os.path.join(out, LANDMARKS))[0])
        np.save(_tmp := os.path.join(out, f".{FACE_EMBEDDING}.tmp.npy"), emb.astype(np.float32))
        os.replace(_tmp, os.path.join(out, FACE_EMBEDDING))
        result["face_embedding"] = list(emb.shape)
    return result
