"""Honest run results (#13): a run that stopped early is not "top to bottom"; the failing
cell is the one that raised, counted in the saved notebook from 1; time limits mean what
they say; kernels are chosen (and fallbacks said); the CLI report is whole and plain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mlops_lab import Workspace
from mlops_lab.cli import cli
from mlops_lab.errors import InvalidInputError, KernelNotFoundError, PipelineSpecError
from mlops_lab.handoff import check_notebook
from mlops_lab.pipelines.records import get_run
from mlops_lab.pipelines.run_options import RunOptions
from mlops_lab.pipelines.service import notebook_pipeline, open_executed_notebook, run_pipeline
from mlops_lab.pipelines.spec import load_pipeline
from mlops_lab.pipelines.verdict import strip_ansi
from tests.notebooks import two_stage_workspace, write_notebook, write_pipelines

BANNER = {"tags": ["papermill-error-cell-tag"]}


def _clean_run(handoff: dict[str, Any]) -> dict[str, Any]:
    return next(f for f in handoff["findings"] if f["check"] == "clean_run")


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _run_notebook(ws: Workspace, notebook: str, **kw: Any) -> Any:
    spec = notebook_pipeline(ws, notebook, **kw)
    return run_pipeline(ws, spec, RunOptions(jobs=1))


def test_sys_exit_is_not_a_clean_run_and_names_the_cells_that_did_not_run(
    workspace: Workspace,
) -> None:
    write_notebook(workspace.root / "quits.ipynb", "n = 1", "import sys\nsys.exit(0)", "x = 2")
    handoff = check_notebook(workspace, "quits.ipynb")
    clean = _clean_run(handoff)
    assert handoff["status"] == "failing"
    assert clean["status"] == "fail" and clean["cell"] == 2, clean
    assert clean["details"]["not_run"] == [3]
    assert "cell 3 did not run" in clean["message"] and "Ran top to bottom" not in clean["message"]
    # The same notebook as a pipeline stage: failed, not succeeded.
    record = _run_notebook(workspace, "quits.ipynb")
    (stage,) = record.stages
    assert (record.status, stage.status, stage.error_cell) == ("failed", "failed", 2)
    assert stage.error_name == "SystemExit" and "cell 3 did not run" in (stage.error_value or "")


def test_a_magic_failing_without_error_output_is_its_own_cell_with_a_message(
    workspace: Workspace, tmp_path: Path
) -> None:
    write_notebook(workspace.root / "magic.ipynb", "n = 1", "md:# Notes", "%notamagic", "y = 1")
    record = _run_notebook(workspace, "magic.ipynb")
    (stage,) = record.stages
    assert stage.status == "failed" and stage.error_cell == 3  # as JupyterLab counts
    assert stage.error_name == "UsageError" and "notamagic" in (stage.error_value or "")
    # "Open at failing cell" scrolls the executed copy to the same cell.
    opened = open_executed_notebook(workspace, record.id, stage.stage, workspace.root.parent)
    copy = json.loads((workspace.root.parent / opened["path"]).read_bytes())
    assert "".join(copy["cells"][opened["cell"]]["source"]) == "%notamagic"
    assert opened["notebook_cell"] == 3


def test_an_old_papermill_banner_in_the_saved_notebook_does_not_shift_the_cell(
    workspace: Workspace,
) -> None:
    notebook = new_notebook(
        cells=[
            new_markdown_cell("An Exception was encountered at 'In [2]'.", metadata=BANNER),
            new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
            new_code_cell("x = n"),
            new_markdown_cell(
                "Execution using papermill encountered an exception here", metadata=BANNER
            ),
            new_code_cell("1 / 0"),
            new_code_cell("y = 2"),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, workspace.root / "banner.ipynb")
    clean = _clean_run(check_notebook(workspace, "banner.ipynb"))
    assert clean["status"] == "fail" and clean["cell"] == 5, clean  # the 1 / 0 cell
    assert "ZeroDivisionError" in clean["message"]


def test_timeout_is_for_the_whole_run_and_names_the_running_cell(workspace: Workspace) -> None:
    sleep = "import time\ntime.sleep(0.7)"
    write_notebook(workspace.root / "slow.ipynb", "n = 1", sleep, sleep, sleep)
    handoff = check_notebook(workspace, "slow.ipynb", timeout=1.5)
    clean = _clean_run(handoff)
    assert clean["status"] == "fail" and clean["details"]["timed_out"], clean
    # Each cell is well under the limit: only the whole run is over it.
    assert clean["cell"] in (2, 3, 4), clean
    assert f"while cell {clean['cell']} was running" in clean["message"]
    assert clean["details"]["not_run"] == list(range(clean["cell"] + 1, 5))
    assert handoff["contract"]["timeout"] == 1.5 and handoff["contract"]["cell_timeout"] is None
    (stage,) = get_run(workspace.catalog, handoff["check_run"]).stages
    assert stage.execution and stage.execution["timeout"] == 1.5
    assert stage.error_cell == clean["cell"]


def test_cell_timeout_stops_the_cell_that_runs_too_long(workspace: Workspace) -> None:
    write_notebook(workspace.root / "stuck.ipynb", "n = 1", "import time\ntime.sleep(20)", "z = 1")
    handoff = check_notebook(workspace, "stuck.ipynb", cell_timeout=1)
    clean = _clean_run(handoff)
    assert clean["status"] == "fail" and clean["cell"] == 2 and clean["details"]["timed_out"]
    assert "per-cell limit of 1 s" in clean["message"] and "cell 3 did not run" in clean["message"]
    assert handoff["contract"]["cell_timeout"] == 1


def _kernelspec(path: Path, spec: dict[str, Any] | None) -> None:
    document = json.loads(path.read_text())
    if spec is None:
        document["metadata"].pop("kernelspec", None)
    else:
        document["metadata"]["kernelspec"] = spec
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        (
            {"name": "python", "display_name": "Python", "language": "python"},
            "asks for kernel 'python'",
        ),
        (None, "names no kernel"),
    ],
)
def test_a_missing_or_unknown_kernelspec_runs_in_the_workspace_python_and_says_so(
    workspace: Workspace, spec: dict[str, Any] | None, said: str
) -> None:
    path = write_notebook(workspace.root / "k.ipynb", "n = 1", "print(n)")
    _kernelspec(path, spec)
    handoff = check_notebook(workspace, "k.ipynb")
    assert _clean_run(handoff)["status"] == "pass", handoff["findings"]
    note = next(f for f in handoff["findings"] if "ran it with" in f["message"])
    assert note["check"] == "environment" and note["status"] == "warn"
    assert note["details"]["kernel"]["name"] == "python3"
    (clean_stage,) = get_run(workspace.catalog, handoff["check_run"]).stages
    assert clean_stage.execution and said in clean_stage.execution["note"]
    assert said in note["message"] and "ran it with 'python3'" in note["message"]
    record = _run_notebook(workspace, "k.ipynb")
    (stage,) = record.stages
    assert stage.status == "succeeded"
    assert stage.execution and stage.execution["kernel"] == "python3"
    assert said in stage.execution["note"]


def test_an_explicit_kernel_that_is_not_installed_is_a_clear_error(workspace: Workspace) -> None:
    write_notebook(workspace.root / "k.ipynb", "n = 1", "print(n)")
    with pytest.raises(KernelNotFoundError, match=r"'nope' is not installed.*python3") as caught:
        check_notebook(workspace, "k.ipynb", kernel="nope")
    assert caught.value.http_status == 400
    code, out, err = _cli(
        "--workspace", str(workspace.root), "run", "--notebook", "k.ipynb", "--kernel", "nope"
    )
    assert code == 1 and "'nope' is not installed" in err and "python3" in err
    assert "ValueError" not in err and not out
    assert not workspace.catalog.read("SELECT id FROM runs")  # nothing started
    # Asked for by name and installed: the stage written to mlops_lab.yaml runs in it too.
    ready = check_notebook(workspace, "k.ipynb", kernel="python3")
    assert ready["status"] == "ready" and ready["contract"]["kernel"] == "python3"
    assert load_pipeline(Workspace(workspace.root), "handoff").stage("k").kernel == "python3"


def test_runs_show_reports_on_stdout_with_parameters_and_plain_json(workspace: Workspace) -> None:
    write_notebook(workspace.root / "bad.ipynb", "n = 3", "raise ValueError(f'bad {n}')")
    code, _, _ = _cli(
        "--workspace", str(workspace.root), "run", "--notebook", "bad.ipynb", "-p", "n=4", "--json"
    )
    assert code == 1
    (run_id,) = workspace.catalog.read("SELECT id FROM runs")[0]
    code, out, err = _cli("--workspace", str(workspace.root), "runs", "show", run_id)
    assert code == 0 and not err
    assert "parameters given: n=4" in out and "ValueError in cell 2: bad 4" in out
    assert "executed notebook:" in out
    code, out, _ = _cli("--workspace", str(workspace.root), "runs", "show", run_id, "--json")
    shown = json.loads(out)
    stage = shown["stages"][0]
    assert shown["parameters"] == {"n": 4} and stage["parameters"] == {"n": 4}
    assert "\x1b[" not in out and stage["traceback"] and "ValueError" in stage["traceback"]
    assert strip_ansi(stage["traceback"]) == stage["traceback"]


def test_run_only_reports_the_other_stages_as_not_selected(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    code, out, _ = _cli("--workspace", str(ws.root), "run", "demo", "--only", "make")
    assert code == 0, out
    assert "total                not selected" in out and "cached" not in out
    stages = ws.catalog.read("SELECT stage, status FROM stage_runs ORDER BY position")
    assert stages == [("make", "succeeded"), ("total", "not_selected")]


def test_a_missing_notebook_does_not_exist_and_a_text_file_is_not_a_notebook(
    workspace: Workspace,
) -> None:
    (workspace.root / "notes.txt").write_text("hello")
    for check in (
        lambda p: check_notebook(workspace, p),
        lambda p: notebook_pipeline(workspace, p),
    ):
        with pytest.raises(InvalidInputError, match=r"ghost\.ipynb does not exist"):
            check("ghost.ipynb")
        with pytest.raises(InvalidInputError, match="not a notebook"):
            check("notes.txt")
    code, _, err = _cli("--workspace", str(workspace.root), "handoff", "ghost.ipynb")
    assert code == 1 and "ghost.ipynb does not exist" in err


def test_a_stage_kernel_and_time_limits_in_mlops_lab_yaml(workspace: Workspace) -> None:
    write_notebook(workspace.root / "a.ipynb", "n = 1", "print(n)")
    stages = "pipelines:\n  p:\n    stages:\n      - name: a\n        notebook: a.ipynb\n"
    ws = write_pipelines(workspace, stages + "        kernel: nope\n        timeout: 0\n")
    with pytest.raises(PipelineSpecError, match="'timeout' must be a positive number"):
        load_pipeline(ws, "p")
    ws = write_pipelines(workspace, stages + "        kernel: nope\n        cell_timeout: 30\n")
    record = run_pipeline(ws, load_pipeline(ws, "p"), RunOptions(jobs=1))
    (stage,) = record.stages
    assert stage.status == "failed" and stage.error_name == "StageNotStarted"
    assert "'nope' is not installed" in (stage.error_value or "")
    ws = write_pipelines(workspace, stages + "        kernel: python3\n        timeout: 60\n")
    record = run_pipeline(ws, load_pipeline(ws, "p"), RunOptions(jobs=1))
    (stage,) = record.stages
    assert stage.status == "succeeded"
    assert stage.execution == {
        "kernel": "python3",
        "kernel_asked": "python3",
        "note": None,
        "timeout": 60.0,
        "cell_timeout": None,
    }
    assert "execution" not in (stage.inputs or {})


def _ran(source: str, *, started: bool = True, raised: bool = False, **output: Any) -> Any:
    cell = new_code_cell(source)
    cell.metadata["papermill"] = {
        "start_time": "2026-01-01T00:00:00" if started else None,
        "exception": raised,
    }
    if output:
        cell.outputs = [nbformat.v4.new_output("error", **output)]
    return cell


def test_judge_names_the_stopping_cell_for_every_way_a_run_ends(tmp_path: Path) -> None:
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from mlops_lab.pipelines.verdict import judge

    saved = [
        new_markdown_cell("# t"),
        new_code_cell("a = 1"),
        new_code_cell("b"),
        new_code_cell("c"),
    ]
    executed = tmp_path / "out.ipynb"

    def verdict(cells: list[Any], error: BaseException | None) -> dict[str, Any]:
        nbformat.write(new_notebook(cells=[saved[0], *cells]), executed)
        return judge(saved, executed, error, timeout=None, cell_timeout=None, timed_out=False)

    done = [_ran("a = 1"), _ran("b"), _ran("c")]
    assert verdict(done, None) == {"ok": True}
    exit_1 = PapermillExecutionError(1, 2, "", "SystemExit", "1", ["\x1b[31mSystemExit\x1b[0m: 1"])
    cells = [
        _ran("a = 1"),
        _ran("b", raised=True, ename="SystemExit", evalue="1", traceback=[]),
        _ran("c", started=False),
    ]
    found = verdict(cells, exit_1)
    assert (found["error_cell"], found["not_run"]) == (2, (3,))
    assert (
        found["error_value"]
        == "The notebook stopped itself in cell 3 (SystemExit: 1); cell 4 did not run"
    )
    assert found["traceback"] == "SystemExit: 1"  # no colour codes
    died = verdict(
        [_ran("a = 1"), _ran("b"), _ran("c", started=False)], DeadKernelError("Kernel died")
    )
    assert died["error_cell"] == 2 and died["error_value"].startswith("The kernel died in cell 3")
    assert died["error_value"].endswith("; cell 4 did not run")
