"""Histogram bins of a numeric column for drift reports (and the PSI's bins).

Bins span the reference's 1st to 99th percentiles; the rows below and above
are counted apart, so a long tail does not squeeze the bulk of the rows into
one or two bins. They are equal-width unless that still crowds the rows (more
than 35% in one bin): then log-spaced (positive values) or quantile bins, the
one that spreads the rows best.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PROFILE_FORMAT", "bin_fractions", "hist_edges", "hist_fractions", "histogram"]

HIST_BINS = 20
_HIST_CLIP = (0.01, 0.99)  # bins span these reference quantiles; the rest is apart
_CROWDED = 0.35  # above this share of rows in one equal-width bin, try other bins
PROFILE_FORMAT = 2  # 2: a profile's histogram fractions are [below, *bins, above]


def bin_fractions(sorted_values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Fractions in the bins cut at ``inner_edges`` (first and last bins are open)."""
    cuts = np.searchsorted(sorted_values, inner_edges, side="right")
    counts = np.diff(np.concatenate(([0], cuts, [sorted_values.size])))
    return counts / max(sorted_values.size, 1)


def hist_edges(sorted_values: np.ndarray) -> np.ndarray:
    """Bins between the 1st and 99th percentiles: equal-width, or, when that still puts
    the rows in a few bins (a log-normal column), log-spaced (positive values) if they
    spread the rows, else quantile bins."""
    low, high = (float(q) for q in np.quantile(sorted_values, _HIST_CLIP))
    if not high > low:  # most rows share one value: span the whole range instead
        low, high = float(sorted_values[0]), float(sorted_values[-1])
    if not high > low:  # a constant column
        return np.histogram_bin_edges(sorted_values, bins=HIST_BINS)
    linear = np.linspace(low, high, HIST_BINS + 1)
    crowded = _crowding(sorted_values, linear)
    if crowded <= _CROWDED:
        return linear
    candidates = [linear]
    if low > 0:
        candidates.append(np.geomspace(low, high, HIST_BINS + 1))
    quantiles = np.unique(np.quantile(sorted_values, np.linspace(*_HIST_CLIP, HIST_BINS + 1)))
    if quantiles.size > 2:
        candidates.append(quantiles)
    spread = [edges for edges in candidates[1:] if _crowding(sorted_values, edges) <= _CROWDED]
    best = spread[0] if spread else min(candidates, key=lambda e: _crowding(sorted_values, e))
    # Discrete columns stay crowded whatever the bins: keep them equal-width then.
    return best if _crowding(sorted_values, best) < crowded * 0.75 else linear


def _crowding(sorted_values: np.ndarray, edges: np.ndarray) -> float:
    """The largest share of rows in one bin."""
    return float(hist_fractions(sorted_values, edges)[1:-1].max())


def scale_of(edges: np.ndarray) -> str:
    """How the edges are spaced: ``linear``, ``log`` or ``quantile`` (for the axis)."""
    widths = np.diff(edges)
    if np.allclose(widths, widths[0]):
        return "linear"
    if edges[0] > 0 and np.allclose(np.diff(np.log(edges)), np.log(edges[1] / edges[0])):
        return "log"
    return "quantile"


def hist_fractions(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Fractions ``[below edges[0], *one per bin, above edges[-1]]`` (bins closed right,
    the first closed on both sides)."""
    n = sorted_values.size
    below = int(np.searchsorted(sorted_values, edges[0], side="left"))
    above = n - int(np.searchsorted(sorted_values, edges[-1], side="right"))
    cuts = np.searchsorted(sorted_values, edges[1:-1], side="right")
    inner = np.diff(np.concatenate(([below], cuts, [n - above])))
    return np.concatenate(([below], inner, [above])) / max(n, 1)


def histogram(edges: np.ndarray, reference: np.ndarray, current: np.ndarray) -> dict[str, Any]:
    """The histogram a report keeps: fractions per bin of both samples, the tails apart.

    ``reference`` is the profile's fractions (see :func:`hist_fractions`),
    ``current`` the sorted current values.
    """
    cur = hist_fractions(current, edges)
    if reference.size == edges.size - 1:  # a profile from before format 2
        old = bin_fractions(current, edges[1:-1])
        return {
            "edges": edges.tolist(),
            "categories": None,
            "reference": reference.tolist(),
            "current": old.tolist(),
        }
    refs = reference
    return {
        "edges": edges.tolist(),
        "categories": None,
        "scale": scale_of(edges),
        "reference": refs[1:-1].tolist(),
        "current": cur[1:-1].tolist(),
        "below": {"reference": float(refs[0]), "current": float(cur[0])},
        "above": {"reference": float(refs[-1]), "current": float(cur[-1])},
    }
