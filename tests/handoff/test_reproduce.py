"""Reproduction from the outputs saved in the notebook, and the determinism check.

The normaliser and the likely causes are tested without kernels; a few
notebooks (saved outputs built by hand) go through the real check.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mlops_lab import Workspace
from mlops_lab.cli import cli
from mlops_lab.environment import ENV_CAPTURE
from mlops_lab.errors import InvalidInputError
from mlops_lab.handoff import check_notebook, handoff_report
from mlops_lab.handoff.causes import NOT_SEEN, likely_cause
from mlops_lab.handoff.clean_run import CleanRun
from mlops_lab.handoff.determinism import writes_files
from mlops_lab.handoff.outputs import compare_outputs, normalise
from mlops_lab.handoff.reproduce import check_reproduction, differing_cells
from mlops_lab.handoff.static import parse_cells
from mlops_lab.manifest import commit_entries
from mlops_lab.pipelines import records
from mlops_lab.pipelines.executor import StageOutcome


def _out(text: str, name: str = "stdout") -> Any:
    return new_output("stream", name=name, text=text)


def _result(data: dict[str, Any], count: int = 1) -> Any:
    return new_output("execute_result", data=data, execution_count=count)


def _cell(*outputs: Any, source: str = "x", count: int | None = 1) -> dict[str, Any]:
    cell = new_code_cell(source, execution_count=count)
    cell.outputs = list(outputs)
    return dict(cell)


def _differ(a: dict[str, Any], b: dict[str, Any], rel_tol: float = 1e-6) -> Any:
    return compare_outputs(normalise(a), normalise(b), rel_tol=rel_tol)


# -- the normaliser, without kernels ------------------------------------------------------


def test_the_same_outputs_match_and_a_different_number_is_named() -> None:
    saved = _cell(_out("accuracy 0.9386\nrows 150\n"))
    assert _differ(saved, _cell(_out("accuracy 0.9386\n"), _out("rows 150\n"))) is None
    found = _differ(saved, _cell(_out("accuracy 0.8947\nrows 150\n")))
    assert found is not None and found.kind == "numbers"
    assert found.numbers == [("0.9386", "0.8947")]
    assert (found.a, found.b) == ("accuracy 0.9386", "accuracy 0.8947")


def test_numbers_within_the_tolerance_match_and_integers_must_be_equal() -> None:
    saved = _cell(_result({"text/plain": "0.30000000000000004"}))
    assert _differ(saved, _cell(_result({"text/plain": "0.3"}))) is None
    assert _differ(saved, _cell(_result({"text/plain": "0.31"}))) is not None
    assert _differ(saved, _cell(_result({"text/plain": "0.31"})), rel_tol=0.1) is None
    counted = _differ(_cell(_out("1000 rows")), _cell(_out("1001 rows")), rel_tol=0.1)
    assert counted is not None and counted.numbers == [("1000", "1001")]


def test_warnings_addresses_timings_and_column_padding_are_ignored() -> None:
    saved = _cell(
        _out("/x.py:3: FutureWarning: deprecated\n", name="stderr"),
        _out("CPU times: user 1.2 s, sys: 3 ms, total: 1.2 s\nWall time: 1.3 s\n"),
        _result({"text/plain": "<Model object at 0x7f3a2c1d0e50>"}),
        _out("   a     b\n0  1.5  10\n"),
        _out("Version(run_id='h20261130-202526-2716dc')\n"),
    )
    clean = _cell(
        _out("CPU times: user 0.9 s, sys: 1 ms, total: 0.9 s\nWall time: 0.95 s\n"),
        _result({"text/plain": "<Model object at 0x7f00aa11bb22>"}),
        _out("  a   b\n0 1.5 10\n"),
        _out("Version(run_id='h20261130-202555-7c9ef6')\n"),
        _out("100%|██████████| 10/10 [00:01<00:00, 9.12it/s]\n", name="stderr"),
    )
    assert _differ(saved, clean) is None
    assert normalise(saved).lines == (
        "<Model object at 0x<address>>",
        "   a     b",
        "0  1.5  10",
        "Version(run_id='<run id>')",
    )


def test_images_and_html_count_by_presence_and_errors_by_name() -> None:
    figure = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"}
    other = {"image/png": "AAAA", "text/plain": "<Figure size 640x480 with 1 Axes>"}
    assert _differ(_cell(_result(figure)), _cell(_result(other))) is None
    missing = _differ(_cell(_result(figure)), _cell())
    assert missing is not None and missing.kind == "text"  # its text/plain is gone too
    only_image = _differ(_cell(_result({"image/png": "AAAA"})), _cell())
    assert only_image is not None and only_image.kind == "display"
    assert (only_image.a, only_image.b) == ("1 image", "nothing shown")
    table = {"text/html": "<table>1</table>", "text/plain": "   x\n0  1"}
    assert _differ(_cell(_result(table)), _cell(_result({**table, "text/html": "<b/>"}))) is None
    error = new_output("error", ename="ValueError", evalue="bad", traceback=["at 0x1"])
    same = new_output("error", ename="ValueError", evalue="other text", traceback=[])
    assert _differ(_cell(error), _cell(same)) is None
    changed = _differ(_cell(error), _cell())
    assert changed is not None and (changed.a, changed.b) == ("ValueError", "no error")


def test_cells_are_aligned_with_the_saved_notebook_and_numbered_from_1() -> None:
    saved = [
        dict(new_markdown_cell("# title")),
        _cell(_out("n = 3\n"), source="n = 3", count=1),
        _cell(source="y = 1", count=None),  # not run when saved: not compared
        _cell(_out("total 6\n"), source="print(total)", count=2),
    ]
    injected = new_code_cell("n = 3", metadata={"tags": ["injected-parameters"]})
    executed = [
        saved[0],
        saved[1],
        dict(injected),
        _cell(_out("y\n"), count=2),
        _cell(_out("total 7\n"), count=3),
    ]
    compared, rows = differing_cells(
        saved,
        saved,
        executed,
        names=("saved", "clean"),
        rel_tol=1e-6,
        only_saved_outputs=True,
    )
    assert compared == 2
    assert rows == [
        {
            "cell": 4,
            "kind": "numbers",
            "saved": "total 6",
            "clean": "total 7",
            "numbers": [["6", "7"]],
        }
    ]


def test_a_saved_injected_parameters_cell_does_not_shift_the_cells_below() -> None:
    """A notebook saved from papermill's output: papermill replaces its injected cell."""
    saved = [
        _cell(source="n = 1", count=1),
        _cell(_out("n = 2\n"), source="n = 2", count=2),
        _cell(_out("2\n"), source="print(n)", count=3),
    ]
    saved[0]["metadata"] = {"tags": ["parameters"]}
    saved[1]["metadata"] = {"tags": ["injected-parameters"]}
    executed = [saved[0], _cell(source="n = 3", count=2), _cell(_out("2\n"), count=3)]
    executed[1]["metadata"] = {"tags": ["injected-parameters"]}
    compared, rows = differing_cells(
        saved, saved, executed, names=("saved", "clean"), rel_tol=0, only_saved_outputs=True
    )
    assert (compared, rows) == (1, [])


