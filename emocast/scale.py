"""Scale-out on Ray, shared by ``emocast batch --ray`` and ``emocast dataset build --ray``."""
from __future__ import annotations

import contextlib
import logging

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
