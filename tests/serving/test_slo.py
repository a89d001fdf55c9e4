"""The serving SLO: window arithmetic on /metrics texts, and a real slow `mlops-lab serve`."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest

from mlops_lab.errors import InvalidInputError
from mlops_lab.project import ServingSLO
from mlops_lab.serving.metrics import ServingMetrics
from mlops_lab.serving.slo import (
    ALL,
    Scrape,
    SloBounds,
    SloWatch,
    judge,
    parse_metrics,
    quantile_ms,
    window_stats,
)
from mlops_lab.serving.slo_watch import slo_bounds
from mlops_lab.workspace import Workspace
from tests.cli_runner import run_cli
from tests.paths import REPO
from tests.serving.inprocess import call, listening


def _observe(metrics: ServingMetrics, variant: str, n: int, status: int, seconds: float) -> None:
    for _ in range(n):
        metrics.observe(variant, status, seconds)


def _two_scrapes() -> tuple[Scrape, Scrape]:
    """Before: 100 fast champion requests. In the window: the champion answers 85 in 4 ms,
    3 404s and 2 500s in 4 ms and 10 in 80 ms; the challenger 30 in 2 ms."""
    metrics = ServingMetrics()
    _observe(metrics, "champion", 100, 200, 0.004)
    before = parse_metrics(metrics.render({"start_time_seconds": 1000.0}), at=2000.0)
    _observe(metrics, "champion", 85, 200, 0.004)
    _observe(metrics, "champion", 3, 404, 0.004)
    _observe(metrics, "champion", 2, 500, 0.004)
    _observe(metrics, "champion", 10, 200, 0.08)
    _observe(metrics, "challenger", 30, 200, 0.002)
    after = parse_metrics(metrics.render({"start_time_seconds": 1000.0}), at=2060.0)
    return before, after


def test_the_window_is_the_difference_of_two_scrapes() -> None:
    before, after = _two_scrapes()
    assert after.started == 1000.0
    stats = window_stats(before, after)
    champion, challenger, together = stats["champion"], stats["challenger"], stats[ALL]
    assert (champion["requests"], champion["server_errors"], champion["client_errors"]) == (
        100,
        2,
        3,
    )
    assert champion["error_rate"] == 0.02 and champion["client_error_rate"] == 0.03
    # rank 99 of 100: 90 requests by 50 ms, the other 10 in (50, 100] ms -> 50 + 50 * 9/10.
    assert champion["p99_ms"] == pytest.approx(95.0)
    # rank 29.7 of 30, all in (1, 2.5] ms -> 1 + 1.5 * 29.7/30.
    assert challenger["p99_ms"] == pytest.approx(2.485)
    assert challenger["error_rate"] == 0.0
    # rank 128.7 of 130: 120 by 50 ms -> 50 + 50 * 8.7/10.
    assert together["requests"] == 130 and together["p99_ms"] == pytest.approx(93.5)
    assert together["error_rate"] == pytest.approx(2 / 130)
    # The counters since the start would give another p99: rank 198 of 200 -> 90 ms.
    assert window_stats(Scrape.zero(1000.0), before)[ALL]["requests"] == 100
    assert window_stats(Scrape.zero(1000.0), after)["champion"]["p99_ms"] == pytest.approx(90.0)


def test_a_p99_beyond_the_last_bucket_is_a_lower_bound() -> None:
    buckets = {0.5: 90, 1.0: 90, math.inf: 100}
    assert quantile_ms(buckets) == (1000.0, True)
    assert quantile_ms({1.0: 0, math.inf: 0}) == (None, False)
    stats = {ALL: {"requests": 100, "p99_ms": 1000.0, "p99_beyond_buckets": True}}
    low = SloBounds(p99_ms=500, error_rate=None, window_s=60, sources={"p99_ms": "argument"})
    high = SloBounds(p99_ms=2000, error_rate=None, window_s=60, sources={"p99_ms": "project"})
    assert judge(stats, low)[0]["verdict"] == "breach"
    assert judge(stats, high)[0]["verdict"] == "unknown"


def test_judging_names_the_rule_and_the_variants_that_breach() -> None:
    stats = window_stats(*_two_scrapes())
    bounds = SloBounds.resolve(ServingSLO(p99_ms=50, error_rate=0.01, window_s=60))
    assert bounds is not None
    p99, errors = judge(stats, bounds)
    assert p99["rule"] == "project.serving.p99_ms" and p99["bound_from"] == "project"
    assert p99["verdict"] == "breach" and p99["breached_in"] == ["champion", ALL]
    assert p99["value"] == pytest.approx(93.5)
    assert p99["by_scope"]["challenger"] == "ok"
    assert errors["rule"] == "project.serving.error_rate"
    assert errors["breached_in"] == ["champion", ALL]
    # Fewer requests than the minimum judge nothing: the challenger's 30 < 50.
    p99, _ = judge(stats, bounds, min_requests=50)
    assert p99["by_scope"]["challenger"] == "not enough traffic"
    p99, errors = judge(stats, bounds, min_requests=200)
    assert p99["verdict"] == errors["verdict"] == "not enough traffic"
    # Explicit bounds win over the project's, and say so.
    loose = SloBounds.resolve(
        ServingSLO(p99_ms=50, error_rate=0.01, window_s=60), p99_ms=100, error_rate=0.05
    )
    assert loose is not None and loose.sources == {"p99_ms": "argument", "error_rate": "argument"}
    assert [v["verdict"] for v in judge(stats, loose)] == ["ok", "ok"]


def _scrape(at: float, started: float, requests: int) -> Scrape:
    metrics = ServingMetrics()
    _observe(metrics, "champion", requests, 200, 0.004)
    return parse_metrics(metrics.render({"start_time_seconds": started}), at=at)


def test_the_sliding_window_baseline() -> None:
    watch = SloWatch(60)
    watch.add(_scrape(0, -1000, 10))
    assert watch.window() is None  # the server is older than the window: two scrapes needed
    watch.add(_scrape(10, -1000, 20))
    pair = watch.window()
    assert pair is not None and (pair[0].at, pair[1].at) == (0, 10)  # younger than the window
    for at, n in ((30, 30), (70, 40), (100, 50)):
        watch.add(_scrape(at, -1000, n))
    pair = watch.window()
    assert pair is not None and (pair[0].at, pair[1].at) == (30, 100)  # at least 60 s older
    assert window_stats(*pair)[ALL]["requests"] == 20
    assert [s.at for s in watch.scrapes] == [30, 70, 100]
    # A server started inside the window: everything since its start, from one scrape.
    young = SloWatch(60)
    young.add(_scrape(100, 95, 7))
    pair = young.window()
    assert pair is not None and pair[0].is_start and window_stats(*pair)[ALL]["requests"] == 7
    # A restart between two scrapes: its counters began again.
    watch.add(_scrape(200, 190, 3))
    assert [s.at for s in watch.scrapes] == [200]
    pair = watch.window()
    assert pair is not None and window_stats(*pair)[ALL]["requests"] == 3


def test_no_slo_and_no_bound_is_a_clear_error(workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match=r"add `serving: \{p99_ms: 20"):
        slo_bounds(workspace)
    assert slo_bounds(workspace, error_rate=0.05).sources == {"error_rate": "argument"}
    where = ("--workspace", str(workspace.root), "slo", "--once")
    code, _, err = run_cli(*where)
    assert code == 1 and "add `serving: {p99_ms: 20, error_rate: 0.01" in err
    code, out, _ = run_cli(*where, "--p99-ms", "20", "--json")
    assert code == 1 and "No running deployment is recorded" in json.loads(out)["error"]["message"]
    code, _, err = run_cli(*where, "--p99-ms", "20", "--deployment", "dp404")
    assert code == 1 and "No deployment 'dp404'" in err
    code, _, err = run_cli(*where, "--p99-ms", "20", "--window", "soon")
    assert code == 2 and "'soon' is not a duration" in err
    assert not (workspace.state_dir / "slo").exists()  # nothing checked, nothing kept


PROJECT = """\
project:
  problem: Answer fast enough
  objective: {metric: roc_auc, min: 0.5}
  serving: {p99_ms: 20, error_rate: 0.01, window: 60s}