def test_nothing_saved_is_a_warning_unless_an_interactive_run_logged_metrics(
    tmp_path: Path,
) -> None:
    saved = [_cell(source="print(1)", count=1), _cell(source="x = 2", count=None)]
    executed = tmp_path / "executed.ipynb"
    notebook = new_notebook(cells=[new_code_cell("print(1)"), new_code_cell("x = 2")])
    nbformat.write(notebook, executed)
    run = CleanRun(
        run_id="h1",
        stage="s",
        outcome=StageOutcome(ok=True, duration_s=1.0, cells_total=2),
        executed=executed,
        metrics={"rows": 3.0},
    )
    alone = check_reproduction(saved, run, (None, {}, None), rel_tol=1e-6)
    assert alone.status == "warn" and "nothing saved to compare with" in alone.message
    logged = check_reproduction(saved, run, ("r1", {"rows": 3.0}, None), rel_tol=1e-6)
    assert logged.status == "pass" and "reproduce interactive run r1" in logged.message
    assert logged.details["metrics"] == [
        {"metric": "rows", "interactive": 3.0, "clean": 3.0, "same": True}
    ]
    differs = check_reproduction(saved, run, ("r1", {"rows": 4.0}, None), rel_tol=1e-6)
    assert differs.status == "fail" and "rows 4.0 -> 3.0" in differs.message


