"""Prometheus-style counters and a latency histogram per variant (text format 0.0.4)."""

from __future__ import annotations

import threading
from collections import defaultdict

__all__ = ["BUCKETS", "ServingMetrics"]

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class ServingMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str], int] = defaultdict(int)  # (variant, status)
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)

    def observe(self, variant: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(variant, str(status))] += 1
            self.latency_sum[variant] += seconds
            self.latency_count[variant] += 1
            counts = self.buckets[variant]
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[index] += 1

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
                "mean_latency_ms": {
                    v: 1000 * self.latency_sum[v] / n for v, n in self.latency_count.items() if n
                },
            }