"""


@pytest.fixture(scope="module")
def sleepy(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A workspace whose project allows a 20 ms p99, with a model answering in 60 ms
    (``slow``) and one answering at once (``fast``), each the champion of its name."""
    from mlops_lab.models import promote, register_model
    from mlops_lab.workspace import init_workspace
    from tests.serving.sleepy import SleepyModel

    ws = init_workspace(tmp_path_factory.mktemp("slo") / "ws", name="slo", project=PROJECT)
    sample = pd.DataFrame({"x": [1.0, 2.0]})
    for name, seconds in (("slow", 0.06), ("fast", 0.0)):
        version = register_model(ws, name, SleepyModel(seconds), X_sample=sample, trusted=True)
        promote(ws, name, int(version.version or 0), alias="champion", reason="test", by="test")
    return ws


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(ws: Workspace, *refs: str) -> Iterator[list[str]]:
    """`mlops-lab serve REF` for each ref, in child processes; their URLs once /health
    answers."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = []
    for ref in refs:
        port = _free_port()
        command = [sys.executable, "-m", "mlops_lab", "--workspace", str(ws.root)]
        command += ["serve", ref, "--port", str(port), "--no-log", "--drain-seconds", "1"]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
        )
        started.append((process, f"http://127.0.0.1:{port}"))
    try:
        deadline = time.monotonic() + 60
        for process, base in started:
            while True:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, f"{base} did not start"
                try:
                    if call(base + "/health")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            process.send_signal(signal.SIGTERM)
        for process, _ in started:
            process.communicate(timeout=30)


def _predict(base: str, n: int) -> None:
    for i in range(n):
        status, _ = call(base + "/predict", {"entity": {"id": i}, "features": {"x": 1.0}})
        assert status == 200


def test_a_slow_model_server_breaches_the_p99_and_opens_one_alert(sleepy: Workspace) -> None:
    from mlops_lab.evaluation import list_alerts
    from mlops_lab.serving.slo_watch import latest_slo_checks

    with _serving(sleepy, "slow@champion", "fast@champion") as (slow, fast):
        _predict(slow, 40)
        _predict(fast, 40)
        deployment = sleepy.catalog.read_value(
            "SELECT id FROM deployments WHERE url = ? AND status = 'running'", [slow]
        )
        where = ("--workspace", str(sleepy.root), "slo", "--once", "--json")
        # The project's SLO (p99 <= 20 ms): the servers started inside the 60 s window, so
        # one scrape counts all their requests.
        code, out, _ = run_cli(*where, "--deployment", deployment)
        assert code == 1, out
        (check,) = json.loads(out)["checks"]
        assert check["status"] == "breach" and check["since"] == "server start"
        assert check["stats"]["all"]["requests"] == 40
        p99 = next(v for v in check["verdicts"] if v["metric"] == "p99_ms")
        assert p99["value"] > 50 and p99["breached_in"] == ["champion", "all"]
        errors = next(v for v in check["verdicts"] if v["metric"] == "error_rate")
        assert errors["verdict"] == "ok" and errors["value"] == 0.0
        # Checked again, as text: the same alert, seen twice.
        code, out, _ = run_cli(*where[:-1], "--deployment", deployment)
        assert (
            code == 1
            and "40 requests in" in out
            and "(<= 20): breach;" in out
            and "; alert a" in out
        )
        # The fast server under a loose SLO (explicit bounds win): no alert.
        code, out, _ = run_cli(*where, "--url", fast, "--p99-ms", "500", "--error-rate", "0.5")
        assert code == 0, out
        (check,) = json.loads(out)["checks"]
        assert check["status"] == "ok" and check["alerts"] == []
        assert [v["bound_from"] for v in check["verdicts"]] == ["argument", "argument"]
    (alert,) = [
        a
        for a in list_alerts(sleepy, status="open")
        if a["kind"] == "slo" and a["data"]["url"] in (slow, fast)
    ]
    assert alert["occurrences"] == 2 and alert["pipeline"] == "serving"  # no run trained it
    data = alert["data"]
    assert data["rule"] == "project.serving.p99_ms" and data["bound_from"] == "project"
    assert data["value"] > data["bound"] == 20 and data["requests"] == 40
    assert (data["deployment_id"], data["url"], data["ref"]) == (deployment, slow, "slow@champion")
    assert data["window_s"] == 60.0 and (data["model"], data["version"]) == ("slow", 1)
    assert "project.serving.p99_ms" in alert["message"]
    latest = {c["url"]: c for c in latest_slo_checks(sleepy)}
    assert latest[slow]["status"] == "breach" and latest[slow]["alerts"] == [alert["id"]]
    assert latest[fast]["status"] == "ok"


class _Stop(Exception):
    pass


def test_the_watch_judges_each_window_and_updates_one_alert(sleepy: Workspace) -> None:
    """Without --once: a check per interval; the second breach updates the first alert."""
    from mlops_lab.serving.app import make_app
    from mlops_lab.serving.predictor import Predictor
    from mlops_lab.serving.slo_watch import SloChecker, slo_bounds, slo_targets

    with listening(make_app(Predictor(sleepy, "slow@champion"))) as base:
        checker = SloChecker(sleepy, slo_targets(sleepy, url=base + "/"), slo_bounds(sleepy))
        reports: list[dict[str, Any]] = []
        pauses = iter([25, 25])

        def pause(_seconds: float) -> None:
            try:
                _predict(base, next(pauses))
            except StopIteration:
                raise _Stop from None

        with pytest.raises(_Stop):
            checker.run(every_s=10, once=False, report=reports.append, sleep=pause)
    assert [r["stats"]["all"]["requests"] for r in reports] == [0, 25, 50]
    assert [r["status"] for r in reports] == ["not enough traffic", "breach", "breach"]
    assert reports[1]["alerts"] == reports[2]["alerts"] and reports[0]["alerts"] == []
    (alert_id,) = reports[1]["alerts"]
    occurrences = sleepy.catalog.read_value(
        "SELECT occurrences FROM alerts WHERE id = ?", [alert_id]
    )
    assert occurrences == 2
    assert reports[2]["deployment_id"] is None and reports[2]["url"] == base  # not recorded
