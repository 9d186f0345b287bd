"""``emocast dataset stats | validate | preview`` over a built dataset folder."""
from __future__ import annotations

import json
import os
import re
import wave
from collections import Counter

import numpy as np

from ..errors import InputError
from ..media.files import atomic_path
from .manifest import read_manifest

FRAMES_FOR_COUNT = 100000
"""Upper bound on frames decoded when counting a clip's frames (a clip is at most 15 s = 375 frames)."""


def stats(folder: str) -> dict:
    """Hours, clips, identities, and counts by emotion, level, corpus, split, sync method and rejection."""
    recs = read_manifest(folder)
    ok = [r for r in recs if r["status"] == "ok"]
    hours = lambda rs: round(sum(r["n_frames"] / r["fps"] for r in rs) / 3600, 4)  # noqa: E731
    by = lambda f: dict(sorted(Counter(f(r) for r in ok).items()))  # noqa: E731
    reasons = Counter(re.sub(r"[-+]?\d[\d.]*", "N", r["reason"]) for r in recs if r["status"] != "ok")
    return {"clips": len(ok), "hours": hours(ok), "identities": len({r["identity"] for r in ok}),
            "sources": len({r["source"] for r in recs}), "rejected": sum(reasons.values()),
            "emotions": {e: {"clips": sum(1 for r in ok if r["emotion"]["label"] == e),
                             "hours": hours([r for r in ok if r["emotion"]["label"] == e])}
                         for e in sorted({r["emotion"]["label"] for r in ok})},
            "levels": by(lambda r: f"{r['emotion']['label']}/{r['emotion']['level']}"),
            "corpora": by(lambda r: r["corpus"]), "splits": by(lambda r: r["split"]),
            "sync_methods": by(lambda r: r["sync"]["method"]),
            "references": by(lambda r: r["reference"]["from"]),
            "rejections": dict(reasons.most_common())}


def format_stats(s: dict) -> str:
    lines = [f"{s['clips']} clips, {s['hours'] * 60:.2f} min ({s['hours']:.4f} h), {s['identities']} identities, "
             f"from {s['sources']} sources; {s['rejected']} rejected"]
    if s["emotions"]:
        lines.append("emotion      clips   minutes")
        lines += [f"  {e:<10} {v['clips']:>5} {v['hours'] * 60:>9.2f}" for e, v in s["emotions"].items()]
    for name in ("levels", "corpora", "splits", "sync_methods", "references"):
        if s[name]:
            lines.append(f"{name.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in s[name].items()))
    if s["rejections"]:
        lines.append("rejections:")
        lines += [f"  {n:>4}  {reason}" for reason, n in s["rejections"].items()]
    return "\n".join(lines)


def _frame_count(path: str) -> int:
    import av

    with av.open(path) as c:
        return sum(1 for _ in zip(range(FRAMES_FOR_COUNT), c.decode(video=0)))


def check_record(folder: str, r: dict, descriptions: dict, ids: set) -> list[str]:
    """Problems of one accepted clip: missing files, counts that disagree, bad shapes, dangling keys."""
    cid = r["id"]
    problems = []
    paths = {k: os.path.join(folder, v) for k, v in r["paths"].items()}
    missing = [k for k, p in paths.items() if not os.path.isfile(p)]
    if missing:
        return [f"{cid}: missing {', '.join(missing)}"]
    n = r["n_frames"]
    try:
        if (got := _frame_count(paths["video"])) != n:
            problems.append(f"{cid}: video has {got} frames, manifest says {n}")
        with wave.open(paths["audio"]) as w:
            if w.getnframes() != r["n_samples"] or w.getframerate() != r["sample_rate"]:
                problems.append(f"{cid}: audio has {w.getnframes()} samples at {w.getframerate()} Hz, "
                                f"manifest says {r['n_samples']} at {r['sample_rate']}")
        if np.load(paths["landmarks"], mmap_mode="r").shape != (n, 478, 2):
            problems.append(f"{cid}: landmarks are not ({n}, 478, 2)")
        with np.load(paths["emotion_probs"]) as z:
            if z["probs"].shape != (n, 8):
                problems.append(f"{cid}: emotion probabilities are not ({n}, 8)")
        with np.load(paths["masks"]) as z:
            if not {"face_box_image", "full_0", "face_0", "lip_0"} <= set(z.files):
                problems.append(f"{cid}: masks file lacks face_box_image / full / face / lip")
    except (OSError, ValueError, EOFError, wave.Error) as e:
        problems.append(f"{cid}: unreadable file ({type(e).__name__})")
    problems += [f"{cid}: description key {k} not in descriptions.json" for k in r["descriptions"]
                 if not descriptions.get(k)]
    problems += [f"{cid}: reference clip {c} not in the manifest" for c in r["reference"].get("clips", [])
                 if c not in ids]
    return problems


def validate(folder: str, progress: bool = True) -> list[str]:
    """Every problem of a dataset folder, one line each (empty when it is sound).

    Raises:
        InputError: no manifest, or one that cannot be read.
    """
    from tqdm import tqdm

    recs = read_manifest(folder)
    ok = [r for r in recs if r["status"] == "ok"]
    try:
        with open(os.path.join(folder, "descriptions.json")) as f:
            descriptions = json.load(f)["descriptions"]
    except (OSError, ValueError, KeyError):
        return ["descriptions.json is missing or unreadable"]
    ids = {r["id"] for r in ok}
    problems = [f"line {i + 1}: repeated id {r['id']}" for i, r in enumerate(recs)
                if [x["id"] for x in recs].count(r["id"]) > 1]
    for r in tqdm(ok, unit="clip", desc="validate", disable=not progress):
        problems += check_record(folder, r, descriptions, ids)
    return problems


def preview(folder: str, output: str, columns: int = 6, thumb: int = 192, max_clips: int = 48) -> str:
    """A contact sheet PNG: the middle frame of each accepted clip (up to ``max_clips``), captioned with
    its emotion, level, identity and sync offset.

    Raises:
        InputError: no manifest, no accepted clip, or an unwritable output.
    """
    from PIL import Image, ImageDraw

    from ..media.files import check_writable
    from ..media.video import iter_frames

    recs = read_manifest(folder, accepted_only=True)[:max_clips]
    if not recs:
        raise InputError(folder, "the dataset has no accepted clips to preview")
    check_writable(output)
    columns = min(columns, len(recs))
    rows = (len(recs) + columns - 1) // columns
    cap = 30
    sheet = Image.new("RGB", (columns * thumb, rows * (thumb + cap)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, r in enumerate(recs):
        mid = r["n_frames"] // 2
        frame = next(f for _, f in iter_frames(os.path.join(folder, r["paths"]["video"]), mid, mid + 1))
        x, y = (k % columns) * thumb, (k // columns) * (thumb + cap)
        sheet.paste(Image.fromarray(frame).resize((thumb, thumb), Image.LANCZOS), (x, y))
        e, s = r["emotion"], r["sync"]
        off = "" if s.get("offset_frames") is None else f" off {s['offset_frames']:+.1f}"
        draw.text((x + 3, y + thumb + 2), f"{e['label']}/{e['level']} {e['confidence']:.2f}{off}", fill="black")
        draw.text((x + 3, y + thumb + 15), f"{r['identity'][:28]}", fill=(90, 90, 90))
    with atomic_path(output) as tmp:
        sheet.save(tmp, format="PNG")
    return output
