"""``emocast benchmark``: generate over a grid of portraits x emotions (x audio), judge every video,
and write a report.

Layout of the report folder::

    report/
      benchmark.json            settings of the run
      inputs/                   audio clips trimmed to --max-seconds (and built-in portraits)
      videos/<id>.mp4           generated videos; <id>.render.json their render timing
      results/<id>.json         evaluation of each video (emocast evaluate's figures + render facts)
      sheets/<id>.png           contact sheet per portrait x emotion (x audio)
      overview.png              one frame per portrait (rows) x emotion (columns)
      per_video.csv, per_emotion.csv, per_portrait.csv, overall.csv
      report.md                 the three tables, failures and render speed

Resumable: a video whose mp4 exists is not generated again (the writer is atomic, so an mp4 on disk
is complete) and a video whose result JSON exists (made with the same settings) is not judged again.
The judges are never called while a video is generated. They did guide tuning, though: the emotion
prototypes, intensity curves, teeth shading and displacement budget were tuned with the FER2013 and
dlib judges on the fixture portraits (:data:`TUNED_ON`; ``benchmarks/tune_prototype.py``,
``benchmarks/ablate_prototype.py``). Figures on those portraits are **in-sample**; the report gives
them apart from the others (**validation**).
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
import time
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .media.files import atomic_write, write_json
from .options import GenerateOptions

IMAGE_EXT = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
AUDIO_EXT = (".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus", ".mp4")
TUNED_ON = frozenset({"AniPortrait_Aragaki", "EDTalk_RD_Radio51_000", "LivePortrait_s9", "SadTalker_happy",
                      "SadTalker_sad", "hallo_7", "astronaut"})
"""Portraits (file stems) the generator's constants were tuned on with these judges: figures on them
are in-sample (``../shared/fixtures/portraits`` and the built-in astronaut)."""
BUILTIN = {"builtin:astronaut": "astronaut"}
"""Portraits the benchmark can make itself: ``builtin:astronaut`` is ``skimage.data.astronaut()``."""

# columns of the tables: (key in the flat row, header, format)
METRICS = [
    ("emotion_top_match", "top class = intended", "{:.2f}"),
    ("emotion_accuracy", "frame accuracy", "{:.2f}"),
    ("emotion_p_intended", "p(intended)", "{:.2f}"),
    ("identity_mean", "identity dist", "{:.3f}"),
    ("identity_max", "identity max", "{:.3f}"),
    ("offset_frames", "AV offset (fr)", "{:+.1f}"),
    ("sync_peak_corr", "sync corr", "{:.2f}"),
    ("envelope_corr", "env corr", "{:.2f}"),
    ("bilabial_closed", "p/b/m closed", "{:.2f}"),
    ("open_vowel_open", "vowels open", "{:.2f}"),
    ("frozen_mouth", "frozen mouth", "{:.2f}"),
    ("jitter", "jitter (xIOD)", "{:.4f}"),
    ("background_motion", "bg motion", "{:.2f}"),
    ("render_rtf", "render s / video s", "{:.2f}"),
    ("render_fps", "render fps", "{:.1f}"),
]


@dataclass
class Job:
    """One video of the grid."""

    id: str
    portrait: str  # path
    portrait_name: str
    audio: str  # path (trimmed copy)
    audio_name: str
    emotion: str


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "x"


def collect(paths: list[str], exts: tuple[str, ...], what: str) -> list[str]:
    """Files given directly or found (non-recursively, sorted) in given folders.

    Raises:
        InputError: a path does not exist, or nothing is found.
    """
    out: list[str] = []
    for p in paths:
        if p in BUILTIN:
            out.append(p)
        elif os.path.isdir(p):
            out += [os.path.join(p, n) for n in sorted(os.listdir(p)) if n.lower().endswith(exts)]
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise InputError(p, f"{what} not found")
    if not out:
        raise InputError(", ".join(paths), f"no {what} files found")
    return out


def prepare_inputs(report: str, portraits: list[str], audios: list[str], max_seconds: float | None):
    """Materialise built-in portraits and trimmed audio under ``report/inputs``.

    Returns:
        ``(portraits, audios)``: lists of ``(name, path)``.
    """
    from .media import load_audio
    from .media.audio import write_wav

    inputs = os.path.join(report, "inputs")
    os.makedirs(inputs, exist_ok=True)
    ps = []
    for p in portraits:
        if p in BUILTIN:
            name = BUILTIN[p]
            path = os.path.join(inputs, f"{name}.png")
            if not os.path.exists(path):
                import skimage.data
                from PIL import Image

                Image.fromarray(getattr(skimage.data, name)()).save(path)
            ps.append((name, path))
        else:
            ps.append((_slug(os.path.splitext(os.path.basename(p))[0]), p))
    aus = []
    for a in audios:
        name = _slug(os.path.splitext(os.path.basename(a))[0])
        path = os.path.join(inputs, f"{name}.wav")
        if not os.path.exists(path):
            wav = load_audio(a)
            if max_seconds:
                wav = wav[: int(max_seconds * 16000)]
            write_wav(path, wav)
        aus.append((name, path))
    return ps, aus


def make_jobs(portraits, audios, emotions: list[str], pairing: str = "cycle") -> list[Job]:
    """The grid. ``pairing="cycle"``: portrait i speaks audio i mod n (grid portraits x emotions);
    ``"all"``: every portrait with every audio (portraits x audio x emotions)."""
    jobs = []
    for i, (pn, pp) in enumerate(portraits):
        pairs = audios if pairing == "all" else [audios[i % len(audios)]]
        for an, ap in pairs:
            for e in emotions:
                jid = f"{pn}__{e}" if pairing != "all" else f"{pn}__{an}__{e}"
                jobs.append(Job(jid, pp, pn, ap, an, e))
    return jobs


def _read_json(path: str):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def contact_sheet(video: str, out_png: str, title: str, res: dict | None, n: int = 8, tile: int = 200,
                  portrait: str | None = None) -> np.ndarray:
    """A strip of ``n`` evenly spaced frames (the portrait first), cropped to the face (dlib box of the
    first frame), each labelled with its time and the emotion judge's top class; written to
    ``out_png``. Returns the ``uint8`` RGB image."""
    import cv2

    from .media import load_image, read_video

    frames, fps, _ = read_video(video, with_audio=False)
    idx = np.unique(np.linspace(0, len(frames) - 1, n).round().astype(int))
    tops = (res or {}).get("emotion", {}).get("frame_top") or []
    stride = (res or {}).get("emotion", {}).get("frame_stride", 1) or 1
    tiles = []

    def face_crop(img):
        """Square crop around the face (dlib box x2.2), so the face fills the tile."""
        from .evaluate import dlib_face

        f = dlib_face.get().detect(img)
        if f is None:
            return None
        l, t, r, b = f.box
        side = 2.2 * max(r - l, b - t)
        cx, cy = (l + r) / 2, (t + b) / 2 - 0.1 * (b - t)
        h, w = img.shape[:2]
        side = min(side, h, w)
        x0 = int(np.clip(cx - side / 2, 0, w - side))
        y0 = int(np.clip(cy - side / 2, 0, h - side))
        return x0, y0, int(side)

    def crop(img, box):
        if box is None:
            return img
        x0, y0, sd = box
        return img[y0:y0 + sd, x0:x0 + sd]

    def fit(img):
        h, w = img.shape[:2]
        s = tile / max(h, w)
        im = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        canvas = np.full((tile, tile, 3), 255, np.uint8)
        y, x = (tile - im.shape[0]) // 2, (tile - im.shape[1]) // 2
        canvas[y:y + im.shape[0], x:x + im.shape[1]] = im
        return canvas

    def label(img, text):
        img = img.copy()
        cv2.rectangle(img, (0, tile - 18), (tile, tile), (0, 0, 0), -1)
        cv2.putText(img, text, (4, tile - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
        return img

    if portrait:
        pim = load_image(portrait)
        tiles.append(label(fit(crop(pim, face_crop(pim))), "portrait"))
    box = face_crop(frames[0])
    for i in idx:
        k = i // stride
        top = tops[k] if k < len(tops) and tops[k] else "no face"
        tiles.append(label(fit(crop(frames[i], box)), f"{i / fps:.1f}s {top}"))
    strip = np.concatenate(tiles, axis=1)
    head = np.full((26, strip.shape[1], 3), 255, np.uint8)
    cv2.putText(head, title, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    sheet = np.concatenate([head, strip], axis=0)
    cv2.imwrite(out_png, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return sheet


def overview(cells: dict[tuple[str, str], str], portraits: list[str], emotions: list[str], out_png: str,
             tile: int = 160) -> None:
    """Grid image: rows = portraits, columns = emotions, each cell the middle frame of its video."""
    import cv2

    from .media import read_video

    rows = []
    head = np.full((24, 110 + tile * len(emotions), 3), 255, np.uint8)
    for j, e in enumerate(emotions):
        cv2.putText(head, e, (110 + j * tile + 4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    rows.append(head)
    for p in portraits:
        row = [np.full((tile, 110, 3), 255, np.uint8)]
        cv2.putText(row[0], p[:14], (2, tile // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        for e in emotions:
            cell = np.full((tile, tile, 3), 230, np.uint8)
            v = cells.get((p, e))
            if v and os.path.exists(v):
                fr, _, _ = read_video(v, with_audio=False)
                f = fr[len(fr) // 2]
                s = tile / max(f.shape[:2])
                im = cv2.resize(f, (max(1, round(f.shape[1] * s)), max(1, round(f.shape[0] * s))), interpolation=cv2.INTER_AREA)
                y, x = (tile - im.shape[0]) // 2, (tile - im.shape[1]) // 2
                cell[y:y + im.shape[0], x:x + im.shape[1]] = im
            row.append(cell)
        rows.append(np.concatenate(row, axis=1))
    cv2.imwrite(out_png, cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))


def flat_row(job: Job, res: dict) -> dict:
    """One CSV row of figures from a result JSON."""
    e, i, ls, s = res.get("emotion", {}), res.get("identity", {}), res.get("lip_sync", {}), res.get("stability", {})
    r = res.get("render", {})
    judged = bool(e.get("judged"))
    dur = (res.get("video") or {}).get("duration_s") or None

    def f(v):
        return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

    row = {
        "id": job.id, "portrait": job.portrait_name, "audio": job.audio_name, "emotion": job.emotion,
        "sample": "in-sample" if job.portrait_name in TUNED_ON else "validation",
        "top_class": e.get("top_class"),
        "emotion_top_match": (float(e.get("top_class") == e.get("intended_fer_class")) if judged else None),
        "emotion_accuracy": f(e.get("accuracy")), "emotion_p_intended": f(e.get("intended_prob_mean")),
        "identity_mean": f(i.get("mean_distance")), "identity_max": f(i.get("max_distance")),
        "offset_frames": f(ls.get("offset_frames")), "sync_peak_corr": f(ls.get("sync_peak_corr")),
        "envelope_corr": f(ls.get("envelope_correlation")),
        "bilabial_closed": f(ls.get("bilabial_closed")), "open_vowel_open": f(ls.get("open_vowel_open")),
        "frozen_mouth": None if ls.get("frozen_mouth") is None else float(bool(ls.get("frozen_mouth"))),
        "jitter": f(s.get("jitter_mean")), "background_motion": f(s.get("background_motion")),
        "render_s": f(r.get("render_s")), "video_s": dur,
        "render_rtf": (r["render_s"] / dur) if r.get("render_s") and dur else None,
        "render_fps": (r["n_frames"] / r["render_s"]) if r.get("render_s") and r.get("n_frames") else None,
        "error": res.get("error"),
    }
    return row


def aggregate(rows: list[dict], key: str | None) -> list[dict]:
    """Mean of every metric per value of ``key`` (``None``: one overall row); ``n`` = videos."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("error"):
            continue
        groups.setdefault("all" if key is None else r[key], []).append(r)
    out = []
    for g, rs in groups.items():
        agg = {"group": g, "n": len(rs)}
        for m, _, _ in METRICS:
            vals = [r[m] for r in rs if r.get(m) is not None]
            agg[m] = float(np.mean(vals)) if vals else None
        out.append(agg)
    return out


