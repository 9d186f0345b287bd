"""Job lists of ``emocast batch``: a CSV or JSONL file, one job a row, parsed and checked up front."""
from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass

from ..errors import InputError
from ..options import GenerateOptions, names, spec

INPUT_COLUMNS = ("id", "portrait", "audio", "text", "output")
"""Columns that name a job and its inputs; every other column is an option of :class:`GenerateOptions`
by its usual name (``emotion``, ``intensity``, ``pose_scale`` or ``pose-scale``, ...)."""
ALIASES = {"image": "portrait"}


@dataclass(frozen=True)
class BatchJob:
    """One row of a job list, checked.

    Attributes:
        id: unique name of the job (the ``id`` column, else ``<line>-<portrait stem>``).
        line: line of the row in the job file (1 = the first line, the CSV header included).
        portrait: portrait file (absolute path).
        audio: speech file (absolute path), or ``None`` with ``text``.
        text: words to speak, or ``None`` with ``audio``.
        output: the mp4 to write (absolute path).
        options: the row's generation options, validated.
    """

    id: str
    line: int
    portrait: str
    audio: str | None
    text: str | None
    output: str
    options: GenerateOptions

    def spec(self) -> str:
        """A canonical JSON text of everything that makes the job's video (a changed row is a new job)."""
        return json.dumps({"portrait": self.portrait, "audio": self.audio, "text": self.text, "output": self.output,
                           "options": self.options.to_dict()}, sort_keys=True)


class JobListError(InputError):
    """Bad rows of a job list: ``problems`` holds one ``"<file>:<line>: <problem>"`` line per bad row."""

    def __init__(self, path: str, problems: list[str]):
        self.problems = problems
        super().__init__(path, f"{len(problems)} bad row{'s' if len(problems) > 1 else ''}: " + "; ".join(problems))


def read_rows(path: str) -> list[tuple[int, dict]]:
    """``(line, values)`` of every job in a ``.csv`` (header row) or ``.jsonl`` (one object a line) file.

    Raises:
        InputError: missing or unreadable file, another extension, a JSONL line that is not an object.
    """
    if not os.path.isfile(path):
        raise InputError(path, "job list not found")
    ext = os.path.splitext(path)[1].lower()
    rows: list[tuple[int, dict]] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            if ext == ".csv":
                reader = csv.DictReader(f)
                for row in reader:
                    values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
                    if any(values.values()):
                        rows.append((reader.line_num, {k: v for k, v in values.items() if v != ""}))
            elif ext in (".jsonl", ".ndjson"):
                for n, text in enumerate(f, 1):
                    if not text.strip():
                        continue
                    try:
                        obj = json.loads(text)
                    except ValueError as e:
                        raise InputError(f"{path}:{n}", f"not JSON ({e.msg})") from None
                    if not isinstance(obj, dict):
                        raise InputError(f"{path}:{n}", "each line must be a JSON object")
                    rows.append((n, {k: v for k, v in obj.items() if v is not None and v != ""}))
            else:
                raise InputError(path, "job list must be a .csv or .jsonl file")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read job list ({type(e).__name__})") from None
    if not rows:
        raise InputError(path, "job list has no jobs")
    return rows


def _convert(name: str, value):
    """A CSV cell (text) as the option's type; JSON values pass through."""
    s = spec(name)
    if not isinstance(value, str) or s.type is str:
        return value
    if s.type is bool:
        low = value.lower()
        if low in ("1", "true", "yes", "y", "on"):
            return True
        if low in ("0", "false", "no", "n", "off"):
            return False
        raise InputError(s.flag, f"expected true or false, got {value!r}")
    try:
        return s.type(value) if s.type is float else int(float(value))
    except ValueError:
        raise InputError(s.flag, f"expected a number, got {value!r}") from None


def _column(name: str) -> str:
    """A column's canonical name: ``image`` -> ``portrait``, ``pose-scale`` -> ``pose_scale``."""
    name = ALIASES.get(name, name)
    option = name.replace("-", "_")
    return option if option in names() else name


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "job"


def parse_job(line: int, values: dict, base_dir: str, out_dir: str, base: GenerateOptions) -> BatchJob:
    """Check one row and make its :class:`BatchJob` (relative paths are relative to the job file).

    Raises:
        InputError: an unknown column, a bad option value, a missing portrait or speech file,
            both or neither of audio and text.
    """
    from ..media.files import check_output

    values = {_column(k): v for k, v in values.items()}
    unknown = sorted(set(values) - set(INPUT_COLUMNS) - set(names()))
    if unknown:
        raise InputError(None, f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}")
    opts = {k: _convert(k, v) for k, v in values.items() if k in names()}
    options = base.replace(**opts).validate()

    def path_of(key):
        v = values.get(key)
        return None if v is None else os.path.abspath(os.path.join(base_dir, os.path.expanduser(str(v))))

    portrait, audio = path_of("portrait"), path_of("audio")
    text = values.get("text")
    if portrait is None:
        raise InputError(None, "no portrait")
    if not os.path.isfile(portrait):
        raise InputError(values["portrait"], "portrait not found")
    if (audio is None) == (text is None):
        raise InputError(None, "give exactly one of audio and text")
    if audio is not None and not os.path.isfile(audio):
        raise InputError(values["audio"], "audio file not found")
    jid = _slug(str(values.get("id") or f"{line:04d}-{os.path.splitext(os.path.basename(portrait))[0]}"))
    output = os.path.abspath(os.path.join(out_dir, os.path.expanduser(str(values["output"])))) \
        if values.get("output") else os.path.join(os.path.abspath(out_dir), f"{jid}.mp4")
    check_output(output, inputs=(portrait, audio))
    return BatchJob(id=jid, line=line, portrait=portrait, audio=audio, text=None if text is None else str(text),
                    output=output, options=options)


def read_jobs(path: str, out_dir: str, base: GenerateOptions | None = None) -> list[BatchJob]:
    """Every job of a job list, all checked before anything runs.

    Args:
        path: ``.csv`` or ``.jsonl`` job list.
        out_dir: folder of the outputs (created by the caller) and of relative ``output`` cells.
        base: options for cells left empty (default :class:`GenerateOptions`' defaults).

    Raises:
        JobListError: every bad row at once, each as ``"<file>:<line>: <problem>"``; also two jobs
            with the same id or output.
        InputError: an unreadable job list.
    """
    base = base or GenerateOptions()
    jobs, problems, seen = [], [], {}
    for line, values in read_rows(path):
        try:
            job = parse_job(line, values, os.path.dirname(os.path.abspath(path)), out_dir, base)
        except InputError as e:
            problems.append(f"{os.path.basename(path)}:{line}: {e}")
            continue
        for key in (job.id, job.output):
            if key in seen:
                problems.append(f"{os.path.basename(path)}:{line}: same {'id' if key == job.id else 'output'} "
                                f"as line {seen[key]} ({key})")
            seen.setdefault(key, line)
        jobs.append(job)
    if problems:
        raise JobListError(path, problems)
    return jobs
