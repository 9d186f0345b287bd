"""Identities and neutral references for emotion-aware sampling (paper Sec. 3.4.1: an emotional target
frame takes its reference image from a neutral clip of the same person, not from its own video).

Identities come from MEAD/HDTF names when the path has them, otherwise from clusters of dlib's 128-d face
descriptors across clips (average linkage, cut at ``cfg.identity_threshold``).
"""
from __future__ import annotations

import os
from collections import Counter

import numpy as np

from ..evaluate import dlib_face
from ..media.video import iter_frames
from .clip import VIDEO
from .config import DatasetConfig

DESCRIPTOR = "descriptor.npy"
DESCRIPTOR_FRAMES = 3
"""Frames per clip (evenly spaced) whose dlib descriptors are averaged."""


def describe_face(out: str, n_frames: int) -> dict:
    """Mean dlib face descriptor of a clip; writes ``out/descriptor.npy`` (``float32 (128,)``, NaN when dlib
    found no face). Returns ``{"descriptor_frames": frames used}``."""
    want = set(np.linspace(0, n_frames - 1, DESCRIPTOR_FRAMES).round().astype(int).tolist())
    m = dlib_face.get()
    descs = []
    for i, f in iter_frames(os.path.join(out, VIDEO)):
        if i in want:
            face = m.detect(f)
            if face is not None:
                descs.append(m.descriptor(f, face.box))
    d = np.mean(descs, 0).astype(np.float32) if descs else np.full(128, np.nan, np.float32)
    np.save(_tmp := os.path.join(out, f".{DESCRIPTOR}.tmp.npy"), d)
    os.replace(_tmp, os.path.join(out, DESCRIPTOR))
    return {"descriptor_frames": len(descs)}


def cluster(descriptors: np.ndarray, threshold: float) -> np.ndarray:
    """Average-linkage clusters of descriptors ``(n, 128)``; returns ``int (n,)`` labels numbered in order of
    first appearance (NaN descriptors get clusters of their own)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    n = len(descriptors)
    ok = np.isfinite(descriptors).all(1)
    raw = np.full(n, -1)
    if ok.sum() >= 2:
        raw[ok] = fcluster(linkage(pdist(descriptors[ok]), "average"), threshold, "distance")
    elif ok.sum() == 1:
        raw[ok] = 1
    nxt = raw.max() + 1
    for i in np.flatnonzero(~ok):
        raw[i], nxt = nxt, nxt + 1
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(r), len(order)) for r in raw])


def assign_identities(records: list[dict], clip_dir, cfg: DatasetConfig) -> None:
    """Set ``record["identity"]`` and ``identity_source`` on every accepted clip record, in place.

    A clip whose path names its identity (MEAD, HDTF) keeps it. Every clip's descriptor is clustered; an
    unnamed clip takes the most common name of its cluster, or ``face-NNN`` when no clip of the cluster
    is named.
    """
    if not records:
        return
    desc = np.stack([np.load(os.path.join(clip_dir(r), DESCRIPTOR)) for r in records])
    labels = cluster(desc, cfg.identity_threshold)
    for k in sorted(set(labels.tolist())):
        members = [r for r, lab in zip(records, labels) if lab == k]
        named = Counter(r["identity"] for r in members if r.get("identity"))
        for r in members:
            if r.get("identity"):
                r["identity_source"] = "file name"
            elif named:
                r["identity"] = named.most_common(1)[0][0]
                r["identity_source"] = "dlib descriptor clusters, named by a clip's file name"
            else:
                r["identity"], r["identity_source"] = f"face-{k:03d}", "dlib descriptor clusters"


def assign_references(records: list[dict]) -> dict:
    """Neutral reference of every accepted clip, in place (``record["reference"]``), and the identity table.

    Order of preference for a clip (emotional or not): the neutral clips of the same identity (other than
    itself); else neutral frames of clips cut from the same source video; else the stated fallback, the
    clip's own first frame (what Hallo samples).

    Returns:
        ``{identity: {"clips": [...], "neutral_clips": [...], "neutral_frames": {clip: [frames]}}}``.
    """
    table: dict[str, dict] = {}
    for r in records:
        t = table.setdefault(r["identity"], {"clips": [], "neutral_clips": [], "neutral_frames": {}})
        t["clips"].append(r["id"])
        if r["emotion"]["label"] == "neutral":
            t["neutral_clips"].append(r["id"])
        if r["emotion"]["neutral_frames"]:
            t["neutral_frames"][r["id"]] = r["emotion"]["neutral_frames"]
    for r in records:
        same_id = [c for c in table[r["identity"]]["neutral_clips"] if c != r["id"]]
        same_video = {o["id"]: o["emotion"]["neutral_frames"] for o in records
                      if o["source"] == r["source"] and o["emotion"]["neutral_frames"]}
        if same_id:
            r["reference"] = {"from": "same identity", "clips": same_id}
        elif same_video:
            r["reference"] = {"from": "same video", "frames": same_video}
        else:
            r["reference"] = {"from": "fallback: own first frame", "frames": {r["id"]: [0]}}
    return table
