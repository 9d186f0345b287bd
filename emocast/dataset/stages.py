"""The build's per-source and per-segment stages, shared by the local build (:mod:`emocast.dataset.build`)
and its Ray Data stages (:mod:`emocast.dataset.distributed`).

Per source: normalise -> shots -> face track -> segments (:func:`source_stage`); per segment: sync ->
crop -> masks -> emotion -> descriptor (:func:`segment_stage`), each a resumable step
(:func:`emocast.dataset.steps.run_step`); :func:`guarded` turns an unforeseen error into that source's
rejection so the build goes on.
"""
from __future__ import annotations

import os
import re
from typing import Callable

from . import clip as C
from . import features as F
from . import identity as I
from . import label as L
from . import normalise as N
from . import track as TR
from .config import DatasetConfig
from .manifest import SCHEMA_VERSION
from .steps import StepLog, file_digest, run_step
from .sync import sync_filter

STEP_VERSION = 1
"""Version of the stages' step inputs: raise it when a step's outputs change for the same inputs."""


def source_id(path: str, content: str) -> str:
    """``<stem>-<8 hex of the file's content hash>``, safe as a folder name."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.splitext(os.path.basename(path))[0])[:60]
    return f"{stem}-{content[:8]}"


def _rejecting(fn: Callable[[], dict]) -> Callable[[], dict]:
    def run():
        try:
            return fn()
        except N.Rejected as e:
            return {"rejected": str(e)}
    return run


def _no_outputs_if_rejected(names: list[str]):
    return lambda result: [] if "rejected" in result else names


def source_stage(source: str, root: str, cfg: DatasetConfig) -> dict:
    """Normalise, shots, face track and segments of one source.

    Returns:
        ``{"source", "sid", "key", "info", "segments", "log"}``, or with ``"rejected"`` instead of segments.
    """
    log = StepLog()
    content = file_digest(source)
    sid = source_id(source, content)
    work = os.path.join(root, "work", sid)
    base = {"source": source, "sid": sid, "content": content}
    k, info = run_step(log, work, "normalise", {"v": STEP_VERSION, "content": content, **cfg.step_inputs("normalise")},
                       _no_outputs_if_rejected([N.CLIP_VIDEO, N.CLIP_AUDIO]),
                       _rejecting(lambda: N.normalise(source, work, cfg)))
    if "rejected" in info:
        return {**base, "rejected": info["rejected"], "log": log.to_json()}
    k, shots = run_step(log, work, "shots", {"up": k, **cfg.step_inputs("shots")}, [],
                        lambda: {"shots": N.shots(work, info["n_frames"], cfg)})
    k_track, _ = run_step(log, work, "track", {"up": k, "v": STEP_VERSION}, [TR.TRACK],
                          lambda: TR.face_track(work, info["n_frames"], cfg))
    k, segs = run_step(log, work, "segments", {"up": k_track, "shots": shots, **cfg.step_inputs("segments")}, [],
                       lambda: {"segments": TR.segments(work, info, shots["shots"], cfg)})
    if not segs["segments"]:
        return {**base, "rejected": "no segment of at least "
                f"{cfg.min_segment_s:g} s with one face and speech", "log": log.to_json()}
    return {**base, "key": k, "info": info, "segments": segs["segments"], "log": log.to_json()}


def segment_stage(src: dict, index: int, root: str, cfg: DatasetConfig) -> dict:
    """Sync filter, crop, masks, emotion and descriptor of one segment; returns its record and step log."""
    log = StepLog()
    seg = src["segments"][index]
    cid = f"{src['sid']}-{index:03d}"
    work = os.path.join(root, "work", src["sid"])
    out = os.path.join(root, "clips", cid)
    rec = base_record(src, seg, cid, cfg)
    if "rejected" in seg:
        return {"records": [{**rec, "status": "rejected", "reason": seg["rejected"]}], "log": log.to_json()}
    bounds = {"up": src["key"], "start": seg["start"], "end": seg["end"], "crop": seg["crop"]}
    k, sync = run_step(log, out, "sync", {**bounds, **cfg.step_inputs("sync")}, [],
                       lambda: sync_filter(work, seg["start"], seg["end"], cfg))
    rec["sync"] = {k2: v for k2, v in sync.items() if k2 != "rejected"}
    if "rejected" in sync:
        return {"records": [{**rec, "status": "rejected", "reason": sync["rejected"]}], "log": log.to_json()}
    k_crop, cut = run_step(log, out, "crop", {"up": k, "shift": sync["shift_frames"], **cfg.step_inputs("crop"),
                                              "v": STEP_VERSION},
                           _no_outputs_if_rejected([C.VIDEO, C.AUDIO, C.LANDMARKS]),
                           lambda: C.write_clip(work, out, seg, sync["shift_frames"], cfg))
    rec["blur_px"] = cut["blur_px"]
    if "rejected" in cut:
        return {"records": [{**rec, "status": "rejected", "reason": cut["rejected"]}], "log": log.to_json()}
    _, masks = run_step(log, out, "masks", {"up": k_crop, **cfg.step_inputs("masks")}, [C.MASKS],
                        lambda: C.write_masks(out, cfg))
    _, emo = run_step(log, out, "emotion", {"up": k_crop, "names": L.names(src["source"]),
                                            **cfg.step_inputs("emotion")}, _no_outputs_if_rejected([L.EMOTION]),
                      lambda: L.label_clip(out, src["source"], cfg))
    if "rejected" in emo:
        return {"records": [{**rec, "status": "rejected", "reason": emo["rejected"]}], "log": log.to_json()}
    run_step(log, out, "descriptor", {"up": k_crop}, [I.DESCRIPTOR], lambda: I.describe_face(out, cut["n_frames"]))
    extra = F.outputs(cfg)
    if extra:
        run_step(log, out, "features", {"up": k_crop, **cfg.step_inputs("features")}, extra,
                 lambda: F.write_features(out, cut["n_frames"], cfg))
    rel = os.path.join("clips", cid)
    rec.update(status="ok", masks=masks, emotion=emo,
               paths={"video": f"{rel}/{C.VIDEO}", "audio": f"{rel}/{C.AUDIO}", "landmarks": f"{rel}/{C.LANDMARKS}",
                      "masks": f"{rel}/{C.MASKS}", "emotion_probs": f"{rel}/{L.EMOTION}",
                      "descriptor": f"{rel}/{I.DESCRIPTOR}",
                      **({"audio_features": f"{rel}/{F.AUDIO_FEATURES}"} if cfg.wav2vec else {}),
                      **({"face_embedding": f"{rel}/{F.FACE_EMBEDDING}"} if cfg.arcface else {})})
    return {"records": [rec], "log": log.to_json()}


def base_record(src: dict, seg: dict, cid: str, cfg: DatasetConfig) -> dict:
    named = L.names(src["source"])
    n = seg["end"] - seg["start"]
    return {"schema_version": SCHEMA_VERSION, "id": cid, "source": src["source"], "source_sha1": src["content"],
            "corpus": named.get("corpus", "in-the-wild"), "identity": named.get("identity"),
            "start_frame": seg["start"], "end_frame": seg["end"], "start_s": round(seg["start"] / cfg.fps, 3),
            "end_s": round(seg["end"] / cfg.fps, 3), "shot": seg["shot"], "fps": cfg.fps, "n_frames": n,
            "n_samples": n * (cfg.sample_rate // cfg.fps), "sample_rate": cfg.sample_rate, "size": cfg.size,
            "crop": seg.get("crop"), "yaw_deg": seg.get("yaw")}


def source_rejection(src: dict) -> dict:
    named = L.names(src["source"])
    return {"schema_version": SCHEMA_VERSION, "id": src["sid"], "source": src["source"],
            "source_sha1": src["content"], "corpus": named.get("corpus", "in-the-wild"), "status": "rejected",
            "reason": src["rejected"]}


def guarded(source: str, fn: Callable[[], dict]) -> dict:
    """``fn()``, or, when it raises (a bug, an unforeseen file), that source's rejection with the error in
    one line (``internal error (Type): message``) in the shapes both stages return, so the build goes on."""
    try:
        return fn()
    except Exception as e:
        reason = " ".join(f"internal error ({type(e).__name__}): {e}".split())
        src = {"source": source, "sid": source_id(source, "00000000"), "content": None, "rejected": reason}
        return {**src, "records": [source_rejection(src)], "log": {}}


def process_source(source: str, root: str, cfg: DatasetConfig) -> tuple[list[dict], dict]:
    """Every per-source and per-segment step of one source in this process: ``(records, step log)``."""
    log = StepLog()
    src = guarded(source, lambda: source_stage(source, root, cfg))
    log.merge(StepLog.from_json(src["log"]))
    if "rejected" in src:
        return [source_rejection(src)], log.to_json()
    recs = []
    for i in range(len(src["segments"])):
        r = guarded(source, lambda: segment_stage(src, i, root, cfg))
        log.merge(StepLog.from_json(r["log"]))
        recs += r["records"]
    return recs, log.to_json()
