"""Running a batch: the job table decides what runs; local processes or Ray actors run it."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

from ..errors import InputError
from ..options import GenerateOptions
from .jobs import BatchJob, read_jobs
from .table import JobRow, JobTable


@dataclass
class BatchResult:
    """What a batch run left in its table.

    Attributes:
        rows: every job of the list, in line order (status ``done`` or ``failed``, or ``pending`` when
            the run was stopped).
        ran: ids of the jobs this run executed.
        seconds: wall time of this run.
        table: path of the SQLite job table.
    """

    rows: list[JobRow]
    ran: list[str] = field(default_factory=list)
    seconds: float = 0.0
    table: str = ""

    @property
    def failed(self) -> list[JobRow]:
        return [r for r in self.rows if r.status == "failed"]

    @property
    def ok(self) -> bool:
        """No job of the list failed or is left undone."""
        return all(r.status == "done" for r in self.rows)


def run_job(job: BatchJob) -> tuple[str, str | None, float, str]:
    """Make one job's video in this process (its models stay loaded for the next job).

    Returns:
        ``(job id, one-line error or None, seconds, worker name)``. A bad input gives its
        :class:`InputError` line; any other exception gives ``"internal error (Type): message"``.
    """
    from ..api import generate

    t0 = time.perf_counter()
    error = None
    try:
        generate(job.portrait, audio=job.audio, text=job.text, output=job.output, options=job.options)
    except InputError as e:
        error = str(e)
    except Exception as e:  # a bug: the job fails, the batch goes on
        error = " ".join(f"internal error ({type(e).__name__}): {e}".split())
    return job.id, error, time.perf_counter() - t0, f"pid{os.getpid()}"


def one_process(job: BatchJob) -> BatchJob:
    """``job`` rendered in its worker's process alone (``render_processes`` 1 unless its row says
    otherwise): the batch's workers already use the cores."""
    if job.options.render_processes is not None:
        return job
    return replace(job, options=job.options.replace(render_processes=1))


def _local(jobs: list[BatchJob], workers: int) -> Iterator[tuple[str, str | None, float, str]]:
    from ..scale import local_map

    return local_map(run_job, jobs, workers)


def _ray(jobs: list[BatchJob], workers: int, address: str | None) -> Iterator[tuple[str, str | None, float, str]]:
    from ..scale import actor_count, one_thread, ray_session

    with ray_session(address, workers) as ray:
        from ray.util import ActorPool

        @ray.remote(num_cpus=1)
        class Worker:
            """A Ray actor that keeps its models loaded across jobs."""

            def __init__(self):
                one_thread()

            def run(self, job):
                return run_job(job)

        n = actor_count(ray, workers)
        pool = ActorPool([Worker.remote() for _ in range(min(n, len(jobs)) or 1)])
        yield from pool.map_unordered(lambda actor, job: actor.run.remote(job), jobs)


def _remove_stale_temporaries(folder: str) -> None:
    """Remove the hidden temporary videos a killed run left (``.emocast-*.mp4``, never an output)."""
    for name in os.listdir(folder):
        if name.startswith(".emocast-") and name.endswith(".mp4"):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass


def batch(jobs: str, output: str, *, workers: int = 1, ray: str | bool | None = None, retry: bool = False,
          options: GenerateOptions | None = None, progress: bool | Callable[[float, str], None] = False,
          log: Callable[[str], None] | None = None) -> BatchResult:
    """Make every video of a job list, resumably.

    Args:
        jobs: ``.csv`` (header row) or ``.jsonl`` job list: one job a row with ``portrait`` and
            ``audio`` or ``text``, optionally ``id`` and ``output``, and any generation option by its
            name (``emotion``, ``intensity``, ``size``, ...).
        output: folder of the videos and of the job table ``jobs.sqlite`` (created).
        workers: local worker processes (each loads its models once), or Ray actors with ``ray``.
        ray: run the jobs as Ray actors: ``True`` for a local Ray, or a cluster address.
        retry: run jobs that failed in an earlier run again.
        options: defaults for cells a row leaves empty.
        progress: ``True`` for a progress bar with ETA on stderr, or ``progress(fraction, message)``.
        log: receives one line per failed job.

    Returns:
        :class:`BatchResult`; a job that fails does not stop the others.

    Raises:
        JobListError: bad rows (all of them, by line) before anything runs.
        InputError: unreadable job list, uncreatable output folder, Ray missing.
    """
    t0 = time.perf_counter()
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as e:
        raise InputError(output, f"cannot create output folder ({e.strerror})") from None
    all_jobs = read_jobs(jobs, output, base=options)
    _remove_stale_temporaries(output)
    table = JobTable(output)
    try:
        todo = table.sync(all_jobs, retry=retry)
        if ray or workers != 1:
            todo = [one_process(j) for j in todo]
        runner = _ray(todo, workers, None if ray is True else ray) if ray else _local(todo, workers)
        bar = None
        if progress is True and todo:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), unit="job", desc="batch", file=sys.stderr)
        by_id = {j.id: j for j in todo}
        ran = []
        for n, (jid, error, seconds, worker) in enumerate(runner, 1):
            table.finish(jid, error, seconds, by_id[jid].output, worker)
            ran.append(jid)
            if error and log:
                log(f"{os.path.basename(jobs)}:{by_id[jid].line}: {jid}: {error}")
            if bar is not None:
                bar.update(1)
            elif callable(progress):
                progress(n / len(todo), f"{jid} {'failed' if error else 'done'}")
        if bar is not None:
            bar.close()
        return BatchResult(rows=table.rows([j.id for j in all_jobs]), ran=ran, seconds=time.perf_counter() - t0,
                           table=table.path)
    finally:
        table.close()


def summary(result: BatchResult) -> str:
    """A plain-text table: one line per job (status, attempts, seconds, output or error) and the totals."""
    lines = [f"{'job':28s} {'status':7s} {'tries':>5s} {'s':>6s}  output / error"]
    for r in result.rows:
        what = r.error if r.status == "failed" else os.path.basename(r.output)
        secs = "-" if r.seconds is None else f"{r.seconds:.1f}"
        lines.append(f"{r.id[:28]:28s} {r.status:7s} {r.attempts:5d} {secs:>6s}  {what}")
    done = sum(r.status == "done" for r in result.rows)
    rate = len(result.ran) / result.seconds * 60 if result.seconds > 0 and result.ran else 0.0
    lines.append(f"{done} of {len(result.rows)} done, {len(result.failed)} failed; this run: {len(result.ran)} jobs "
                 f"in {result.seconds:.1f} s ({rate:.1f} jobs/min); table {result.table}")
    return "\n".join(lines)
