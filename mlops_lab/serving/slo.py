"""The serving SLO: p99 latency and error rate over a sliding window of ``/metrics`` scrapes.

A model server's ``/metrics`` (:mod:`mlops_lab.serving.metrics`) holds counters
since it started: requests per variant and status, and the cumulative latency
histogram ``mlops_lab_request_seconds``. A window's traffic is the difference
of two scrapes: the newest, and the newest one at least ``window`` seconds older
(:meth:`SloWatch.window`). When the watch is younger than the window, the oldest
scrape is the baseline, unless the server started inside the window: its
counters were zero at its start (``mlops_lab_start_time_seconds``), so that zero
state is the baseline and the window holds everything it answered. A server that
restarted between two scrapes (its start time moved) is read the same way.

How the numbers are estimated, per variant and over all variants:

- requests: the difference of ``mlops_lab_requests_total`` (every status);
- error rate: 5xx over all requests. A 4xx is the client's (a bad body, an
  unknown entity) and the server rightly refused it: it counts as a request,
  not as an error (``client_error_rate`` is reported beside it, judging nothing),
  as the deployments view does;
- p99 (ms), from the histogram's difference, the way Prometheus'
  ``histogram_quantile`` does it: the rank ``0.99 * count``; the first bucket
  whose cumulative count reaches it; linear interpolation between that bucket's
  lower bound (the previous bucket's ``le``, 0 for the first) and its upper
  bound, by where the rank falls among the bucket's own requests. When the rank
  falls in the ``+Inf`` bucket (over 1% of requests slower than the last finite
  bound), the estimate is that last bound and ``p99_beyond_buckets`` is true:
  the p99 is *at least* that. It breaches a bound below that value; against a
  bound at or above it the verdict is ``unknown`` (no alert: the histogram
  cannot tell). The histogram counts every request, 4xx included.

A window with fewer than ``min_requests`` requests (20 by default) judges
neither rule (``not enough traffic``): a p99 or a rate of a handful is noise.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mlops_lab.project import ServingSLO
from mlops_lab.serving.history import error_counts

__all__ = [
    "ALL",
    "MIN_REQUESTS",
    "Scrape",
    "SloBounds",
    "SloWatch",
    "judge",
    "parse_metrics",
    "quantile_ms",
    "window_stats",
]

ALL = "all"  # the scope of every variant together
MIN_REQUESTS = 20
_REQUESTS = re.compile(
    r'^mlops_lab_requests_total\{variant="([^"]*)",status="(\d+)"\}\s+([0-9.e+]+)'
)
_BUCKET = re.compile(
    r'^mlops_lab_request_seconds_bucket\{variant="([^"]*)",le="([^"]+)"\}\s+([0-9.e+]+)'
)
_STARTED = re.compile(r"^mlops_lab_start_time_seconds\s+([0-9.e+]+)")


@dataclass(frozen=True, kw_only=True)
class _Counts:
    """One variant's counters: requests by status; cumulative histogram by ``le``."""

    statuses: dict[str, int] = field(default_factory=dict)
    buckets: dict[float, int] = field(default_factory=dict)  # le (math.inf for +Inf)


@dataclass(frozen=True, kw_only=True)
class Scrape:
    """The counters of one ``/metrics`` answer, read at ``at`` (unix seconds)."""

    at: float
    started: float | None  # the server's start (its counters were zero then)
    variants: dict[str, _Counts]

    @property
    def is_start(self) -> bool:
        """Whether this is the server's zero state at its start, not a real scrape."""
        return self.started is not None and self.at == self.started and not self.variants

    @classmethod
    def zero(cls, started: float) -> Scrape:
        """The server's state when it started: nothing counted yet."""
        return cls(at=started, started=started, variants={})


def parse_metrics(text: str, *, at: float) -> Scrape:
    """The request counters and latency histogram in a ``/metrics`` text."""
    variants: dict[str, _Counts] = {}
    started = None
    for line in text.splitlines():
        if found := _REQUESTS.match(line):
            counts = variants.setdefault(found[1], _Counts())
            counts.statuses[found[2]] = int(float(found[3]))
        elif found := _BUCKET.match(line):
            counts = variants.setdefault(found[1], _Counts())
            bound = math.inf if found[2] == "+Inf" else float(found[2])
            counts.buckets[bound] = int(float(found[3]))
        elif found := _STARTED.match(line):
            started = float(found[1])
    return Scrape(at=at, started=started, variants=variants)


def quantile_ms(buckets: dict[float, int], q: float = 0.99) -> tuple[float | None, bool]:
    """(estimate in ms, beyond the last finite bound) of the ``q`` quantile of a cumulative
    histogram ``{le: count}`` (``math.inf`` the ``+Inf`` bucket); (None, False) when it
    is empty. See the module docstring for the estimate."""
    total = buckets.get(math.inf, max(buckets.values(), default=0))
    if total <= 0:
        return None, False
    rank = q * total
    lower, below = 0.0, 0
    for bound in sorted(b for b in buckets if b != math.inf):
        count = buckets[bound]
        if count >= rank:
            inside = count - below
            share = (rank - below) / inside if inside else 1.0
            return 1000 * (lower + (bound - lower) * share), False
        lower, below = bound, count
    return 1000 * lower, True


