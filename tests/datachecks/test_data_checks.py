"""Data checks declared in mlops_lab.yaml: evaluated on every new dataset version."""

from __future__ import annotations

import json
import textwrap
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops_lab import Workspace
from mlops_lab.artifacts import dataframe_to_parquet
from mlops_lab.checkspec import parse_dataset_checks
from mlops_lab.datachecks import DataCheckWarning, checks_for_run, version_checks
from mlops_lab.datachecks.evaluate import evaluate_checks
from mlops_lab.datasets import check_dataset, list_dataset_versions, save_dataset
from mlops_lab.errors import WorkspaceConfigError
from mlops_lab.features.stream_apply import flush
from mlops_lab.lifecycle.state import lifecycle_state
from mlops_lab.pipelines import Runner, load_pipeline
from mlops_lab.workspace import init_workspace
from tests.cli_runner import run_cli
from tests.contexts import interactive
from tests.notebooks import SAVE_NUMBERS, SUM_NUMBERS, TWO_STAGES, write_notebook
from tests.streaming.support import VIEW, make_events, make_view

NOW = pd.Timestamp.now(tz="UTC").floor("s")

CUSTOMERS = """
datasets:
  customers:
    checks:
      columns:
        customer_id: {dtype: string, nulls: false, unique: true, pattern: "C[0-9]+"}
        tenure: {dtype: integer, min: 0, max: 120}
        plan: {allowed: [basic, pro]}
        churned: {dtype: integer, allowed: [0, 1]}
        score: {dtype: float, nulls: false}
      unique: [customer_id, plan]
      rows: {min: 3, max: 1000}
      freshness: {column: event_at, max_age: 2d}
"""


def _configure(workspace: Workspace, text: str) -> Workspace:
    head = f"version: 1\nname: {workspace.name}\n"
    (workspace.root / "mlops_lab.yaml").write_text(head + textwrap.dedent(text))
    return Workspace(workspace.root)


def _customers(**changes: list[Any]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "tenure": [1, 24, 120, 0],
            "plan": ["basic", "pro", "pro", "basic"],
            "churned": [0, 1, 0, 0],
            "score": [0.1, 0.5, 0.9, 0.3],
            "event_at": [NOW - pd.Timedelta(hours=h) for h in (30, 20, 10, 1)],
        }
    )
    for column, values in changes.items():
        frame[column] = values
    return frame


def _by_name(checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in checks}


def test_every_kind_of_check_passes_on_good_data(workspace: Workspace) -> None:
    ws = _configure(workspace, CUSTOMERS)
    saved = save_dataset(ws, "customers", _customers())
    result = version_checks(ws, "customers", saved.version or 0)
    assert result["status"] == "passed" and result["failed"] == 0
    assert list(_by_name(result["checks"])) == [
        "columns.customer_id.dtype",
        "columns.customer_id.nulls",
        "columns.customer_id.unique",
        "columns.customer_id.pattern",
        "columns.tenure.dtype",
        "columns.tenure.min",
        "columns.tenure.max",
        "columns.plan.allowed",
        "columns.churned.dtype",
        "columns.churned.allowed",
        "columns.score.dtype",
        "columns.score.nulls",
        "unique",
        "rows",
        "freshness",
    ]
    checks = _by_name(result["checks"])
    assert checks["columns.tenure.min"]["observed"] == 0
    assert checks["columns.tenure.max"]["observed"] == 120  # a bound is inclusive
    assert checks["rows"]["observed"] == 4
    assert checks["columns.tenure.dtype"]["observed"] == "BIGINT"
    assert checks["freshness"]["observed"]["latest"] == (NOW - pd.Timedelta(hours=1)).isoformat()


