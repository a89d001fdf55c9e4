"""`mlops-lab ci` as a CI step: ruff per cell, stage assertions, JUnit XML and Markdown."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import junitparser
import pytest

import mlops_lab
from mlops_lab import Workspace
from mlops_lab.datasets import list_dataset_versions
from mlops_lab.errors import PipelineSpecError, WorkspaceConfigError
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline
from mlops_lab.pipelines.assertions import Expectation, check_expectations
from mlops_lab.pipelines.ci_report import CheckResult, junit_xml, markdown_summary
from mlops_lab.pipelines.lint import LintSettings, describe_findings, lint_paths, lint_settings
from tests.cli_runner import run_cli
from tests.notebooks import SAVE_NUMBERS, SUM_NUMBERS, write_notebook, write_pipelines

# cell 1: parameters, cell 2: markdown, cell 3: the error
BROKEN = ("md:# Totals", "total = undefined_name + 1")


def test_ruff_findings_name_the_notebook_cell_and_its_first_line(workspace: Workspace) -> None:
    write_notebook(workspace.root / "nb.ipynb", "n = 3", *BROKEN, "import os\nprint(n)")
    report = lint_paths(workspace.root, ["nb.ipynb"], LintSettings())
    found = [(f.cell, f.cell_line, f.row, f.column, f.code) for f in report.findings]
    assert found == [
        (3, "total = undefined_name + 1", 1, 9, "F821"),
        (4, "import os", 1, 8, "F401"),
    ]
    assert report.findings[0].message == "Undefined name `undefined_name`"
    assert report.failed and report.files == ("nb.ipynb",)
    assert describe_findings(report.findings) == [
        "nb.ipynb",
        "  cell 3: total = undefined_name + 1",
        "    1:9 F821 Undefined name `undefined_name`",
        "  cell 4: import os",
        "    1:8 F401 `os` imported but unused",
    ]
    # rules are configurable; fail: false reports without failing
    only_syntax = lint_paths(workspace.root, ["nb.ipynb"], LintSettings(select=("E9",), fail=False))
    assert only_syntax.findings == () and not only_syntax.failed


def test_lint_settings_are_validated(workspace: Workspace) -> None:
    assert lint_settings(workspace) == LintSettings()
    config = workspace.root / "mlops_lab.yaml"
    config.write_text("version: 1\nname: t\nci:\n  lint: {select: [F], fail: false}\n")
    assert lint_settings(Workspace(workspace.root)) == LintSettings(select=("F",), fail=False)
    for bad, message in (
        ("{select: F 401}", "'ci.lint.select' must be a list of ruff rule codes"),
        ("{fail: sometimes}", "'ci.lint.fail' must be true or false"),
        ("{rules: [F]}", "'ci.lint' has unknown field(s) rules"),
        ("yes please", "'ci.lint' must be true, false or"),
    ):
        config.write_text(f"version: 1\nname: t\nci:\n  lint: {bad}\n")
        with pytest.raises(WorkspaceConfigError, match=r".*") as caught:
            lint_settings(Workspace(workspace.root))
        assert message in caught.value.message


def _make_stage(workspace: Workspace, fields: str) -> Workspace:
    """Pipeline ``p``: stage ``make`` (saves dataset ``numbers`` of n=3 rows, metric n) with
    ``fields`` (YAML, indented under the stage) added."""
    write_notebook(workspace.root / "make.ipynb", "n = 3", SAVE_NUMBERS)
    head = "pipelines:\n  p:\n    stages:\n      - name: make\n        notebook: make.ipynb\n"
    return write_pipelines(workspace, head + textwrap.indent(textwrap.dedent(fields), " " * 8))


def test_expectations_are_validated_with_every_problem_named(workspace: Workspace) -> None:
    ws = _make_stage(
        workspace,
        """
                lint: maybe
                expect:
                  - {metric: auc}
                  - {metric: auc, min: 0.9, max: 0.1}
                  - {dataset: numbers, rows: lots}
                  - {model: churn, signature: same}
                  - {metric: auc, dataset: numbers}
                  - {dataset: numbers, rows: 3, colour: red}
        """,
    )
    with pytest.raises(PipelineSpecError) as caught:
        load_pipeline(ws, "p")
    where = "pipeline 'p' stage 'make': expect"
    assert caught.value.problems == [
        "pipeline 'p' stage 'make': 'lint' must be true or false, got 'maybe'",
        f"{where}[0] (metric auc): give 'min', 'max' or both",
        f"{where}[1] (metric auc): min 0.9 is above max 0.1",
        f"{where}[2] (dataset numbers): 'rows' must be a count or {{min: N, max: N}}, got 'lots'",
        f"{where}[3] (model churn): 'signature' must be 'unchanged', got 'same'",
        f"{where}[4] must name exactly one of metric, dataset or model, e.g. {{metric: roc_auc, "
        "min: 0.8}, {dataset: features, rows: {min: 1000}} or {model: churn, signature: "
        "unchanged}; got {'metric': 'auc', 'dataset': 'numbers'}",
        f"{where}[5] (dataset numbers): unknown field(s) colour (a dataset expectation takes: "
        "columns, rows)",
    ]


def test_a_failed_assertion_fails_the_stage_and_commits_nothing(workspace: Workspace) -> None:
    ws = _make_stage(
        workspace,
        """
        expect:
          - {dataset: numbers, rows: {min: 1, max: 10}, columns: [x]}
          - {metric: n, min: 5}
        """,
    )
    record = Runner(ws, load_pipeline(ws, "p"), RunOptions(jobs=1)).run()
    (stage,) = record.stages
    assert record.status == "failed" and stage.status == "failed"
    assert stage.error_name == "ExpectationError"
    assert stage.error_value == "expectation not met: metric n = 3, expected at least 5"
    assert stage.checks == [
        {
            "kind": "assertion",
            "name": "dataset numbers rows in [1, 10]; dataset numbers has columns x",
            "status": "passed",
            "expected": {"dataset": "numbers", "rows": {"min": 1, "max": 10}, "columns": ["x"]},
            "observed": {"rows": 3, "columns": ["x"]},
            "message": "dataset numbers has 3 rows",
        },
        {
            "kind": "assertion",
            "name": "metric n >= 5",
            "status": "failed",
            "expected": {"metric": "n", "min": 5.0},
            "observed": 3.0,
            "message": "metric n = 3, expected at least 5",
        },
    ]
    assert list_dataset_versions(ws, "numbers") == []  # nothing half-registered
    assert record.metrics == {}


def test_model_signature_unchanged_compares_with_the_latest_version(ctx: Any) -> None:
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1, 0, 1], "y": [1.0, 2.0, 3.0]})
    model = LinearRegression().fit(frame[["a", "b"]], frame.y)
    expect = (Expectation(kind="model", name="spend", signature_unchanged=True),)
    catalog = ctx.workspace.catalog
    inputs = [{"name": "a", "kind": "float", "dtype": "float64"}]
    entry = {"type": "model", "name": "spend", "signature": {"inputs": inputs, "output": {}}}
    (first,) = check_expectations(catalog, expect, [entry])
    assert first["status"] == "passed" and "first version" in first["message"]
    registered = mlops_lab.register_model("spend", model, X_sample=frame[["a", "b"]])
    (changed,) = check_expectations(catalog, expect, [entry])
    assert changed["status"] == "failed"
    assert changed["message"] == (
        "model spend signature changed since version 1: inputs removed: b (int); "
        "output regression -> unknown"
    )
    same = {**entry, "signature": registered.signature}
    assert check_expectations(catalog, expect, [same])[0]["status"] == "passed"
    (missing,) = check_expectations(catalog, expect, [])
    assert missing["message"] == "model spend was not registered by the stage (registered: none)"


def test_a_stage_with_lint_true_fails_before_its_kernel_starts(workspace: Workspace) -> None:
    write_notebook(workspace.root / "nb.ipynb", "n = 3", *BROKEN)
    ws = write_pipelines(
        workspace,
        "pipelines:\n  p:\n    stages:\n      - {name: s, notebook: nb.ipynb, lint: true}\n",
    )
    record = Runner(ws, load_pipeline(ws, "p"), RunOptions(jobs=1)).run()
    (stage,) = record.stages
    assert stage.status == "failed" and stage.error_name == "LintError"
    assert stage.error_value == (
        "ruff found 1 problem(s): cell 3: total = undefined_name + 1 | "
        "1:9 F821 Undefined name `undefined_name`"
    )
    assert stage.executed_notebook is None and stage.checks is not None
    assert stage.checks[0]["observed"][0]["cell"] == 3


def test_junit_xml_escapes_and_counts_each_suite() -> None:
    results = [
        CheckResult(suite="stages", name="a<b", status="passed", time_s=1.5),
        CheckResult(
            suite="stages", name="c", status="failed", message='x "y"\x1b[31m', details="tb"
        ),
        CheckResult(suite="lint", name="d", status="warning", message="F401"),
    ]
    xml = junit_xml(results, name="n", suites=["lint", "stages", "datasets"])
    suites = {s.name: s for s in junitparser.JUnitXml.fromstring(xml)}
    assert list(suites) == ["lint", "stages", "datasets"]  # an empty suite is kept
    assert (suites["stages"].tests, suites["stages"].failures, suites["datasets"].tests) == (
        2,
        1,
        0,
    )
    failed = next(c for c in suites["stages"] if c.name == "c")
    assert failed.result[0].message == 'x "y"[31m' and failed.result[0].text == "tb"
    warned = next(iter(suites["lint"]))
    assert warned.is_passed and warned.system_out == "WARNING: F401\n"


def test_markdown_summary_puts_failures_first_and_stays_short() -> None:
    results = [CheckResult(suite="lint", name=f"f{i}.py", status="passed") for i in range(60)]
    results.append(CheckResult(suite="lint", name="bad.py", status="failed", message="a | b"))
    text = markdown_summary(results, title="t", suites=["lint", "stages"])
    assert text.startswith("## ❌ t: failed\n")
    assert "| lint | 60 | 1 | 0 |\n| stages | 0 | 0 | 0 |" in text
    rows = [line for line in text.splitlines() if line.startswith(("| bad.py", "| f"))]
    assert rows[0] == "| bad.py | ❌ failed | a \\| b |" and len(rows) == 50
    assert text.endswith("… and 11 more (all in the JUnit XML).\n")


CI_PIPELINE = """
ci:
  lint: {select: [F]}  # SAVE_NUMBERS imports two modules on one line (E401)
