"""The handoff checks, each with a notebook that passes and one that fails it; the contract."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from mlops_lab import Workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.errors import InvalidInputError
from mlops_lab.handoff import check_notebook, handoff_report, list_handoffs
from mlops_lab.manifest import commit_entries
from mlops_lab.pipelines import records
from tests.notebooks import GOOD, write_notebook


def _statuses(handoff: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """The worst status per check."""
    order = {"pass": 0, "warn": 1, "fail": 2}
    worst: dict[str, str] = {}
    for finding in handoff["findings"]:
        current = worst.get(finding["check"], "pass")
        worst[finding["check"]] = max(current, finding["status"], key=order.__getitem__)
    return worst


def _interactive_run(ws: Workspace, notebook: str, metrics: dict[str, float]) -> str:
    run_id = records.start_interactive_run(ws.catalog, notebook=notebook)
    entries = [{"type": "metric", "name": k, "value": v, "step": None} for k, v in metrics.items()]
    commit_entries(ws.catalog, run_id, "interactive", entries)
    return run_id


def _executed(path: Path, counts: list[int | None]) -> None:
    """Give the notebook's code cells execution counts, as if saved after running them."""
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for cell, count in zip(code, counts, strict=True):
        cell.execution_count = count
    nbformat.write(notebook, path)


@pytest.fixture
def numbers(workspace: Workspace) -> Workspace:
    save_dataset(workspace, "numbers", pd.DataFrame({"x": [1, 2, 3]}))
    return workspace


def test_a_clean_notebook_is_ready_pins_its_inputs_and_becomes_a_stage(numbers: Workspace) -> None:
    ws = numbers
    write_notebook(ws.root / "analysis" / "double.ipynb", "factor = 2.0", GOOD)
    _executed(ws.root / "analysis" / "double.ipynb", [1, 2])
    _interactive_run(ws, "analysis/double.ipynb", {"total": 12.0, "rows": 3.0})
    handoff = check_notebook(ws, "analysis/double.ipynb", pipeline="reports")
    assert handoff["status"] == "ready", handoff["findings"]
    assert set(_statuses(handoff).values()) == {"pass"}, handoff["findings"]
    contract = handoff["contract"]
    assert contract["parameters"] == {"factor": {"type": "float", "default": 2.0}}
    assert contract["inputs"]["datasets"]["numbers"]["version"] == 1
    assert contract["outputs"] == {"datasets": ["doubled"], "metrics": ["rows", "total"]}
    assert "scikit-learn" not in contract["environment"]["packages"]
    assert contract["environment"]["python"].startswith("3.")
    # Nothing registered by the check itself.
    assert (
        ws.catalog.read_value("SELECT count(*) FROM dataset_versions WHERE name = 'doubled'") == 0
    )
    stage = yaml.safe_load((ws.root / "mlops_lab.yaml").read_text())["pipelines"]["reports"]
    assert stage["stages"] == [
        {
            "name": "double",
            "notebook": "analysis/double.ipynb",
            "inputs": {"datasets": ["numbers"]},
            "outputs": {"datasets": ["doubled"], "metrics": ["rows", "total"]},
        }
    ]
    report = handoff_report(ws, handoff["id"])
    assert "is READY" in report and "| total | 12 | 12 | yes |" in report
    # Editing the code makes the handoff stale until checked again.
    write_notebook(ws.root / "analysis" / "double.ipynb", "factor = 3.0", GOOD)
    assert [h["status"] for h in list_handoffs(ws)] == ["stale"]


def test_hidden_state_and_undeclared_files_are_reported_with_their_cells(
    numbers: Workspace,
) -> None:
    ws = numbers
    path = write_notebook(
        ws.root / "explore.ipynb",
        "rows = 3",
        "import pandas as pd\nraw = pd.read_csv('/home/ana/Downloads/customers.csv')",
        "print(threshold * rows)",
        "threshold = 0.5",
    )
    _executed(path, [1, 3, 4, 2])
    before = (ws.root / "mlops_lab.yaml").read_text()
    handoff = check_notebook(ws, "explore.ipynb")
    assert handoff["status"] == "failing"
    by_check = {(f["check"], f["status"], f["cell"]) for f in handoff["findings"]}
    assert ("execution_order", "warn", 4) in by_check  # ran before the cell above it (from 1)
    hidden = next(f for f in handoff["findings"] if f["details"].get("name") == "threshold")
    assert (hidden["cell"], hidden["details"]["defined_in"]) == (3, 4)
    reads = [f for f in handoff["findings"] if f["check"] == "paths"]
    assert {f["status"] for f in reads} == {"warn"} and {f["cell"] for f in reads} == {2}
    assert any("not a declared input" in f["message"] for f in reads)
    assert any("absolute path" in f["message"] for f in reads)
    clean = next(f for f in handoff["findings"] if f["check"] == "clean_run")
    assert (
        clean["status"] == "fail" and clean["cell"] == 2 and "FileNotFoundError" in clean["message"]
    ), clean
    assert clean["details"]["executed_cell"] > 1  # papermill's error banner comes first
    assert (ws.root / "mlops_lab.yaml").read_text() == before  # not ready: no stage written
    run = ws.catalog.read_dicts(
        "SELECT r.kind, s.executed_notebook, s.error_cell FROM runs r JOIN stage_runs s "
        "ON s.run_id = r.id WHERE r.id = ?",
        [handoff["check_run"]],
    )
    # The run records the saved notebook's cell from 1, like the finding; "Open at failing
    # cell" finds it in the executed copy (details' executed_cell).
    assert run[0]["kind"] == "handoff" and run[0]["executed_notebook"]
    assert run[0]["error_cell"] == clean["cell"] == 2


