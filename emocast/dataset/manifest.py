"""``manifest.jsonl``: one JSON record per clip (or per rejected source / segment), the contract between
``emocast dataset`` and ``emocast train``.

Schema version 1. Every record has ``schema_version``, ``id``, ``status`` (``"ok"`` or ``"rejected"``),
``source`` (absolute path), ``source_sha1`` and ``corpus`` (``MEAD``, ``HDTF`` or ``in-the-wild``); a
rejected one has ``reason`` (one line). An accepted clip also has:

* ``identity`` and ``identity_source`` (``file name`` or ``dlib descriptor clusters``);
* ``start_frame``, ``end_frame`` (``[start, end)`` in the 25 fps normalised source), ``start_s``, ``end_s``,
  ``shot`` (its shot's frame range), ``fps``, ``n_frames``, ``n_samples`` (= ``n_frames * 640`` at 16 kHz),
  ``sample_rate``, ``size`` (clip side, px), ``crop`` (``[x0, y0, side]`` in normalised-source pixels),
  ``yaw_deg``, ``blur_px``;
* ``paths``: ``video`` (H.264 + AAC), ``audio`` (16-bit WAV), ``landmarks`` (``float32 (T, 478, 2)``
  clip px), ``masks`` (npz of ``face_box_image`` and per-level ``full_k``/``face_k``/``lip_k``),
  ``emotion_probs`` (npz ``probs float32 (T, 8)``: FER2013 order + contempt), ``descriptor`` (dlib
  ``float32 (128,)``), and with ``--wav2vec`` / ``--arcface`` ``audio_features`` (``float16 (T, layers,
  dim)``) / ``face_embedding`` (``float32 (512,)``); all relative to the dataset folder;
* ``sync``: ``method`` (``aperture-logmel``, ``syncnet`` or ``off``), ``offset_frames`` (audio lags video
  > 0), ``confidence``, ``shift_frames`` (applied to the audio), ``offset_after`` (after the repair);
* ``emotion``: ``label`` (MEAD), ``confidence``, ``intensity`` [0, 1], ``level`` 1-3, ``labeller``,
  ``pooled_over``, ``neutral_frames``;
* ``masks``: ``face_box``, ``lip_box`` (clip px);
* ``reference``: ``from`` (``same identity``, ``same video`` or ``fallback: own first frame``) with
  ``clips`` or ``frames`` (clip id -> frame indices);
* ``descriptions``: keys into ``descriptions.json`` (``"angry/3"``); ``split``: ``train`` or ``val``.
"""
from __future__ import annotations

import json
import os

from ..errors import InputError
from ..media.files import atomic_write, json_safe

SCHEMA_VERSION = 1
MANIFEST = "manifest.jsonl"


def write_manifest(path: str, records: list[dict]) -> None:
    """Write records, one sorted-key JSON object a line, atomically."""
    with atomic_write(path) as f:
        for r in records:
            f.write(json.dumps(json_safe(r), sort_keys=True) + "\n")


def read_manifest(folder: str, accepted_only: bool = False) -> list[dict]:
    """Records of a dataset folder's manifest.

    Raises:
        InputError: no manifest, a line that is not JSON, or another schema version.
    """
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        raise InputError(folder, f"not a dataset folder (no {MANIFEST}; build one with emocast dataset build)")
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError:
                raise InputError(path, f"line {n} is not JSON") from None
            if r.get("schema_version") != SCHEMA_VERSION:
                raise InputError(path, f"line {n} has schema version {r.get('schema_version')}, "
                                 f"this emocast reads {SCHEMA_VERSION}")
            if not accepted_only or r.get("status") == "ok":
                out.append(r)
    return out