# -- likely causes, without kernels ------------------------------------------------------


def _cause(*sources: str, a: str = "0.93", b: str = "0.89") -> str:
    cells = parse_cells([dict(new_code_cell(s)) for s in sources])
    return likely_cause(cells, len(sources) - 1, {"run1": a, "run2": b}, ("run1", "run2"))


def test_likely_causes_are_read_from_the_cell_and_the_cells_above() -> None:
    assert _cause("import numpy as np", "print(np.random.rand())").startswith(
        "unseeded randomness: np.random.rand in this cell"
    )
    assert _cause("import numpy as np\nnp.random.seed(0)", "print(np.random.rand())") == NOT_SEEN
    assert "default_rng" in _cause("rng = np.random.default_rng()", "print(rng.random())")
    assert _cause("rng = np.random.default_rng(7)", "print(rng.random())") == NOT_SEEN
    forest = _cause(
        "from sklearn.ensemble import RandomForestClassifier",
        "model = RandomForestClassifier(n_estimators=10).fit(X, y)",
        "print(model.score(X, y))",
    )
    assert forest == "unseeded randomness: RandomForestClassifier in cell 2; no seed set above"
    seeded = "RandomForestClassifier(random_state=0, n_jobs=-1).fit(X, y)"
    assert _cause(seeded, "print(1)") == "threads/parallelism: n_jobs=-1 in cell 1"
    assert _cause("import random", "print(random.choice('abc'))").startswith(
        "unseeded randomness: random.choice"
    )
    assert _cause("import random\nrandom.seed(1)", "print(random.random())") == NOT_SEEN
    assert _cause("import torch", "torch.randn(3)").startswith("unseeded randomness: torch.randn")
    assert _cause("from datetime import datetime", "print(datetime.now())").startswith("time:")
    assert _cause("import time\nstart = time.time()", "print(1)") == "time: time.time in cell 1"
    assert _cause("print(pd.Timestamp.now())").startswith("time: pd.Timestamp.now")
    assert _cause("for word in {'a', 'b'}:\n    print(word)").startswith("hash ordering")
    assert _cause("print(hash('a'))").startswith("hash ordering")
    assert _cause("print(' '.join(names))", a="b a c", b="a c b").startswith(
        "hash ordering: the same values in another order"
    )
    assert _cause("x = 1", "print(load())") == NOT_SEEN
    assert _cause("%%bash\necho $RANDOM") == NOT_SEEN  # not Python: nothing read


def test_notebooks_that_may_write_files_are_not_run_twice_at_once() -> None:
    def writes(*sources: str) -> str | None:
        return writes_files(parse_cells([dict(new_code_cell(s)) for s in sources]))

    assert (
        writes("import pandas as pd", "df = pd.read_csv('in.csv')\nprint(open('a').read())") is None
    )
    assert writes("x = 1", "df.to_csv('out.csv')") == "to_csv() in cell 2"
    assert writes("s = df.to_csv()\ndf = df.rename(columns=str.lower).copy()") is None
    assert writes("names.remove('a')\ntext = text.replace('a', 'b')") is None
    assert writes("import os\nos.remove('old.csv')") == "remove() in cell 1"
    assert writes("with open('log.txt', 'a') as f:\n    f.write('x')") == "open() in cell 1"
    assert writes("open(name, mode)") == "open() in cell 1"
    assert writes("with Path('out.txt').open('w') as f:\n    pass") == "open() in cell 1"
    assert writes("text = Path('in.txt').open().read()\nio.open('a', 'r')") is None
    assert writes("plt.savefig('fig.png')") == "savefig() in cell 1"
    assert writes("!wget http://example.com/data.csv") is not None
    assert writes("%%writefile helper.py\nx = 1") is not None