def test_the_parameters_cell_must_hold_literal_defaults(workspace: Workspace) -> None:
    write_notebook(workspace.root / "none.ipynb", None, "x = 1")
    missing = check_notebook(workspace, "none.ipynb")  # zero parameters: a warning
    assert _statuses(missing)["parameters"] == "warn"
    assert _statuses(missing)["clean_run"] == "pass" and missing["status"] == "ready"
    write_notebook(
        workspace.root / "computed.ipynb", "import os\nhome = os.getcwd()\nn = 3", "print(n)"
    )
    computed = check_notebook(workspace, "computed.ipynb")
    finding = next(f for f in computed["findings"] if f["check"] == "parameters")
    assert finding["status"] == "fail" and "home (expression)" in finding["message"]
    assert finding["cell"] == 1
    clean = next(f for f in computed["findings"] if f["check"] == "clean_run")
    assert clean["status"] == "fail" and "parameters cell first" in clean["message"]


def test_metrics_must_reproduce_the_interactive_run(numbers: Workspace) -> None:
    ws = numbers
    write_notebook(ws.root / "double.ipynb", "factor = 2.0", GOOD)
    _interactive_run(ws, "double.ipynb", {"total": 12.5, "rows": 3.0})
    handoff = check_notebook(ws, "double.ipynb")
    finding = next(f for f in handoff["findings"] if f["check"] == "reproduction")
    assert finding["status"] == "fail" and "total 12.5 -> 12.0" in finding["message"]
    rows = {r["metric"]: r["same"] for r in finding["details"]["metrics"]}
    assert rows == {"rows": True, "total": False}
    assert "| total | 12.5 | 12 | NO |" in handoff_report(ws, handoff["id"])
    # Within the tolerance it passes.
    _interactive_run(ws, "double.ipynb", {"total": 12.0 * (1 + 1e-9), "rows": 3.0})
    again = check_notebook(ws, "double.ipynb")
    assert _statuses(again)["reproduction"] == "pass"


def test_declared_outputs_must_be_produced(numbers: Workspace) -> None:
    ws = numbers
    write_notebook(ws.root / "double.ipynb", "factor = 2.0", GOOD)
    (ws.root / "mlops_lab.yaml").write_text(
        "version: 1\nname: test\npipelines:\n  handoff:\n    stages:\n"
        "      - name: double\n        notebook: double.ipynb\n"
        "        outputs: {datasets: [doubled, tripled], models: [churn]}\n"
    )
    handoff = check_notebook(Workspace(ws.root), "double.ipynb")
    finding = next(f for f in handoff["findings"] if f["check"] == "outputs")
    assert finding["status"] == "fail"
    assert "dataset tripled" in finding["message"] and "model churn" in finding["message"]


def test_bad_input_clear_errors_and_a_timeout_keeps_the_partial_copy(workspace: Workspace) -> None:
    (workspace.root / "notes.txt").write_text("hello")
    with pytest.raises(InvalidInputError, match="not a notebook"):
        check_notebook(workspace, "notes.txt")
    with pytest.raises(InvalidInputError, match="stage name 'two words'"):
        check_notebook(
            workspace, write_notebook(workspace.root / "x.ipynb", "n = 1", "n"), stage="two words"
        )
    with pytest.raises(InvalidInputError, match="outside the workspace"):
        check_notebook(workspace, "/etc/hosts.ipynb")
    path = write_notebook(workspace.root / "r.ipynb", "n = 1", "print(n)")
    document = json.loads(path.read_text())
    document["metadata"]["kernelspec"].update(name="ir", language="R")  # no Python stand-in
    path.write_text(json.dumps(document))
    handoff = check_notebook(workspace, "r.ipynb")
    clean = next(f for f in handoff["findings"] if f["check"] == "clean_run")
    assert clean["status"] == "fail" and "kernel 'ir' is not installed" in clean["message"]
    write_notebook(
        workspace.root / "slow.ipynb", "n = 1", "print('started')", "import time\ntime.sleep(30)"
    )
    slow = check_notebook(workspace, "slow.ipynb", timeout=3)
    clean = next(f for f in slow["findings"] if f["check"] == "clean_run")
    assert clean["status"] == "fail" and clean["details"]["timed_out"], clean
    executed = workspace.state_dir / "handoffs" / slow["check_run"] / "executed.ipynb"
    partial = nbformat.read(executed, as_version=4)
    assert "started" in json.dumps(partial.cells[1].outputs)