def _md_table(rows: list[dict], first: str) -> str:
    heads = [first, "n"] + [h for _, h, _ in METRICS]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in rows:
        cells = [str(r["group"]), str(r["n"])]
        for m, _, fmt in METRICS:
            cells.append("-" if r.get(m) is None else fmt.format(r[m]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _write_csv(path: str, rows: list[dict]) -> None:
    if not rows:
        return
    keys = list(rows[0].keys())
    with atomic_write(path, newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else (round(r[k], 5) if isinstance(r[k], float) else r[k])) for k in keys})


BENCHMARK_DEFAULTS = {"size": 512, "intensity": 1.0}
"""Where the benchmark's generation options differ from :class:`GenerateOptions`' defaults: one size
for every portrait (comparable speed figures) and full intensity (the emotion judge's hardest case is
the weakest expression)."""
PER_JOB = ("emotion", "transcript")
"""Options set per video by the grid, not by the run."""


def _generate_and_judge(job: Job, report: str, video: str, options: GenerateOptions, settings: dict,
                        generate) -> dict:
    """One video of the grid: reuse its result when made with the same ``settings``, else generate
    (unless the mp4 is there) and judge it; the result JSON (figures, or a one-line error) is saved."""
    from .evaluate.core import evaluate

    rmeta_path = os.path.join(report, "videos", f"{job.id}.render.json")
    res_path = os.path.join(report, "results", f"{job.id}.json")
    res = _read_json(res_path)
    if res is not None and res.get("settings") != settings:
        res = None  # made with other settings: judge again (and regenerate below)
        for p in (video, rmeta_path):
            if os.path.exists(p):
                os.remove(p)
    rmeta = _read_json(rmeta_path)
    if rmeta is not None and rmeta.get("settings") != settings and os.path.exists(video):
        os.remove(video)
        rmeta = None
    if res is not None and "error" not in res:
        return res
    try:
        if not os.path.exists(video):
            t0 = time.perf_counter()
            info = generate(job.portrait, audio=job.audio, output=video,
                            options=options.replace(emotion=job.emotion)).info
            wall = time.perf_counter() - t0
            rmeta = {"settings": settings, "render_s": round(info.timings.get("render_s", wall), 3),
                     "total_s": round(info.timings.get("total_s", wall), 3), "n_frames": info.n_frames,
                     "size": list(info.size)}
            write_json(rmeta_path, rmeta)
        res = evaluate(video, job.portrait, job.audio, emotion=job.emotion)
        res["render"] = rmeta or {}
        res["settings"] = settings
    except InputError as e:
        res = {"error": str(e), "settings": settings}
    write_json(res_path, res)
    return res


