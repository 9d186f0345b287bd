"""A tiny ArcFace-shaped ONNX model written as raw protobuf (the ``onnx`` package is not a dependency):
``input float32 (1, 3, 112, 112) -> GlobalAveragePool -> Flatten -> MatMul W (3, dim) -> output (1, dim)``."""
from __future__ import annotations

import numpy as np


def _varint(n: int) -> bytes:
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def _field(num: int, value) -> bytes:
    if isinstance(value, int):
        return _varint(num << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def _value_info(name: str, shape) -> bytes:
    """A float tensor's name and shape; a ``str`` dimension is symbolic (any size)."""
    dims = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _field(1, d)) for d in shape)
    tensor_type = _field(1, 1) + _field(2, dims)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _node(op: str, inputs, outputs) -> bytes:
    return b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs) + _field(4, op)


def tiny_arcface(path, dim: int = 16, seed: int = 0, batch="1", side: int = 112) -> str:
    """Write the model to ``path``; returns ``path`` as a string. ``batch="N"`` makes the batch size free
    (a classifier over many crops: ``dim`` is then its class count)."""
    w = np.random.default_rng(seed).standard_normal((3, dim)).astype("<f4")
    batch = 1 if batch == "1" else batch
    init = b"".join(_field(1, d) for d in w.shape) + _field(2, 1) + _field(8, "W") + _field(9, w.tobytes())
    graph = (_field(1, _node("GlobalAveragePool", ["input"], ["pooled"])) +
             _field(1, _node("Flatten", ["pooled"], ["flat"])) +
             _field(1, _node("MatMul", ["flat", "W"], ["output"])) +
             _field(2, "tiny_arcface") + _field(5, init) +
             _field(11, _value_info("input", (batch, 3, side, side))) + _field(12, _value_info("output", (batch, dim))))
    model = _field(1, 7) + _field(2, "emocast-tests") + _field(7, graph) + _field(8, _field(1, "") + _field(2, 13))
    with open(path, "wb") as f:
        f.write(model)
    return str(path)
