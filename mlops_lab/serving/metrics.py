"""Prometheus-style counters and a latency histogram per variant (text format 0.0.4),
and the recent history of both (:mod:`mlops_lab.serving.history`).

Errors are counted apart by class: a 4xx is the client's (a bad body, an unknown
entity, features the model refuses), a 5xx the server's (the online store
unreachable, a failure). A deployment's error rate is its 5xx rate; the 4xx rate
is shown beside it and never judges the model.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from mlops_lab.serving.history import BUCKETS, MetricsHistory, status_class

__all__ = ["BUCKETS", "ServingMetrics"]


class ServingMetrics:
    def __init__(self, history: MetricsHistory | None = None) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str], int] = defaultdict(int)  # (variant, status)
        self.errors: dict[tuple[str, str], int] = defaultdict(int)  # (variant, "4xx"/"5xx")
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)
        self.history = history or MetricsHistory()
        # When the counters were zero: a watcher's baseline (mlops_lab.serving.slo).
        self.started = time.time()

    def observe(self, variant: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(variant, str(status))] += 1
            for kind in ("4xx", "5xx"):  # both, so a variant's zeros are explicit
                self.errors[(variant, kind)] += status_class(status) == kind
            self.latency_sum[variant] += seconds
            self.latency_count[variant] += 1
            counts = self.buckets[variant]
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[index] += 1
        self.history.observe(variant, status, seconds)

    def render(self, extra: dict[str, float] | None = None) -> str:
        lines = [
            "# HELP mlops_lab_requests_total Prediction requests by variant and HTTP status.",
            "# TYPE mlops_lab_requests_total counter",
        ]
        with self._lock:
            for (variant, status), count in sorted(self.requests.items()):
                lines.append(
                    f'mlops_lab_requests_total{{variant="{variant}",status="{status}"}} {count}'
                )
            lines += [
                "# HELP mlops_lab_errors_total Requests answered with an error, by variant and "
                "class: 4xx the client's, 5xx the server's.",
                "# TYPE mlops_lab_errors_total counter",
            ]
            for (variant, kind), count in sorted(self.errors.items()):
                lines.append(
                    f'mlops_lab_errors_total{{variant="{variant}",class="{kind}"}} {count}'
                )
            lines += [
                "# HELP mlops_lab_request_seconds Time to answer /predict.",
                "# TYPE mlops_lab_request_seconds histogram",
            ]
            for variant, counts in sorted(self.buckets.items()):
                for bound, count in zip(BUCKETS, counts, strict=True):
                    lines.append(
                        f'mlops_lab_request_seconds_bucket{{variant="{variant}",le="{bound}"}} '
                        f"{count}"
                    )
                total = self.latency_count[variant]
                lines.append(
                    f'mlops_lab_request_seconds_bucket{{variant="{variant}",le="+Inf"}} {total}'
                )
                lines.append(
                    f'mlops_lab_request_seconds_sum{{variant="{variant}"}} '
                    f"{self.latency_sum[variant]:.6f}"
                )
                lines.append(f'mlops_lab_request_seconds_count{{variant="{variant}"}} {total}')
        for name, value in (extra or {}).items():
            lines += [f"# TYPE mlops_lab_{name} gauge", f"mlops_lab_{name} {value}"]
        return "\n".join(lines) + "\n"

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": {f"{v}/{s}": c for (v, s), c in self.requests.items()},
                "errors": {f"{v}/{k}": c for (v, k), c in self.errors.items()},
                "mean_latency_ms": {
                    v: 1000 * self.latency_sum[v] / n for v, n in self.latency_count.items() if n
                },
            }