def run_benchmark(portraits: list[str], audios: list[str], emotions: list[str], report: str,
                  options: GenerateOptions | None = None, max_seconds: float | None = 4.0,
                  pairing: str = "cycle", sheet_frames: int = 8, progress: bool = True, log=print,
                  generate=None) -> dict:
    """Run the benchmark (see the module docstring).

    Args:
        portraits: image files, folders of images, or ``builtin:astronaut``.
        audios: audio files or folders of audio files.
        emotions: MEAD emotions (labels or aliases).
        report: output folder (created; reused to resume).
        options: generation options for every video (default :data:`BENCHMARK_DEFAULTS`); the
            emotion is set per video.
        max_seconds: trim every audio clip to this many seconds (``None``: whole clips).
        pairing: ``"cycle"`` or ``"all"`` (see :func:`make_jobs`).
        generate: the generator (default :func:`emocast.generate`), called as
            ``generate(image, audio=, output=, options=)`` (its result's ``info``).

    Returns:
        dict with ``rows`` (per video), ``per_emotion``, ``per_portrait``, ``overall``, ``failures``,
        ``report_md`` (path).

    Raises:
        InputError: missing inputs, unknown emotion, a bad option, or an unwritable report folder.
    """
    options = (options or GenerateOptions.from_dict(BENCHMARK_DEFAULTS)).validate()
    from .emotion.labels import canonical

    emos = []
    for e in emotions:
        c = canonical(e)
        if c is None:
            raise InputError("--emotions", f"'{e}' is not a MEAD emotion")
        emos.append(c)
    p_files = collect(portraits, IMAGE_EXT, "portrait")
    a_files = collect(audios, AUDIO_EXT, "audio")
    try:
        for sub in ("videos", "results", "sheets"):
            os.makedirs(os.path.join(report, sub), exist_ok=True)
    except OSError as e:
        raise InputError(report, f"cannot create report folder ({e.strerror})") from None
    settings = {k: v for k, v in options.to_dict().items() if k not in PER_JOB}
    settings.update(max_seconds=max_seconds, pairing=pairing)
    write_json(os.path.join(report, "benchmark.json"),
                {"settings": settings, "portraits": portraits, "audio": audios, "emotions": emos})
    ps, aus = prepare_inputs(report, p_files, a_files, max_seconds)
    jobs = make_jobs(ps, aus, emos, pairing)
    if generate is None:
        from .api import generate

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="benchmark", unit="video")
    rows, failures, cells = [], [], {}
    for job in jobs:
        if bar:
            bar.set_postfix_str(job.id[:40])
        video = os.path.join(report, "videos", f"{job.id}.mp4")
        res = _generate_and_judge(job, report, video, options, settings, generate)
        if "error" in res:
            failures.append((job.id, res["error"]))
            if log:
                log(f"{job.id}: {res['error']}")
        else:
            sheet = os.path.join(report, "sheets", f"{job.id}.png")
            if not os.path.exists(sheet):
                contact_sheet(video, sheet, f"{job.portrait_name} / {job.emotion} / {job.audio_name}: "
                              f"judge says {res['emotion'].get('top_class')}", res, n=sheet_frames,
                              portrait=job.portrait)
            cells[(job.portrait_name, job.emotion)] = video
        rows.append(flat_row(job, res))
        if bar:
            bar.update(1)
    if bar:
        bar.close()

    names = list(dict.fromkeys(n for n, _ in ps))
    overview(cells, names, emos, os.path.join(report, "overview.png"))
    per_emotion = sorted(aggregate(rows, "emotion"), key=lambda r: emos.index(r["group"]))
    per_portrait = sorted(aggregate(rows, "portrait"), key=lambda r: names.index(r["group"]))
    overall = aggregate(rows, None) + sorted(aggregate(rows, "sample"), key=lambda r: r["group"])
    _write_csv(os.path.join(report, "per_video.csv"), rows)
    _write_csv(os.path.join(report, "per_emotion.csv"), per_emotion)
    _write_csv(os.path.join(report, "per_portrait.csv"), per_portrait)
    _write_csv(os.path.join(report, "overall.csv"), overall)
    md = _report_md(rows, per_emotion, per_portrait, overall, failures, settings)
    md_path = os.path.join(report, "report.md")
    with atomic_write(md_path) as f:
        f.write(md)
    return {"rows": rows, "per_emotion": per_emotion, "per_portrait": per_portrait, "overall": overall,
            "failures": failures, "report_md": md_path}


