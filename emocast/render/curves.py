"""Monotone piecewise-cubic interpolation (PCHIP) for the short contours the renderer draws each frame.

The method is Fritsch & Carlson's (1980) shape-preserving cubic Hermite interpolation with the
Fritsch-Butland weighted harmonic mean of the secant slopes at interior knots and the one-sided
three-point end slopes of Moler's ``pchiptx`` (*Numerical Computing with MATLAB*, 3.6): the same
formulas, in the same order of operations, as SciPy's ``scipy.interpolate.PchipInterpolator``, so
the values equal SciPy's (tests/test_render.py compares them). It is here rather than imported because
importing ``scipy.interpolate`` costs 0.4-0.5 s of start-up in every process on these 2 cores, and
building a ``PchipInterpolator`` for an 11-point lip contour costs about 0.5 ms, twice a frame.
"""
from __future__ import annotations

import numpy as np


def _end_slope(h0: float, h1: float, m0: float, m1: float) -> float:
    """One-sided three-point slope at an end knot, kept shape-preserving (Moler's ``pchiptx``)."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > 3.0 * abs(m0):
        return 3.0 * m0
    return d


def pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """PCHIP derivatives ``float64 (n,)`` at the knots ``x`` (strictly increasing, ``n >= 2``) of ``y``."""
    h = np.diff(x)
    m = np.diff(y) / h
    if len(x) == 2:
        return np.array([m[0], m[0]])
    d = np.zeros(len(x))
    flat = (np.sign(m[1:]) != np.sign(m[:-1])) | (m[1:] == 0) | (m[:-1] == 0)
    w1 = 2 * h[1:] + h[:-1]
    w2 = h[1:] + 2 * h[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (w1 / m[:-1] + w2 / m[1:]) / (w1 + w2)
    d[1:-1][~flat] = 1.0 / mean[~flat]
    d[0] = _end_slope(h[0], h[1], m[0], m[1])
    d[-1] = _end_slope(h[-1], h[-2], m[-1], m[-2])
    return d


def pchip(x: np.ndarray, y: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The PCHIP interpolant of knots ``(x, y)`` at ``xs``.

    Args:
        x: ``(n,)`` strictly increasing knot positions, ``n >= 2``.
        y: ``(n,)`` values at the knots.
        xs: ``(k,)`` positions within ``[x[0], x[-1]]`` (outside, the end cubics extrapolate).

    Returns:
        ``float64 (k,)``.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    xs = np.asarray(xs, np.float64)
    d = pchip_slopes(x, y)
    h = np.diff(x)
    slope = np.diff(y) / h
    t = (d[:-1] + d[1:] - 2 * slope) / h
    c0, c1 = t / h, (slope - d[:-1]) / h - t  # the cubic and quadratic coefficients per interval
    i = np.clip(np.searchsorted(x, xs, side="right") - 1, 0, len(h) - 1)
    s = xs - x[i]
    return y[i] + d[i] * s + c1[i] * (s * s) + c0[i] * (s * s * s)