def _difference(newer: _Counts, older: _Counts | None) -> _Counts:
    old = older or _Counts()
    return _Counts(
        statuses={s: n - old.statuses.get(s, 0) for s, n in newer.statuses.items()},
        buckets={b: n - old.buckets.get(b, 0) for b, n in newer.buckets.items()},
    )


def _stats(counts: _Counts) -> dict[str, Any]:
    p99, beyond = quantile_ms(counts.buckets)
    return {**error_counts(counts.statuses), "p99_ms": p99, "p99_beyond_buckets": beyond}


def window_stats(older: Scrape, newer: Scrape) -> dict[str, dict[str, Any]]:
    """Requests, errors, error rate and p99 between two scrapes, per variant and over
    all of them (:data:`ALL`)."""
    differences = {
        name: _difference(counts, older.variants.get(name))
        for name, counts in newer.variants.items()
    }
    together = _Counts()
    for counts in differences.values():
        for status, n in counts.statuses.items():
            together.statuses[status] = together.statuses.get(status, 0) + n
        for bound, n in counts.buckets.items():
            together.buckets[bound] = together.buckets.get(bound, 0) + n
    out = {name: _stats(counts) for name, counts in sorted(differences.items())}
    out[ALL] = _stats(together)
    return out


class SloWatch:
    """Successive scrapes of one server, kept as long as a window needs them."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.scrapes: deque[Scrape] = deque()

    def add(self, scrape: Scrape) -> None:
        if self.scrapes and scrape.started != self.scrapes[-1].started:
            self.scrapes.clear()  # the server restarted: its counters began again
        self.scrapes.append(scrape)
        # Keep one scrape at least a window old (the baseline) and the newer ones.
        while len(self.scrapes) > 2 and self.scrapes[1].at <= scrape.at - self.window_s:
            self.scrapes.popleft()

    def window(self) -> tuple[Scrape, Scrape] | None:
        """(baseline, newest): see the module docstring; None before a baseline exists."""
        if not self.scrapes:
            return None
        newest = self.scrapes[-1]
        started = newest.started
        if started is not None and started >= newest.at - self.window_s:
            return Scrape.zero(started), newest
        if len(self.scrapes) < 2:
            return None
        return self.scrapes[0], newest


@dataclass(frozen=True, kw_only=True)
class SloBounds:
    """The bounds judged, and where each was stated: ``project`` (the definition's
    ``serving:``) or ``argument`` (an explicit one, which wins)."""

    p99_ms: float | None
    error_rate: float | None
    window_s: float
    sources: dict[str, str]  # "p99_ms"/"error_rate" -> "project" or "argument"

    @classmethod
    def resolve(
        cls,
        slo: ServingSLO | None,
        *,
        p99_ms: float | None = None,
        error_rate: float | None = None,
        window_s: float | None = None,
    ) -> SloBounds | None:
        """The project's SLO with explicit arguments over it; None when neither bounds
        anything."""
        sources = {}
        p99 = p99_ms if p99_ms is not None else (slo.p99_ms if slo else None)
        rate = error_rate if error_rate is not None else (slo.error_rate if slo else None)
        if p99 is not None:
            sources["p99_ms"] = "project" if p99_ms is None else "argument"
        if rate is not None:
            sources["error_rate"] = "project" if error_rate is None else "argument"
        if not sources:
            return None
        window = window_s if window_s is not None else (slo.window_s if slo else 60.0)
        return cls(p99_ms=p99, error_rate=rate, window_s=window, sources=sources)


def _verdict(metric: str, stats: dict[str, Any], bound: float) -> str:
    value = stats[metric]
    if value is None:
        return "not enough traffic"
    if metric == "p99_ms" and stats["p99_beyond_buckets"] and value <= bound:
        return "unknown"  # at least `value`, which says nothing against a higher bound
    return "breach" if value > bound else "ok"


def judge(
    stats: dict[str, dict[str, Any]], bounds: SloBounds, *, min_requests: int = MIN_REQUESTS
) -> list[dict[str, Any]]:
    """One verdict per bounded rule (named ``project.serving.p99_ms`` or
    ``project.serving.error_rate``, the definition's rule even when an argument set its
    bound): ``breach`` when all the traffic or one variant is over the bound, else the
    verdict over all traffic: ``ok``, ``unknown`` or ``not enough traffic``."""
    verdicts = []
    for metric, bound in (("p99_ms", bounds.p99_ms), ("error_rate", bounds.error_rate)):
        if bound is None:
            continue
        scopes = {}
        for scope, numbers in stats.items():
            if numbers["requests"] < min_requests:
                scopes[scope] = "not enough traffic"
            else:
                scopes[scope] = _verdict(metric, numbers, bound)
        breached = [s for s, v in scopes.items() if v == "breach"]
        overall = scopes.get(ALL, "not enough traffic")
        verdicts.append(
            {
                "rule": f"project.serving.{metric}",
                "metric": metric,
                "bound": bound,
                "bound_from": bounds.sources[metric],
                "value": stats[ALL][metric] if ALL in stats else None,
                "verdict": "breach" if breached else overall,
                "breached_in": breached,
                "by_scope": scopes,
            }
        )
    return verdicts
