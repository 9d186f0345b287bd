"""The build's per-source and per-segment stages on Ray Data (``emocast dataset build --ray``).

Two actor stages, each keeping its models loaded across rows (MediaPipe for the source stage; FER2013,
dlib and SyncNet for the segment stage), joined by a ``flat_map`` from a source to its segments. Rows carry
file paths and small JSON, never decoded frames: every node reads and writes the dataset folder, so on a
cluster it must be on a shared file system at the same path. The steps, their caches and the manifest
are those of the local build (:mod:`emocast.dataset.build`).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Iterator

from ..errors import InputError
from .config import DatasetConfig
from .stages import guarded, segment_stage, source_rejection, source_stage


class SourceStage:
    """Ray Data actor: normalise, shots, face track and segments of a source row."""

    def __init__(self, root: str, cfg: dict):
        from ..scale import one_thread

        one_thread()
        self.root, self.cfg = root, DatasetConfig(**cfg)

    def __call__(self, row: dict) -> dict:
        src = guarded(row["source"], lambda: source_stage(row["source"], self.root, self.cfg))
        return {"src": json.dumps(src)}


def segment_rows(row: dict) -> list[dict]:
    """A source row -> one row per segment (index -1 for a rejected source)."""
    src = json.loads(row["src"])
    n = len(src.get("segments") or [])
    return [{"src": row["src"], "index": i} for i in (range(n) if n else [-1])]


class SegmentStage:
    """Ray Data actor: sync filter, crop, masks, emotion and descriptor of a segment row."""

    def __init__(self, root: str, cfg: dict):
        from ..scale import one_thread

        one_thread()
        self.root, self.cfg = root, DatasetConfig(**cfg)

    def __call__(self, row: dict) -> dict:
        from .steps import StepLog

        src, i = json.loads(row["src"]), int(row["index"])
        log = StepLog.from_json(src.get("log", {})) if i <= 0 else StepLog()
        if i < 0:
            return {"records": json.dumps([source_rejection(src)]), "log": json.dumps(log.to_json())}
        out = guarded(src["source"], lambda: segment_stage(src, i, self.root, self.cfg))
        log.merge(StepLog.from_json(out.get("log", {})))
        return {"records": json.dumps(out["records"]), "log": json.dumps(log.to_json())}


def ray_build(sources: list[str], root: str, cfg: DatasetConfig, workers: int, address: str | None,
              progress: bool = True) -> Iterator[tuple[list[dict], dict]]:
    """Run the stages on Ray Data: a local Ray (``address=None``, ``workers`` CPUs) or the cluster at
    ``address``; yields ``(records, step log)`` per segment row."""
    import logging

    from ..scale import actor_count, ray_session

    with ray_session(address, workers, quiet=not progress) as ray:
        try:
            import ray.data  # noqa: F401 - needs pyarrow (the ray[data] extra)
        except ModuleNotFoundError as e:
            raise InputError("--ray", f"Ray Data is not installed ({e.name} missing): pip install 'emocast[ray]'") from None
        if not progress:
            logging.getLogger("ray.data").setLevel(logging.ERROR)
        ray.data.DataContext.get_current().enable_progress_bars = progress
        kw = {"fn_constructor_kwargs": {"root": root, "cfg": asdict(cfg)}, "num_cpus": 1,
              "compute": ray.data.ActorPoolStrategy(size=actor_count(ray, workers))}
        ds = ray.data.from_items([{"source": s} for s in sources], override_num_blocks=len(sources))
        ds = ds.map(SourceStage, **kw).flat_map(segment_rows).map(SegmentStage, **kw)
        rows = ds.take_all()
    for row in rows:
        yield json.loads(row["records"]), json.loads(row["log"])
