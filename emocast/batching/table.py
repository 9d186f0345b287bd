"""The job table of ``emocast batch``: one SQLite database in the output folder (stdlib ``sqlite3``)."""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass

from .jobs import BatchJob

DB_NAME = "jobs.sqlite"
"""File name of the job table inside the output folder."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    line INTEGER NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    worker TEXT,
    started REAL,
    finished REAL,
    seconds REAL,
    output TEXT NOT NULL,
    sha256 TEXT
)
"""


@dataclass
class JobRow:
    """One job's state in the table (times in seconds since the epoch, ``seconds`` the job's wall time)."""

    id: str
    line: int
    status: str
    attempts: int
    error: str | None
    seconds: float | None
    output: str
    sha256: str | None


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes, hex."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class JobTable:
    """The state of every job of a batch, kept in ``OUT/jobs.sqlite`` so a rerun resumes.

    Only the process that runs the batch writes to it (workers report back to it), in short
    transactions, so a killed run leaves it consistent: at most the jobs it had in flight are redone.

    Args:
        out_dir: the batch's output folder.
    """

    def __init__(self, out_dir: str):
        self.path = os.path.join(out_dir, DB_NAME)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def sync(self, jobs: list[BatchJob], retry: bool = False) -> list[BatchJob]:
        """Enter ``jobs`` and return those to run now.

        A new job, or one whose row changed (its spec), is pending, as is one a killed run had in
        flight (it never left ``pending``). A ``done`` job whose output is gone or no longer has
        the recorded hash is pending again. ``failed`` jobs run again only with ``retry``.
        """
        todo = []
        with self.db:
            for job in jobs:
                spec = job.spec()
                row = self.db.execute("SELECT spec, status, output, sha256 FROM jobs WHERE id = ?", (job.id,)).fetchone()
                if row is None or row[0] != spec:
                    self.db.execute("INSERT OR REPLACE INTO jobs (id, line, spec, status, attempts, output) "
                                    "VALUES (?, ?, ?, 'pending', 0, ?)", (job.id, job.line, spec, job.output))
                    status = "pending"
                else:
                    status = row[1]
                    if status == "done" and not (os.path.isfile(row[2]) and file_sha256(row[2]) == row[3]):
                        status = "pending"
                    if status == "failed" and retry:
                        status = "pending"
                    self.db.execute("UPDATE jobs SET status = ?, line = ? WHERE id = ?", (status, job.line, job.id))
                if status == "pending":
                    todo.append(job)
        return todo

    def finish(self, job_id: str, error: str | None, seconds: float, output: str, worker: str = "") -> None:
        """Record one attempt at a job: ``done`` with its output's hash, or ``failed`` with a one-line
        ``error``. A job stays ``pending`` until an attempt ends, so a killed run redoes only the jobs it
        had in flight (their outputs are written atomically: none is left half written)."""
        now = time.time()
        sha = file_sha256(output) if error is None else None
        self.db.execute("UPDATE jobs SET status = ?, attempts = attempts + 1, error = ?, worker = ?, started = ?, "
                        "finished = ?, seconds = ?, sha256 = ? WHERE id = ?",
                        ("done" if error is None else "failed", error, worker, now - seconds, now, seconds, sha, job_id))

    def rows(self, ids: list[str] | None = None) -> list[JobRow]:
        """Every job's row in line order (or just ``ids``)."""
        q = "SELECT id, line, status, attempts, error, seconds, output, sha256 FROM jobs ORDER BY line"
        out = [JobRow(*r) for r in self.db.execute(q)]
        return out if ids is None else [r for r in out if r.id in set(ids)]