def test_each_kind_of_check_fails_with_its_rows(workspace: Workspace) -> None:
    ws = _configure(workspace, CUSTOMERS)
    bad = _customers(
        customer_id=["C1", "C1", None, "X4"],
        tenure=[-3, 24, 121, 0],
        plan=["basic", "gold", "pro", "basic"],
        churned=[0, 1, 2, 0],
        score=[0.1, float("nan"), 0.9, None],
        event_at=[NOW - pd.Timedelta(days=d) for d in (9, 8, 7, 3)],
    )
    with pytest.warns(DataCheckWarning, match="customers@1; a pipeline stage saving it would fail"):
        save_dataset(ws, "customers", bad)
    result = version_checks(ws, "customers", 1)
    checks = _by_name(result["checks"])
    failed = {
        name: (c["failing_rows"], [r["row"] for r in c["sample"]])
        for name, c in checks.items()
        if not c["passed"]
    }
    assert failed == {
        "columns.customer_id.nulls": (1, [2]),
        "columns.customer_id.unique": (2, [0, 1]),
        "columns.customer_id.pattern": (1, [3]),
        "columns.tenure.min": (1, [0]),
        "columns.tenure.max": (1, [2]),
        "columns.plan.allowed": (1, [1]),
        "columns.churned.allowed": (1, [2]),
        "columns.score.nulls": (2, [1, 3]),  # NaN counts as missing
        "freshness": (None, []),
    }
    assert checks["columns.tenure.min"]["observed"] == -3
    assert checks["columns.plan.allowed"]["observed"] == ["gold"]
    assert checks["columns.tenure.max"]["sample"][0]["values"] | {"event_at": None} == {
        "customer_id": None,
        "tenure": 121,
        "plan": "pro",
        "churned": 2,
        "score": 0.9,
        "event_at": None,
    }
    assert checks["freshness"]["observed"]["age"] == "3.0d"
    assert "older than 2d" in checks["freshness"]["message"]
    assert result["status"] == "failed" and result["failed"] == 9
    # The Lifecycle view's data step shows the version as bad, naming what fails.
    [data] = [s for s in lifecycle_state(ws)["steps"] if s["id"] == "data"]
    assert data["status"] == "bad" and data["items"][0]["status"] == "bad"
    assert (
        " · 9 of 15 data check(s) fail: columns.customer_id.nulls, " in (data["items"][0]["detail"])
    )


def test_dtype_rows_strict_and_missing_columns_fail(workspace: Workspace) -> None:
    ws = _configure(
        workspace,
        """
        datasets:
          small:
            checks:
              strict: true
              columns:
                a: {dtype: integer}
                b: {}
                c: {min: 1}
                word: {min: 0}
              rows: {min: 10}
        """,
    )
    frame = pd.DataFrame({"a": [1.5, 2.0], "word": ["x", "y"], "extra": [1, 2]})
    with pytest.warns(DataCheckWarning, match="failed 6 of 6 data checks"):
        save_dataset(ws, "small", frame)
    checks = _by_name(version_checks(ws, "small", 1)["checks"])
    assert {n: c["passed"] for n, c in checks.items()} == {
        "columns.a.dtype": False,
        "columns.b.exists": False,
        "columns.c.min": False,
        "columns.word.min": False,
        "strict": False,
        "rows": False,
    }
    assert checks["columns.a.dtype"]["observed"] == "DOUBLE"
    assert checks["columns.c.min"]["message"].startswith("column 'c' is missing")
    assert checks["columns.word.min"]["message"] == "min needs a numeric column; word is VARCHAR"
    assert checks["strict"]["observed"] == ["extra"]
    assert checks["rows"]["message"] == "2 rows (not >= 10)"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "datasets: {customers: {checks: {columns: {tenure: {mn: 0}}}}}",
            "datasets.customers.checks.columns.tenure: unknown key(s) mn (known: dtype, nulls",
        ),
        (
            "datasets: {customers: {checks: {columns: {tenure: {dtype: int}}}}}",
            "datasets.customers.checks.columns.tenure.dtype: must be one of string, integer",
        ),
        (
            "datasets: {customers: {checks: {rows: {min: 5, max: 2}}}}",
            "datasets.customers.checks.rows: min 5 is above max 2",
        ),
        (
            "datasets: {customers: {checks: {freshness: {column: at, max_age: soon}}}}",
            "datasets.customers.checks.freshness.max_age: 'soon' is not a duration",
        ),
        (
            "datasets: {customers: {checks: {columns: {plan: {allowed: []}}}}}",
            "datasets.customers.checks.columns.plan.allowed: must be a non-empty list",
        ),
        ("datasets: {customers: {check: {}}}", "datasets.customers: unknown key(s) check"),
    ],
)
def test_declaration_errors_name_the_key(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "mlops_lab.yaml").write_text(f"version: 1\nname: t\n{text}\n")
    with pytest.raises(WorkspaceConfigError) as caught:
        Workspace(tmp_path)
    assert problem in caught.value.message


