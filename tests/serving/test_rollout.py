"""Progressive rollout against a real `mlops-lab serve` with a champion and a challenger:
one that completes (the alias moves), ones that roll back on their own (errors, latency),
pause / resume / abort; and the step analysis' rules on given numbers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab.errors import ConflictError, InvalidInputError, NotFoundError
from mlops_lab.lifecycle.timeline import loops, timeline
from mlops_lab.models import alias_history, promote
from mlops_lab.models.lookup import get_model_version
from mlops_lab.serving.rollout import RolloutController
from mlops_lab.serving.rollout_analysis import RolloutBounds, ab_on_outcomes, decide
from mlops_lab.serving.rollout_plan import control_rollout, parse_steps, plan_rollout
from mlops_lab.serving.rollout_store import get_rollout
from mlops_lab.workspace import Workspace
from tests.cli_runner import run_cli
from tests.paths import REPO
from tests.serving.inprocess import call

PROJECT = """\
project:
  problem: Roll models out safely
  objective: {metric: roc_auc, min: 0.5}
  serving: {error_rate: 0.05, window: 60s}
"""
FAST = "--steps", "20,50,100", "--interval", "1s", "--min-requests", "10"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Model ``m``: v1 (champion) and v2 answer at once; v3 fails on rows with x < 3
    (30% of the load below); v4 answers in 25 ms."""
    from mlops_lab.models import register_model
    from mlops_lab.workspace import init_workspace
    from tests.serving.sleepy import FlakyModel, SleepyModel

    made = init_workspace(tmp_path_factory.mktemp("rollout") / "ws", name="ro", project=PROJECT)
    sample = pd.DataFrame({"x": [1.0, 2.0]})
    for model in (SleepyModel(0.0), SleepyModel(0.0), FlakyModel(3.0), SleepyModel(0.025)):
        register_model(made, "m", model, X_sample=sample, trusted=True)
    return made