def _report_md(rows, per_emotion, per_portrait, overall, failures, settings) -> str:
    from .evaluate.fer import JUDGE_NAME as FER
    from .evaluate.identity import JUDGE_NAME as ID
    from .evaluate.lipsync import JUDGE_NAME as LS

    ok = [r for r in rows if not r.get("error")]
    rs = [r["render_s"] for r in ok if r.get("render_s")]
    vs = [r["video_s"] for r in ok if r.get("render_s") and r.get("video_s")]
    fps = [r["render_fps"] for r in ok if r.get("render_fps")]
    lines = [
        "# EmoCAST benchmark", "",
        f"Settings: size {settings['size']} px, intensity {settings['intensity']}, clips trimmed to "
        f"{settings['max_seconds']} s, pairing {settings['pairing']}. {len(ok)} videos judged, {len(failures)} failed.", "",
        "Judges (not called while generating; the emotion prototypes and the displacement budget were "
        "tuned with the emotion and identity judges on the portraits marked in-sample, so only the "
        "validation rows are out-of-sample):",
        f"- emotion: {FER}; 'top class = intended' is the video-level top class (mean probabilities), "
        "'frame accuracy' the share of frames whose top class is the intended one, over the FER2013 classes "
        "(contempt is not judged); neutral is judged on the frames with nearly closed lips (dlib inner-lip "
        "aperture < 0.05), since this judge reads any open speaking mouth as happy or surprise.",
        f"- identity: {ID}; distance < 0.6 = same person.",
        f"- lip sync: {LS}; AV offset in frames, positive = audio lags video.",
        "- stability: rigid-landmark second differences (x inter-ocular distance) and grey-level change "
        "outside the head per frame (0-255).", "",
        "## Per emotion", "", _md_table(per_emotion, "emotion"), "",
        "## Per portrait", "", _md_table(per_portrait, "portrait"), "",
        "## Overall (in-sample: portraits tuned on; validation: the others)", "", _md_table(overall, "all"), "",
        "## Render speed", "",
    ]
    if rs:
        lines.append(f"{sum(rs):.1f} s rendering {sum(vs):.1f} s of video: {sum(rs) / max(sum(vs), 1e-9):.2f} s per "
                     f"video second, {np.mean(fps):.1f} frames/s on average (this machine; shared CPU).")
    else:
        lines.append("no render timings (videos generated by an earlier run without timing).")
    if failures:
        lines += ["", "## Failures", ""] + [f"- `{i}`: {e}" for i, e in failures]
    lines += ["", "Contact sheets: `sheets/<portrait>__<emotion>.png`; overview: `overview.png`.", ""]
    return "\n".join(lines)