datasets:
  numbers:
    checks:
      columns: {x: {nulls: false, max: MAX_X}}
pipelines:
  demo:
    stages:
      - name: make
        notebook: make.ipynb
        outputs: {datasets: [numbers]}
        expect:
          - {dataset: numbers, rows: {min: 3}}
      - name: total
        notebook: total.ipynb
        needs: [make]
        expect:
          - {metric: total, min: MIN}
"""


def _pipeline(*, min_total: int, max_x: int = 10) -> str:
    return CI_PIPELINE.replace("MIN", str(min_total)).replace("MAX_X", str(max_x))


def _junit(path: Path) -> dict[str, dict[str, junitparser.TestCase]]:
    xml = junitparser.JUnitXml.fromfile(str(path))
    return {suite.name: {case.name: case for case in suite} for suite in xml}


def _commit(root: Path) -> None:
    """Commit everything: the run records this commit, and ci lints .py files changed since."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "change"], cwd=root, check=True)


def _result(case: junitparser.TestCase) -> tuple[str, str]:
    if case.is_passed:
        return "passed", ""
    kind = "skipped" if case.is_skipped else type(case.result[0]).__name__.lower()
    return kind, case.result[0].message or ""


def test_ci_junit_and_summary_report_lint_stages_and_assertions(
    in_workspace: Workspace, tmp_path: Path
) -> None:
    root = in_workspace.root
    write_notebook(root / "make.ipynb", "n = 3", SAVE_NUMBERS)
    write_notebook(root / "total.ipynb", "factor = 2.0", "md:# Sum", "import os\n" + SUM_NUMBERS)
    (root / "helpers.py").write_text("import sys\n")
    write_pipelines(in_workspace, _pipeline(min_total=100))
    (root / ".gitignore").write_text(".mlops_lab/\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    _commit(root)
    junit, summary = tmp_path / "reports" / "junit.xml", tmp_path / "summary.md"

    code, out, _ = run_cli("ci", "--junit", str(junit), "--summary", str(summary), "-j", "2")
    assert code == 1, out
    cases = _junit(junit)
    assert list(cases) == ["lint", "stages", "assertions", "data"]
    assert {n: _result(c) for n, c in cases["data"].items()} == {
        "make: numbers v1: columns.x.nulls": ("passed", ""),
        "make: numbers v1: columns.x.max": ("passed", ""),
    }
    assert {n: _result(c) for n, c in cases["lint"].items()} == {
        "helpers.py": ("failure", "F401 `sys` imported but unused (line 1:8)"),
        "make.ipynb": ("passed", ""),
        "total.ipynb cell 3: import os": ("failure", "F401 `os` imported but unused (line 1:8)"),
    }
    assert {n: _result(c)[0] for n, c in cases["stages"].items()} == {
        "make": "passed",
        "total": "failure",
    }
    assert _result(cases["stages"]["total"])[1] == (
        "ExpectationError: expectation not met: metric total = 6, expected at least 100"
    )
    assert {n: _result(c) for n, c in cases["assertions"].items()} == {
        "make: dataset numbers rows >= 3": ("passed", ""),
        "total: metric total >= 100": ("failure", "metric total = 6, expected at least 100"),
    }
    failure = cases["assertions"]["total: metric total >= 100"].result[0]
    assert failure.text.startswith('expected: {"metric": "total", "min": 100.0}\nobserved: 6.0\n')
    run_id = json.loads(run_cli("runs", "list", "--json")[1])["runs"][0]["id"]
    shown = run_cli("runs", "show", run_id)[1]
    assert "expect metric total >= 100: failed (metric total = 6, expected at least 100)" in shown
    text = summary.read_text()
    assert text.startswith("## ❌ mlops-lab ci: demo: failed\n")
    assert "| lint | 1 | 2 | 0 |" in text and "| assertions | 1 | 1 | 0 |" in text
    assert (
        "| total.ipynb cell 3: import os | ❌ failed | F401 `os` imported but unused (line 1:8) |"
        in text
    )
    assert "| total | ❌ failed |" in text and "| make | ✅ succeeded |" in text
    assert "  cell 3: import os" in out and "4 check(s) failed:" in out

    # Fixed: lint clean, the threshold met; ci passes (exit 0) and says so in both reports.
    write_notebook(root / "total.ipynb", "factor = 2.0", "md:# Sum", SUM_NUMBERS)
    (root / "helpers.py").write_text("import sys\n\nprint(sys.argv)\n")
    write_pipelines(in_workspace, _pipeline(min_total=5))
    _commit(root)
    code, out, _ = run_cli("ci", "--junit", str(junit), "--summary", str(summary))
    assert code == 0, out
    cases = _junit(junit)
    assert all(_result(c)[0] == "passed" for suite in cases.values() for c in suite.values())
    assert summary.read_text().startswith("## ✅ mlops-lab ci: demo: passed\n")

    # Only total changed: make is reused from cache with the assertions it passed then.
    write_notebook(root / "total.ipynb", "factor = 3.0", "md:# Sum", SUM_NUMBERS)
    code, out, _ = run_cli("ci", "--junit", str(junit), "--json")
    assert code == 0, out
    cases = _junit(junit)
    assert _result(cases["stages"]["make"])[0] == "skipped"
    assert "cached from run" in _result(cases["stages"]["make"])[1]
    # the notebook of the stage that runs; no module changed since the last successful run
    assert set(cases["lint"]) == {"total.ipynb"}
    assert _result(cases["assertions"]["make: dataset numbers rows >= 3"])[0] == "passed"
    assert _result(cases["assertions"]["total: metric total >= 5"])[0] == "passed"
    assert {_result(c)[0] for c in cases["data"].values()} == {"passed"}
    assert all("(checked in run " in c.system_out for c in cases["data"].values()), [
        (n, c.system_out) for n, c in cases["data"].items()
    ]

    # Nothing changed: nothing runs, every check is skipped, and ci passes.
    code, out, _ = run_cli("ci", "--junit", str(junit))
    assert code == 0 and "Nothing to run for demo: no stage's code changed" in out
    cases = _junit(junit)
    assert {n: _result(c)[0] for suite in cases.values() for n, c in suite.items()} == {
        "ruff": "skipped",
        "make": "skipped",
        "total": "skipped",
        "make: dataset numbers rows >= 3": "skipped",
        "total: metric total >= 5": "skipped",
    }
    assert _result(cases["lint"]["ruff"])[1].startswith("nothing to lint: ")
    # ct writes the same reports, without ci's lint
    code, out, _ = run_cli("ct", "--junit", str(junit))
    assert code == 0 and [len(s) for s in _junit(junit).values()] == [0, 2, 2, 0]

    # A data check the new numbers break: make fails, its dataset refused, and the report
    # names the check with the rows that broke it.
    write_pipelines(in_workspace, _pipeline(min_total=5, max_x=1))
    write_notebook(root / "make.ipynb", "n = 4", SAVE_NUMBERS)
    code, out, _ = run_cli("ci", "--junit", str(junit))
    assert code == 1, out
    cases = _junit(junit)
    assert _result(cases["stages"]["make"])[1].startswith("DataCheckError")
    refused = cases["data"]["make: numbers refused: columns.x.max"]
    assert _result(refused)[0] == "failure"
    assert "failing_rows: 2\n" in refused.result[0].text and '"x": 3' in refused.result[0].text


def test_ci_that_cannot_start_still_writes_its_reports(
    in_workspace: Workspace, tmp_path: Path
) -> None:
    _make_stage(in_workspace, "expect: [{metric: n, min: high}]\n")
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    code, _, err = run_cli("ci", "--junit", str(junit), "--summary", str(summary))
    problem = "pipeline 'p' stage 'make': expect[0] (metric n): 'min' must be a number, got 'high'"
    assert code == 1 and problem in err
    cases = _junit(junit)
    assert list(cases) == ["setup"]
    (case,) = cases["setup"].values()
    assert _result(case) == ("error", f"Invalid pipeline: {problem}.")
    assert summary.read_text().startswith("## ❌ mlops-lab ci: failed\n")