def _aliases(ws: Workspace, champion: int, challenger: int) -> None:
    for alias, version in (("champion", champion), ("challenger", challenger)):
        promote(ws, "m", version, alias=alias, reason="test setup", by="test")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(ws: Workspace, clients: int = 2) -> Iterator[str]:
    """`mlops-lab serve m@champion --challenger m@challenger` in a child process, and
    ``clients`` threads sending it bounded requests one after the other (x = 0..9 in
    turn), a few hundred a second in all."""
    port = _free_port()
    command = [sys.executable, "-m", "mlops_lab", "--workspace", str(ws.root), "serve"]
    command += ["m@champion", "--challenger", "m@challenger", "--port", str(port)]
    command += ["--drain-seconds", "1", "--poll", "0.2"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Its log goes to a file: a pipe nobody reads fills up with 500s' tracebacks and
    # blocks the server.
    log = open(ws.root / f"serve-{port}.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (ws.root / f"serve-{port}.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if call(base + "/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)

        def load() -> None:
            i = 0
            while not stop.is_set():
                call(base + "/predict", {"entity": {"id": i}, "features": {"x": float(i % 10)}})
                i += 1
                time.sleep(0.005)

        threads = [threading.Thread(target=load, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        yield base
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _served(base: str) -> dict[str, Any]:
    status, metadata = call(base + "/metadata")
    assert status == 200
    return dict(metadata)


def test_a_healthy_challenger_rolls_out_and_becomes_the_champion(ws: Workspace) -> None:
    _aliases(ws, champion=1, challenger=2)
    with _serving(ws) as base:
        where = ("--workspace", str(ws.root), "rollout")
        code, out, err = run_cli(*where, "m", "--to", "challenger", *FAST)
        assert code == 0, out + err
        assert "step 1/3 (20%): continue: healthy" in out
        assert "m@champion moved from v1 to v2" in out
        metadata = _served(base)
        assert metadata["served"]["champion"]["version"] == 2
        assert metadata["split"] == 0.0  # the new champion takes all traffic
    assert get_model_version(ws, "m@champion").version == 2
    code, out, _ = run_cli(*where, "status", "--json")
    (latest, *_) = json.loads(out)["rollouts"]
    found = get_rollout(ws, latest["id"])
    assert found["state"] == "completed" and (found["from_version"], found["to_version"]) == (1, 2)
    decisions = [d["decision"] for d in found["decisions"]]
    assert decisions == ["continue", "continue", "continue", "promote"]
    for step, decision in enumerate(found["decisions"][:3]):
        assert decision["split"] == [0.2, 0.5, 1.0][step]
        analysis = decision["analysis"]
        challenger = analysis["variants"]["challenger"]
        assert challenger["requests"] >= 10 and challenger["error_rate"] == 0.0
        assert analysis["ab"]["status"] == "no outcomes yet"
        assert analysis["drift"]["status"] == "measured"
        assert analysis["drift"]["psi"] == pytest.approx(0.0, abs=1e-6)
        assert {c["metric"] for c in analysis["checks"]} >= {"requests", "error_rate"}
    # At 100% the champion had no traffic: no ratio, only the absolute bounds.
    last = found["decisions"][2]["analysis"]
    assert last["variants"]["champion"]["requests"] == 0
    assert next(c for c in last["checks"] if c["metric"] == "p99_ratio")["verdict"] == "not judged"
    moved = [h for h in alias_history(ws, "m") if h["alias"] == "champion"][-1]
    assert (moved["from_version"], moved["to_version"]) == (1, 2)
    assert latest["id"] in moved["reason"] and moved["changed_by"] == "mlops-lab rollout"
    code, out, _ = run_cli(*where, "status", latest["id"])
    assert code == 0 and "completed" in out and "promote" in out
    # The Lifecycle timeline tells it as CD events: the rollout, then each decision.
    events = [e for e in timeline(ws) if e["kind"].startswith("rollout")]
    assert sorted(e["title"] for e in events) == [
        "rollout m@champion -> challenger (version 2) in steps 20, 50, 100%",
        "rollout m@champion at 100%: continue",
        "rollout m@champion at 20%: continue",
        "rollout m@champion at 50%: continue",
        "rollout m@champion: promote",
    ]
    assert {e["activity"] for e in events} == {"CD"}
    assert events[0]["link"] == {"kind": "deployment", "id": found["deployment_id"]}
    assert next(loop for loop in loops(ws) if loop["id"] == "rolled_back")["fired"] == 0


def test_a_challenger_that_errors_rolls_back_on_its_own(ws: Workspace) -> None:
    _aliases(ws, champion=1, challenger=3)
    with _serving(ws) as base:
        code, out, _ = run_cli(
            "--workspace", str(ws.root), "rollout", "m", "--to", "challenger", *FAST, "--json"
        )
        assert code == 1
        ended = json.loads(out[out.index("\n{") :])
        assert "state" in ended, out
        assert ended["state"] == "rolled_back" and ended["split"] == 0.0
        assert "error rate" in ended["reason"] and "> 5.00%" in ended["reason"]
        assert _served(base)["split"] == 0.0
    assert get_model_version(ws, "m@champion").version == 1  # the alias stayed
    (decision,) = get_rollout(ws, ended["id"])["decisions"]
    assert decision["decision"] == "rollback" and decision["step_index"] == 0
    challenger = decision["analysis"]["variants"]["challenger"]
    assert 0.15 < challenger["error_rate"] < 0.5  # x < 3: 30% of the requests
    rolled_back = next(loop for loop in loops(ws) if loop["id"] == "rolled_back")
    assert (rolled_back["from"], rolled_back["to"], rolled_back["fired"]) == ("deploy", "train", 1)
    check = next(c for c in decision["analysis"]["checks"] if c["metric"] == "error_rate")
    assert check["verdict"] == "breach" and check["bound"] == 0.05
    assert (
        json.loads(
            ws.catalog.read_value("SELECT bounds FROM rollouts WHERE id = ?", [ended["id"]])
        )["sources"]["max_error_rate"]
        == "project"
    )


def test_a_much_slower_challenger_rolls_back_on_its_p99(ws: Workspace) -> None:
    _aliases(ws, champion=1, challenger=4)
    # One client: its requests never wait behind another on the server's loop, so the
    # champion's latency stays its own. A p99 is judged on 50 requests or more: steps
    # long enough for both variants.
    with _serving(ws, clients=1):
        code, out, _ = run_cli(
            "--workspace",
            str(ws.root),
            "rollout",
            "m",
            "--to",
            "challenger",
            "--steps",
            "50,100",
            "--interval",
            "3s",
        )
    assert code == 1, out
    assert "rollback: challenger p99" in out and "x the champion's" in out
    assert get_model_version(ws, "m@champion").version == 1


def _state(ws: Workspace, rollout_id: str, want: str) -> float:
    """Seconds until the rollout reaches state ``want`` (fails after 5 s)."""
    start = time.monotonic()
    while get_rollout(ws, rollout_id)["state"] != want:
        assert time.monotonic() - start < 5, get_rollout(ws, rollout_id)
        time.sleep(0.05)
    return time.monotonic() - start


def test_pause_resume_and_abort(ws: Workspace) -> None:
    _aliases(ws, champion=1, challenger=2)
    with _serving(ws) as base:
        rollout_id = plan_rollout(
            ws,
            "m",
            to_alias="challenger",
            steps=[0.3, 1.0],
            interval_s=30.0,
            bounds=RolloutBounds(min_requests=10),
        )
        with pytest.raises(ConflictError, match="abort it first"):
            plan_rollout(ws, "m", to_alias="challenger", steps=[1.0], interval_s=1.0)
        ended: list[dict[str, Any]] = []
        controller = RolloutController(ws, rollout_id)
        thread = threading.Thread(target=lambda: ended.append(controller.run()))
        thread.start()
        _state(ws, rollout_id, "running")
        while _served(base)["split"] != 0.3:
            time.sleep(0.05)
        code, out, _ = run_cli("--workspace", str(ws.root), "rollout", "pause", rollout_id)
        assert code == 0 and "pause requested" in out
        assert _state(ws, rollout_id, "paused") < 1.5
        assert _served(base)["split"] == 0.3  # a pause keeps the split
        with pytest.raises(ConflictError, match="already paused"):
            control_rollout(ws, rollout_id, "pause")
        control_rollout(ws, rollout_id, "resume", by="tester")
        assert _state(ws, rollout_id, "running") < 1.5
        control_rollout(ws, rollout_id, "abort", by="tester")
        thread.join(10)
        assert ended[0]["state"] == "aborted" and ended[0]["reason"] == "aborted by tester"
        assert _served(base)["split"] == 0.0
    assert [d["decision"] for d in ended[0]["decisions"]] == ["pause", "resume", "abort"]
    assert get_model_version(ws, "m@champion").version == 1
    with pytest.raises(ConflictError, match="is aborted: nothing to resume"):
        control_rollout(ws, rollout_id, "resume")


def test_bad_input_is_refused_before_anything_moves(ws: Workspace) -> None:
    for text, message in (
        ("5,25,50", "end at 100"),
        ("50,25,100", "increase"),
        ("0,100", r"in \(0, 100\]"),
        ("five", "percentages separated by commas"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            parse_steps(text)
    with pytest.raises(NotFoundError, match="--challenger m@challenger"):
        plan_rollout(ws, "m", to_alias="challenger")
    code, _, err = run_cli(
        "--workspace", str(ws.root), "rollout", "m", "--to", "x", "--interval", "soon"
    )
    assert code == 2 and "'soon' is not a duration" in err
    code, _, err = run_cli("--workspace", str(ws.root), "rollout", "abort", "ro404")
    assert code == 1 and "No rollout 'ro404'" in err


BOUNDS = RolloutBounds(min_requests=20, max_error_rate=0.01, max_p99_ms=50.0)


def _numbers(requests: int, errors: int = 0, p99: float | None = 4.0) -> dict[str, Any]:
    return {
        "requests": requests,
        "server_errors": errors,
        "error_rate": errors / requests if requests else None,
        "p99_ms": p99,
        "p99_beyond_buckets": False,
    }


@pytest.mark.parametrize(
    ("challenger", "champion", "decision", "words"),
    [
        (_numbers(5), _numbers(100), "hold", "not enough traffic: 5 challenger request(s)"),
        (_numbers(100, 5), _numbers(100), "rollback", "error rate 5.00% > 1.00%"),
        (_numbers(100, 5), _numbers(100, 4), "hold", "both variants over the error bound"),
        (_numbers(100, p99=80.0), _numbers(100), "rollback", "p99 80.0 ms > 50 ms"),
        (_numbers(100, p99=30.0), _numbers(100, p99=10.0), "rollback", "3.0x the champion's"),
        (_numbers(100, p99=7.0), _numbers(100, p99=3.0), "continue", "healthy"),  # within slack
        (_numbers(100), None, "continue", "(champion -)"),
        (_numbers(49, p99=80.0), _numbers(100), "continue", "p99 not judged"),  # too few
    ],
)
def test_the_step_rules(
    challenger: dict[str, Any], champion: dict[str, Any] | None, decision: str, words: str
) -> None:
    verdict = decide(
        challenger=challenger,
        champion=champion,
        drift={},
        ab={"status": "no outcomes yet"},
        bounds=BOUNDS,
    )
    assert verdict["decision"] == decision and words in verdict["reason"]


def test_the_ab_test_on_outcomes_rolls_back_a_worse_challenger() -> None:
    # The champion is right 90% of the time, the challenger 50%.
    joined = pd.DataFrame(
        {
            "variant": ["champion"] * 100 + ["challenger"] * 100,
            "prediction": [0.9] * 200,
            "churned": [1] * 90 + [0] * 10 + [1] * 50 + [0] * 50,
        }
    )
    ab = ab_on_outcomes(joined, "churned", min_rows=20)
    assert ab["status"] == "measured" and ab["difference"] == pytest.approx(-0.4)
    assert ab["worse"] and ab["test"] == "two-proportion z"
    verdict = decide(
        challenger=_numbers(100), champion=_numbers(100), drift={}, ab=ab, bounds=BOUNDS
    )
    assert verdict["decision"] == "rollback" and "A/B on outcomes" in verdict["reason"]
    assert ab_on_outcomes(joined.iloc[:0], "churned", min_rows=20)["status"] == "no outcomes yet"
    few = ab_on_outcomes(joined.iloc[90:120], "churned", min_rows=20)
    assert few["status"] == "not enough outcomes"


def test_bounds_come_from_the_project_and_arguments_win(ws: Workspace) -> None:
    project = ws.config.project
    bounds = RolloutBounds.resolve(project)
    assert bounds.max_error_rate == 0.05 and bounds.sources["max_error_rate"] == "project"
    assert bounds.max_p99_ms is None and bounds.sources["max_p99_ms"] == "default"
    given = RolloutBounds.resolve(project, max_error_rate=0.2, max_holds=1)
    assert given.max_error_rate == 0.2 and given.sources["max_error_rate"] == "argument"
    assert given.max_holds == 1


async def _api(fetch: Any, *parts: str, body: dict[str, Any] | None = None) -> Any:
    kwargs: dict[str, Any] = (
        {"method": "POST", "body": json.dumps(body)} if body is not None else {}
    )
    response = await fetch("mlops-lab", "api", *parts, **kwargs)
    return response.code, json.loads(response.body)


async def _until(fetch: Any, rollout_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        _, found = await _api(fetch, "rollouts", rollout_id)
        if found["state"] == state:
            return dict(found)
        assert time.monotonic() < deadline, (state, found["state"], found["decisions"])
        await asyncio.sleep(0.1)


async def test_the_rest_api_starts_pauses_resumes_and_shows_a_rollout(
    ws: Workspace, jp_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_LAB_HOME", str(ws.root))
    _aliases(ws, champion=1, challenger=2)
    with _serving(ws) as base:
        deployment = ws.catalog.read_value(
            "SELECT id FROM deployments WHERE url = ? AND status = 'running'", [base]
        )
        body = {"steps": [50, 100], "interval_s": 1.5, "min_requests": 10}
        code, started = await _api(jp_fetch, "deployments", deployment, "rollouts", body=body)
        assert code == 202
        rollout_id = started["rollout_id"]
        await _until(jp_fetch, rollout_id, "running")
        code, asked = await _api(jp_fetch, "rollouts", rollout_id, "pause", body={})
        assert code == 200 and asked["requested"] == "pause"
        await _until(jp_fetch, rollout_id, "paused")
        await _api(jp_fetch, "rollouts", rollout_id, "resume", body={})
        ended = await _until(jp_fetch, rollout_id, "completed")
        assert _served(base)["served"]["champion"]["version"] == 2
    decisions = [d["decision"] for d in ended["decisions"]]
    assert decisions == ["pause", "resume", "continue", "continue", "promote"]
    assert ended["bounds"]["sources"]["min_requests"] == "argument"
    assert ended["bounds"]["sources"]["max_error_rate"] == "project"
    _, listed = await _api(jp_fetch, "deployments", deployment, "rollouts")
    assert listed["current"]["id"] == rollout_id and listed["current"]["decisions"]
    assert (ws.state_dir / "rollouts" / f"{rollout_id}.log").read_text().count("continue") == 2
    with pytest.raises(HTTPClientError) as refused:
        await _api(jp_fetch, "rollouts", rollout_id, "abort", body={})
    assert refused.value.code == 409