NUMBERS_CHECKED = (
    TWO_STAGES
    + """
datasets:
  numbers:
    checks:
      columns:
        x: {dtype: integer, max: 5}
      rows: {min: 1}
"""
)


def test_a_stage_whose_dataset_fails_a_check_fails_and_registers_nothing(
    workspace: Workspace,
) -> None:
    write_notebook(workspace.root / "make.ipynb", "n = 3", SAVE_NUMBERS)
    write_notebook(workspace.root / "total.ipynb", "factor = 2.0", SUM_NUMBERS)
    ws = _configure(workspace, NUMBERS_CHECKED)
    good = Runner(ws, load_pipeline(ws, None)).run()
    assert good.status == "succeeded"
    assert version_checks(ws, "numbers", 1)["status"] == "passed"
    passed = checks_for_run(ws, good.id)
    assert [(c["stage"], c["dataset"], c["version"], c["name"], c["passed"]) for c in passed] == [
        ("make", "numbers", 1, "columns.x.dtype", True),
        ("make", "numbers", 1, "columns.x.max", True),
        ("make", "numbers", 1, "rows", True),
    ]

    write_notebook(workspace.root / "make.ipynb", "n = 8", SAVE_NUMBERS)
    bad = Runner(ws, load_pipeline(ws, None)).run()
    assert bad.status == "failed"
    make, total = bad.stages
    assert (make.status, total.status) == ("failed", "skipped")
    assert make.error_name == "DataCheckError"
    error = make.error_value or ""
    assert "Dataset 'numbers' failed 1 of 3 data checks" in error
    assert "columns.x.max: x: 2 rows above max 5 (observed max 7)" in error
    assert 'row 6: {"x": 6}' in error and 'row 7: {"x": 7}' in error
    assert [v.version for v in list_dataset_versions(ws, "numbers")] == [1]  # nothing new
    assert bad.metrics == {}  # the stage's metric was not registered either
    refused = _by_name(checks_for_run(ws, bad.id))
    assert refused["columns.x.max"]["version"] is None
    assert refused["columns.x.max"]["failing_rows"] == 2
    assert [r["values"] for r in refused["columns.x.max"]["sample"]] == [{"x": 6}, {"x": 7}]


def test_cli_check_prints_each_check_and_exits_1_on_failure(workspace: Workspace) -> None:
    save_dataset(workspace, "customers", _customers(tenure=[1, 2, 300, 4]))  # no checks yet
    code, _, err = run_cli("-w", str(workspace.root), "datasets", "check", "customers")
    assert code == 1 and "declares no checks" in err
    ws = _configure(workspace, CUSTOMERS)
    code, out, _ = run_cli("-w", str(ws.root), "datasets", "check", "customers@1")
    assert code == 1
    assert "customers@1: 14 passed, 1 failed" in out
    assert "columns.tenure.max           FAIL" in out
    assert 'row 2: {"customer_id": "C3", "tenure": 300' in out
    code, out, _ = run_cli("-w", str(ws.root), "datasets", "check", "customers", "--json")
    assert code == 1 and json.loads(out)["status"] == "failed"
    save_dataset(ws, "customers", _customers())
    code, out, _ = run_cli("-w", str(ws.root), "datasets", "check", "customers@2")
    assert code == 0 and "15 passed, 0 failed" in out


