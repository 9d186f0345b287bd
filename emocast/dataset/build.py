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
import sys
from dataclasses import asdict
from typing import Iterable

from ..errors import InputError
from ..media.files import write_json
from . import describe as D
from . import identity as I
from .config import DatasetConfig
from .manifest import MANIFEST, SCHEMA_VERSION, write_manifest
from .stages import STEP_VERSION, process_source
from .steps import StepLog, digest, run_step

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".flv")
LIST_EXTENSIONS = (".txt", ".lst", ".list")
DESCRIPTIONS = "descriptions.json"
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

