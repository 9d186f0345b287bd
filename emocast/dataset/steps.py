"""Resumable steps: a step whose inputs are unchanged and whose outputs are all present is skipped.

Each step run leaves a stamp ``.<name>.stamp.json`` beside its outputs, holding the key of its inputs
(the step's name and version, the config fields it reads, the keys of the steps it reads from) and its
small JSON result. A later run with the same key and every output file present returns the stamped
result without running. Downstream steps key on the upstream *key*, not on file contents, so deleting
one artifact rebuilds that artifact alone.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field

from ..media.files import json_safe, write_json


def digest(obj) -> str:
    """A short, stable hash of a JSON-able object (sorted keys)."""
    return hashlib.sha1(json.dumps(json_safe(obj), sort_keys=True, default=str).encode()).hexdigest()[:16]


def file_digest(path: str, chunk: int = 1 << 20) -> str:
    """SHA-1 of a file's bytes (16 hex digits)."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()[:16]


@dataclass
class StepLog:
    """Which steps ran and which were skipped, and the seconds the runs took, by step name."""

    ran: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)

    def merge(self, other: "StepLog") -> None:
        self.ran.update(other.ran)
        self.skipped.update(other.skipped)
        self.seconds.update(other.seconds)

    def to_json(self) -> dict:
        return {"ran": dict(self.ran), "skipped": dict(self.skipped),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}

    @classmethod
    def from_json(cls, d: dict) -> "StepLog":
        return cls(Counter(d.get("ran", {})), Counter(d.get("skipped", {})), Counter(d.get("seconds", {})))


def run_step(log: StepLog, folder: str, name: str, inputs: dict, outputs, fn):
    """Run ``fn()`` unless a stamp with the same inputs exists and every output is present.

    Args:
        log: counts of steps run and skipped (updated).
        folder: where the stamp lives (the outputs' folder).
        name: step name (also the stamp's name).
        inputs: everything the result depends on, JSON-able (hashed into the key).
        outputs: file names, relative to ``folder``, the step writes; or ``outputs(result) -> names``
            when they depend on the result (a rejection writes none).
        fn: ``fn() -> JSON-able result``; it writes the outputs (atomically) before returning.

    Returns:
        ``(key, result)``: the step's input key (for downstream steps) and its result.
    """
    key = digest({"step": name, **inputs})
    stamp = os.path.join(folder, f".{name}.stamp.json")
    if os.path.isfile(stamp):
        try:
            with open(stamp) as f:
                saved = json.load(f)
        except (OSError, ValueError):
            saved = {}
        if saved.get("key") == key:
            outs = outputs(saved["result"]) if callable(outputs) else outputs
            if all(os.path.exists(os.path.join(folder, o)) for o in outs):
                log.skipped[name] += 1
                return key, saved["result"]
    os.makedirs(folder, exist_ok=True)
    t0 = time.perf_counter()
    result = json_safe(fn())
    write_json(stamp, {"key": key, "result": result})
    log.ran[name] += 1
    log.seconds[name] += time.perf_counter() - t0
    return key, result
