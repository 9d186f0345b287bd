"""Scale-out shared by ``emocast batch`` and ``emocast dataset build``: local worker processes, and Ray."""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Callable, Iterable, Iterator

from .errors import InputError


@contextlib.contextmanager
def ray_session(address: str | None, workers: int, quiet: bool = False):
    """Yield the ``ray`` module connected to the cluster at ``address``, or to a local Ray with ``workers``
    CPUs; a Ray this call started is shut down on exit (one already running is left as it is).

    Raises:
        InputError: Ray is not installed.
    """
    try:
        import ray
    except ModuleNotFoundError:
        raise InputError("--ray", "Ray is not installed: pip install 'emocast[ray]'") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address or None, num_cpus=None if address else max(1, workers),
                 include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING if quiet else logging.INFO)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def actor_count(ray, workers: int) -> int:
    """``workers``, or one per cluster CPU when it is 0."""
    return workers if workers > 0 else max(1, int(ray.cluster_resources().get("CPU", 1)))


def one_thread() -> None:
    """Worker-process start: one torch thread (the workers are the parallelism; small models run faster
    single-threaded on shared cores). Torch is not imported for it: a worker that never needs torch does not
    pay for it, and the thread count is set for whenever it is loaded (``OMP_NUM_THREADS``)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    else:
        os.environ["OMP_NUM_THREADS"] = "1"


def local_map(fn: Callable, items: Iterable, workers: int) -> Iterator:
    """``fn(item)`` for every item, in this process (``workers <= 1``, in order) or in ``workers`` spawned
    processes that keep their models loaded across items (in order of completion)."""
    if workers <= 1:
        for item in items:
            yield fn(item)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=one_thread) as ex:
        for f in as_completed([ex.submit(fn, item) for item in items]):
            yield f.result()