# -- through the check, with kernels ---------------------------------------------------------


def _notebook(path: Path, cells: list[tuple[str, list[Any]]]) -> Path:
    """A parameters cell (``n = 3``), then code cells with the outputs saved as given (all
    run, in order)."""
    notebook = new_notebook()
    notebook.cells.append(
        new_code_cell("n = 3", execution_count=1, metadata={"tags": ["parameters"]})
    )
    for count, (source, outputs) in enumerate(cells, start=2):
        cell = new_code_cell(source, execution_count=count)
        cell.outputs = outputs
        notebook.cells.append(cell)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def _finding(handoff: dict[str, Any], check: str) -> dict[str, Any]:
    return next(f for f in handoff["findings"] if f["check"] == check)


def test_saved_outputs_that_reproduce_and_two_identical_runs_pass(workspace: Workspace) -> None:
    np.random.seed(0)
    value = np.random.rand()
    _notebook(
        workspace.root / "seeded.ipynb",
        [
            (
                "import numpy as np, warnings\nnp.random.seed(0)\n"
                "warnings.warn('saved warning')\nprint('draw', np.random.rand())",
                [
                    _out("seeded.py:3: UserWarning: saved warning\n", "stderr"),
                    _out(f"draw {value}\n"),
                ],
            ),
            ("object()", [_result({"text/plain": "<object at 0x7f3a2c1d0e50>"})]),
        ],
    )
    handoff = check_notebook(workspace, "seeded.ipynb")
    reproduction = _finding(handoff, "reproduction")
    assert reproduction["status"] == "pass", reproduction
    assert "saved outputs of 2 cell(s)" in reproduction["message"]
    determinism = _finding(handoff, "determinism")
    assert determinism["status"] == "pass", determinism
    assert handoff["status"] == "ready" and handoff["contract"]["repeat"] == 2
    assert len(determinism["details"]["runs"]) == 2
    runs = workspace.catalog.read("SELECT id FROM runs WHERE kind = 'handoff'")
    assert {r[0] for r in runs} == set(determinism["details"]["runs"])
    assert handoff["check_run"] == determinism["details"]["runs"][0]
    assert ENV_CAPTURE not in os.environ  # set for the runs made together, then restored


def test_a_saved_number_the_clean_run_does_not_give_fails_naming_the_cell(
    workspace: Workspace,
) -> None:
    _notebook(
        workspace.root / "forest.ipynb",
        [
            ("import mlops_lab\nctx = mlops_lab.context()", []),
            ("print('features', 4)", [_out("features 4\n")]),
            (
                "accuracy = 0.8947\nctx.log_metric('accuracy', accuracy)\n"
                "print(f'accuracy {accuracy}')",
                [_out("accuracy 0.9386\n")],
            ),
        ],
    )
    run_id = records.start_interactive_run(workspace.catalog, notebook="forest.ipynb")
    entry = {"type": "metric", "name": "accuracy", "value": 0.8947, "step": None}
    commit_entries(workspace.catalog, run_id, "interactive", [entry])
    result = CliRunner().invoke(
        cli,
        ["--workspace", str(workspace.root), "handoff", "forest.ipynb", "--repeat", "1", "--json"],
    )
    assert result.exit_code == 1, result.output
    handoff = json.loads(result.stdout)
    reproduction = _finding(handoff, "reproduction")
    assert reproduction["status"] == "fail" and reproduction["cell"] == 4
    assert "cell 4: 0.9386 -> 0.8947" in reproduction["message"]
    assert reproduction["details"]["cells"] == [
        {
            "cell": 4,
            "kind": "numbers",
            "saved": "accuracy 0.9386",
            "clean": "accuracy 0.8947",
            "numbers": [["0.9386", "0.8947"]],
        }
    ]
    # The logged interactive run is compared as well, in the same finding.
    assert f"reproduce interactive run {run_id}" in reproduction["message"]
    assert reproduction["details"]["metrics"][0]["same"] is True
    determinism = _finding(handoff, "determinism")
    assert determinism["status"] == "warn" and "Not checked" in determinism["message"]
    assert handoff["contract"]["repeat"] == 1
    report = handoff_report(workspace, handoff["id"])
    assert "## Outputs: saved vs clean run" in report
    assert "| 4 | accuracy 0.9386 | accuracy 0.8947 | 0.9386 -> 0.8947 |  |" in report


