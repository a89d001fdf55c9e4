"""The model server's metrics: 4xx counted apart from 5xx per variant, the error rate is the
5xx rate, and the traffic history kept in bounded time buckets (`GET /metrics/history`)."""

from __future__ import annotations

from typing import Any

import pytest

from mlops_lab import Workspace
from mlops_lab.serving.app import make_app
from mlops_lab.serving.deployments import summarize_metrics
from mlops_lab.serving.history import MetricsHistory
from mlops_lab.serving.metrics import ServingMetrics
from mlops_lab.serving.predictor import Predictor
from tests.serving.demo import offline_features
from tests.serving.inprocess import call as _call
from tests.serving.inprocess import listening


class Clock:
    """A clock the test moves (the history's buckets are time-based)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_history_is_dense_bounded_and_counts_each_bucket_apart() -> None:
    clock = Clock(1000.0)
    history = MetricsHistory(bucket_seconds=10, keep=4, clock=clock)
    clock.now = 1003.0
    history.observe("champion", 200, 0.004)
    history.observe("champion", 422, 0.002)
    history.observe("challenger", 503, 0.2)
    clock.now = 1025.0  # 1010-1020 without a request
    history.observe("champion", 200, 0.03)
    series: Any = history.series()
    assert series["bucket_seconds"] == 10 and series["now"] == 1025.0
    buckets = series["buckets"]
    assert [b["start"] for b in buckets] == [1000, 1010, 1020]
    assert [b["seconds"] for b in buckets] == [10, 10, 5]  # the current one: 5 s so far
    first = buckets[0]["variants"]
    assert first["champion"] == {
        "requests": 2,
        "client_errors": 1,
        "server_errors": 0,
        "p50_ms": 2.5,
        "p99_ms": 5.0,
    }
    assert first["challenger"]["server_errors"] == 1 and first["challenger"]["p50_ms"] == 250
    assert buckets[1]["variants"] == {}  # idle time is a bucket of nothing, not a gap
    assert buckets[2]["variants"]["champion"]["requests"] == 1

    clock.now = 1061.0  # four buckets kept: 1030-1060; the old ones fall off
    history.observe("champion", 200, 0.001)
    buckets = history.series()["buckets"]
    assert [b["start"] for b in buckets] == [1030, 1040, 1050, 1060]  # type: ignore[index]
    assert sum(len(b["variants"]) for b in buckets) == 1  # type: ignore[union-attr]


def test_a_server_started_mid_bucket_reports_the_time_it_covered() -> None:
    clock = Clock(1007.0)
    history = MetricsHistory(bucket_seconds=10, clock=clock)
    clock.now = 1008.5
    (bucket,) = history.series()["buckets"]  # type: ignore[misc]
    assert bucket["start"] == 1000 and bucket["seconds"] == 1.5


def test_metrics_count_client_and_server_errors_apart_and_the_error_rate_is_5xx() -> None:
    metrics = ServingMetrics()
    for status in (200, 200, 200, 200, 200, 200, 422, 404, 503, 200):
        metrics.observe("champion", status, 0.003)
    metrics.observe("none", 400, 0.001)
    text = metrics.render()
    assert 'mlops_lab_errors_total{variant="champion",class="4xx"} 2' in text
    assert 'mlops_lab_errors_total{variant="champion",class="5xx"} 1' in text
    assert 'mlops_lab_errors_total{variant="none",class="4xx"} 1' in text
    assert 'mlops_lab_errors_total{variant="none",class="5xx"} 0' in text
    summary = summarize_metrics(text)
    assert summary["errors"]["champion"] == {
        "requests": 10,
        "client_errors": 2,
        "server_errors": 1,
        "error_rate": 0.1,  # the 5xx only
        "client_error_rate": 0.2,
    }
    assert summary["latency"]["champion"] == {"p50_ms": 5.0, "p99_ms": 5.0}
    assert metrics.snapshot()["errors"] == {
        "champion/4xx": 2,
        "champion/5xx": 1,
        "none/4xx": 1,
        "none/5xx": 0,
    }


def test_a_real_server_counts_4xx_and_5xx_against_the_variant_that_answered(
    demo: Workspace,
) -> None:
    from mlops_lab.features.online import RedisOnlineStore

    predictor = Predictor(demo, "churn@champion", challenger="churn@champion", split=0.5)
    app = make_app(predictor)
    customers = [f"c{i:05d}" for i in range(1, 41)]
    variants = {c: predictor.variant({"customer_id": c}) for c in customers}
    assert set(variants.values()) == {"champion", "challenger"}
    with listening(app) as base:
        for customer in customers:  # 40 answered
            body = {
                "entity": {"customer_id": customer},
                "features": offline_features(demo, customer),
            }
            assert _call(base + "/predict", body)[0] == 200
        # The client's errors: features missing (routed, so its variant's), a body that is
        # not JSON (refused before routing: `none`).
        c1, c2 = customers[0], customers[1]
        assert _call(base + "/predict", {"entity": {"customer_id": c1}})[0] == 422
        assert _call(base + "/predict", b"{not json")[0] == 400
        # The server's error: the online store is unreachable.
        inputs = predictor.inputs_of(predictor.slots["champion"].current)
        assert inputs.reader is not None
        working = inputs.reader.store
        inputs.reader.store = RedisOnlineStore("redis://127.0.0.1:1/0")  # nothing listens
        try:
            body = {"entity": {"customer_id": c2}, "features": offline_features(demo, c2)}
            assert _call(base + "/predict", body)[0] == 503
        finally:
            inputs.reader.store = working
        text = _call(base + "/metrics")[1]
        history = _call(base + "/metrics/history")[1]

    summary = summarize_metrics(text)
    errors = summary["errors"]
    answered = {
        v: sum(1 for c in customers if variants[c] == v) for v in ("champion", "challenger")
    }
    for variant in ("champion", "challenger"):
        client = int(variants[c1] == variant)
        server = int(variants[c2] == variant)
        total = answered[variant] + client + server
        assert errors[variant] == {
            "requests": total,
            "client_errors": client,
            "server_errors": server,
            "error_rate": pytest.approx(server / total),
            "client_error_rate": pytest.approx(client / total),
        }
        assert f'mlops_lab_errors_total{{variant="{variant}",class="5xx"}} {server}' in text
    assert errors["none"]["client_errors"] == 1 and errors["none"]["server_errors"] == 0

    # The same requests, in the history's buckets (a test takes a bucket or two).
    totals: dict[str, dict[str, int]] = {}
    for bucket in history["buckets"]:
        for variant, counts in bucket["variants"].items():
            into = totals.setdefault(variant, {"requests": 0, "4xx": 0, "5xx": 0})
            into["requests"] += counts["requests"]
            into["4xx"] += counts["client_errors"]
            into["5xx"] += counts["server_errors"]
    for variant in ("champion", "challenger", "none"):
        assert totals[variant] == {
            "requests": errors[variant]["requests"],
            "4xx": errors[variant]["client_errors"],
            "5xx": errors[variant]["server_errors"],
        }
    assert history["buckets"][-1]["start"] <= history["now"]
