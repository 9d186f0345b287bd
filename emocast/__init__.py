"""EmoCAST: emotional talking portraits from one photo, speech and a free-form emotion description.

Implements *EmoCAST: Emotional Talking Portrait via Emotive Text Description* (arXiv 2508.20615)
with two engines: a CPU engine (landmark-driven mesh warp, the default) and the paper's diffusion
network (``emocast.neural``, GPU).
"""
__version__ = "0.1.0"

from .errors import EmoCastError, InputError  # noqa: E402


def generate(*args, **kwargs):
    """Make a talking-head video; see :func:`emocast.api.generate`."""
    from .api import generate as _generate

    return _generate(*args, **kwargs)


def batch(jobs, output, **kwargs):
    """Make every video of a job list, resumably; see :func:`emocast.batching.run.batch`."""
    from .batching.run import batch as _batch

    return _batch(jobs, output, **kwargs)


def _signature():
    from .options import generate_signature

    return generate_signature()


generate.__signature__ = _signature()


__all__ = ["generate", "batch", "EmoCastError", "InputError", "__version__"]