async def test_rest_checks_and_the_summary_of_a_version(jp_fetch: Any, jp_root_dir: Path) -> None:
    ws = _configure(init_workspace(jp_root_dir), CUSTOMERS)
    with pytest.warns(DataCheckWarning):
        save_dataset(ws, "customers", _customers(plan=["basic", "pro", "gold", "gold"]))
    response = await jp_fetch("mlops-lab", "api", "datasets", "customers", "versions", "1")
    version = json.loads(response.body)
    assert version["checks"] | {"checked_at": None} == {
        "status": "failed",
        "passed": 14,
        "failed": 1,
        "failing": ["columns.plan.allowed"],
        "checked_at": None,
    }
    response = await jp_fetch(
        "mlops-lab", "api", "datasets", "customers", "versions", "1", "checks"
    )
    body = json.loads(response.body)
    allowed = _by_name(body["checks"])["columns.plan.allowed"]
    assert allowed["observed"] == ["gold"] and [r["row"] for r in allowed["sample"]] == [2, 3]
    assert body["declared"]["columns"]["plan"] == {"allowed": ["basic", "pro"]}


def test_checks_refresh_with_check_dataset(workspace: Workspace) -> None:
    save_dataset(workspace, "customers", _customers())  # saved before any declaration
    assert version_checks(workspace, "customers", 1)["status"] == "unchecked"
    ws = _configure(workspace, CUSTOMERS)
    assert check_dataset(ws, "customers")["status"] == "passed"
    assert version_checks(ws, "customers", 1)["passed"] == 15


def test_interactive_ctx_save_dataset_keeps_the_version_and_warns(workspace: Workspace) -> None:
    ws = _configure(workspace, CUSTOMERS)
    warned = pytest.warns(DataCheckWarning, match=r"columns.tenure.max: tenure: 1 row above")
    with interactive(ws.root) as ctx, warned:
        saved = ctx.save_dataset("customers", _customers(tenure=[1, 2, 500, 3]))
    assert saved.version == 1
    result = version_checks(ws, "customers", 1)
    assert result["failed"] == 1 and result["checks"][0]["run_id"] == ctx.run_id


def test_a_streamed_version_cut_is_checked_and_says_so(workspace: Workspace) -> None:
    ws = _configure(
        workspace,
        "datasets: {transactions: {checks: {columns: {amount: {min: 0}, tx_id: {unique: true}}}}}",
    )
    now = datetime.now(UTC)
    make_view(ws, now=now)
    frame = pd.DataFrame(make_events(30, now=now))
    frame["event_at"] = pd.to_datetime(frame["event_at"], utc=True)
    frame.loc[[4, 9], "amount"] = -1.0
    ws.features.push(VIEW, frame, id_column="tx_id")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataCheckWarning)  # said in the result, not warned
        cut = flush(ws, VIEW)
    assert cut is not None and cut["version"] == 2
    assert cut["checks"]["failing"] == ["columns.amount.min"]
    checks = _by_name(version_checks(ws, "transactions", 2)["checks"])
    assert checks["columns.amount.min"]["failing_rows"] == 2
    assert {r["values"]["tx_id"] for r in checks["columns.amount.min"]["sample"]} == {
        frame.tx_id[4],
        frame.tx_id[9],
    }
    assert checks["columns.tx_id.unique"]["passed"]


def test_checks_read_parquet_bytes_when_the_store_is_not_local() -> None:
    frame = _customers(tenure=[1, 2, 300, 4])
    spec = parse_dataset_checks({"c": {"checks": {"columns": {"tenure": {"max": 120}}}}})["c"]
    from_bytes = evaluate_checks(spec, dataframe_to_parquet(frame))
    assert [(r.name, r.passed, r.failing_rows) for r in from_bytes] == [
        ("columns.tenure.max", False, 1)
    ]
    assert from_bytes[0].sample[0]["row"] == 2