def test_unseeded_randomness_and_the_clock_make_two_clean_runs_differ(
    workspace: Workspace,
) -> None:
    _notebook(
        workspace.root / "noisy.ipynb",
        [
            ("import numpy as np", []),
            ("print('accuracy', np.random.rand())", [_out("accuracy 0.5\n")]),
            ("import datetime\nprint('finished at', datetime.datetime.now())", []),
        ],
    )
    handoff = check_notebook(workspace, "noisy.ipynb")
    reproduction = _finding(handoff, "reproduction")
    assert reproduction["status"] == "fail" and reproduction["cell"] == 3
    assert reproduction["details"]["cells"][0]["saved"] == "accuracy 0.5"
    assert "(likely cause: unseeded randomness: np.random.rand" in reproduction["message"]
    determinism = _finding(handoff, "determinism")
    assert determinism["status"] == "fail" and determinism["cell"] == 3, determinism
    rows = determinism["details"]["cells"]
    assert [r["cell"] for r in rows] == [3, 4]
    assert rows[0]["cause"].startswith("unseeded randomness: np.random.rand in this cell")
    assert rows[1]["cause"].startswith("time: datetime.datetime.now in this cell")
    assert "unseeded randomness" in determinism["message"]
    assert handoff["status"] == "failing"


def test_a_second_run_that_raises_fails_and_one_that_does_not_finish_is_not_compared(
    workspace: Workspace,
) -> None:
    """The notebook leaves a file behind, so the runs are made one after the other and the
    second one sees the file: it raises, or it sleeps past the timeout."""
    leave = "import os\nseen = os.path.exists('{0}')\nopen('{0}', 'w').close()"
    _notebook(
        workspace.root / "raises.ipynb",
        [(leave.format("raised.flag"), []), ("if seen:\n    raise ValueError('again')", [])],
    )
    raised = check_notebook(workspace, "raises.ipynb")
    assert _finding(raised, "clean_run")["status"] == "pass"
    determinism = _finding(raised, "determinism")
    assert determinism["status"] == "fail" and determinism["cell"] == 3, determinism
    assert "Clean run 2 raised an error although run 1 succeeded" in determinism["message"]
    assert "ValueError: again" in determinism["message"]
    _notebook(
        workspace.root / "sleeps.ipynb",
        [(leave.format("slept.flag"), []), ("import time\nif seen:\n    time.sleep(60)", [])],
    )
    slept = check_notebook(workspace, "sleeps.ipynb", timeout=8)
    determinism = _finding(slept, "determinism")
    assert determinism["status"] == "warn", determinism
    assert determinism["message"].startswith("Not compared: clean run 2 did not finish")


def test_repeat_is_checked_before_anything_runs(workspace: Workspace) -> None:
    _notebook(workspace.root / "a.ipynb", [("print(1)", [])])
    with pytest.raises(InvalidInputError, match="repeat must be a number of clean runs"):
        check_notebook(workspace, "a.ipynb", repeat=0)
    assert workspace.catalog.read_value("SELECT count(*) FROM handoffs") == 0
