"""``emocast dataset build``: source videos -> ETTH-style training clips and ``manifest.jsonl``.

Per source, as resumable steps (:func:`emocast.dataset.steps.run_step`): normalise -> shots -> face track
-> segments; per segment: sync -> crop -> masks -> emotion -> descriptor. Then, over all clips: identities,
neutral references, descriptions, splits and the manifest. One bad file is recorded with its reason and
never stops the build. The per-source and per-segment stages run in-process, in a local process pool
(``workers``), or as Ray Data stages (``ray``), with file paths (never decoded frames) passed between them;
the manifest is the same either way.
"""
from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import asdict
from typing import Callable, Iterable

from ..errors import InputError
from ..media.files import write_json
from . import clip as C
from . import describe as D
from . import features as F
from . import identity as I
from . import label as L
from . import normalise as N
from . import track as TR
from .config import DatasetConfig
from .manifest import MANIFEST, SCHEMA_VERSION, write_manifest
from .steps import StepLog, digest, file_digest, run_step
from .sync import sync_filter

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".flv")
LIST_EXTENSIONS = (".txt", ".lst", ".list")
DESCRIPTIONS = "descriptions.json"
STEP_VERSION = 1
"""Bumped when a step's code changes what it writes (part of every step key)."""


def list_sources(items: Iterable[str]) -> list[str]:
    """Video files from files, folders (searched recursively) and list files (one path a line, ``#``
    comments, relative to the list's folder), absolute, sorted, without repeats.

    Raises:
        InputError: a path that does not exist, or no video at all.
    """
    out: list[str] = []
    for item in items:
        if not os.path.exists(item):
            raise InputError(item, "no such file or folder")
        if os.path.isdir(item):
            for dirpath, _, files in os.walk(item):
                out += [os.path.join(dirpath, f) for f in files if f.lower().endswith(VIDEO_EXTENSIONS)]
        elif item.lower().endswith(LIST_EXTENSIONS):
            base = os.path.dirname(os.path.abspath(item))
            with open(item) as f:
                lines = [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
            out += list_sources(os.path.join(base, ln) for ln in lines)
        else:
            out.append(item)
    out = sorted(dict.fromkeys(os.path.abspath(p) for p in out))
    if not out:
        raise InputError(" ".join(items) or "SOURCES", "no video files found")
    return out


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


def _local(sources: list[str], root: str, cfg: DatasetConfig, workers: int, progress: bool):
    from tqdm import tqdm

    from ..scale import local_map

    with tqdm(total=len(sources), unit="video", desc="dataset", disable=not progress, file=sys.stderr) as bar:
        for result in local_map(functools.partial(process_source, root=root, cfg=cfg), sources, workers):
            yield result
            bar.update()


def build(sources: Iterable[str], output: str, cfg: DatasetConfig | None = None, *, workers: int = 1,
          ray: str | bool | None = None, progress: bool = True) -> dict:
    """Build (or bring up to date) a dataset folder.

    Args:
        sources: video files, folders and list files (:func:`list_sources`).
        output: dataset folder (created); ``manifest.jsonl``, ``descriptions.json``, ``identities.json``,
            ``dataset.json``, ``clips/<id>/`` and ``work/`` (intermediate files) are written there.
        cfg: :class:`DatasetConfig` (defaults when ``None``).
        workers: local worker processes, or Ray actors per stage with ``ray``.
        ray: run the stages on Ray Data: ``True`` for a local Ray, or a cluster address.
        progress: progress bar on stderr.

    Returns:
        ``{"clips", "rejected", "hours", "identities", "steps": {"ran": {...}, "skipped": {...}}}``.

    Raises:
        InputError: a missing source, no videos, a bad config value or an unwritable output folder.
    """
    cfg = (cfg or DatasetConfig()).validate()
    srcs = list_sources(sources)
    root = os.path.abspath(output)
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as e:
        raise InputError(output, f"cannot create the dataset folder ({e.strerror})") from None
    if not os.access(root, os.W_OK):
        raise InputError(output, "dataset folder is not writable")
    log = StepLog()
    records: list[dict] = []
    if ray:
        from .distributed import ray_build

        results = ray_build(srcs, root, cfg, workers, None if ray is True else ray, progress)
    else:
        results = _local(srcs, root, cfg, workers, progress)
    for recs, lg in results:
        records += recs
        log.merge(StepLog.from_json(lg))
    return finish(records, root, cfg, log)


def finish(records: list[dict], root: str, cfg: DatasetConfig, log: StepLog) -> dict:
    """The steps over all clips: identities, references, descriptions, splits; then the manifest."""
    records = sorted(records, key=lambda r: r["id"])
    ok = [r for r in records if r["status"] == "ok"]
    I.assign_identities(ok, lambda r: os.path.join(root, "clips", r["id"]), cfg)
    table = I.assign_references(ok)
    desc = describe_step(root, cfg, log)
    for r in ok:
        r["descriptions"] = [D.key(r["emotion"]["label"], r["emotion"]["level"])]
        r["split"] = split_of(r["identity"], cfg.val_fraction)
    write_json(os.path.join(root, "identities.json"), table)
    write_manifest(os.path.join(root, MANIFEST), records)
    hours = sum(r["n_frames"] for r in ok) / cfg.fps / 3600
    summary = {"clips": len(ok), "rejected": len(records) - len(ok), "hours": round(hours, 4),
               "identities": len(table), "steps": log.to_json()}
    write_json(os.path.join(root, "dataset.json"), {"schema_version": SCHEMA_VERSION, "config": asdict(cfg),
                                                    "descriptions": desc, "summary": summary})
    return summary


def describe_step(root: str, cfg: DatasetConfig, log: StepLog) -> dict:
    """Write ``root/descriptions.json`` unless it is up to date for ``cfg``'s describer settings.

    Returns:
        ``{"source", "kept"}``: who wrote the descriptions and how many were kept.
    """
    def write():
        d = D.describe_all(cfg)
        write_json(os.path.join(root, DESCRIPTIONS), d)
        return {"source": d["source"], "kept": sum(map(len, d["descriptions"].values()))}

    return run_step(log, root, "describe", {"v": STEP_VERSION, "bank": digest(D.BANK), **cfg.step_inputs("describe")},
                    [DESCRIPTIONS], write)[1]


def split_of(identity: str, val_fraction: float) -> str:
    """``"val"`` for a stable share of identities (hash of the name), else ``"train"``."""
    return "val" if int(digest(identity), 16) % 10000 < val_fraction * 10000 else "train"

