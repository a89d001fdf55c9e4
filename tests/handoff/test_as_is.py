"""Notebooks as they are (#13 items 3 and 6): no parameters cell, None defaults, magics,
saved interrupts and errors, missing imports and Python versions before the run, the
parameters cell added on request, and stages never taken over."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from tornado.httpclient import HTTPClientError

from mlops_lab import Workspace, init_workspace, open_workspace
from mlops_lab.cli import cli
from mlops_lab.errors import ConflictError, MlopsLabError, PipelineSpecError, StageTakenError
from mlops_lab.handoff import check_notebook, list_handoffs
from mlops_lab.handoff.add_parameters import add_parameters_cell
from mlops_lab.handoff.contract import check_in_subprocess
from mlops_lab.handoff.imports import _distributions, check_imports, notebook_imports
from mlops_lab.handoff.paths import check_paths
from mlops_lab.handoff.stage_names import check_stage_free
from mlops_lab.handoff.static import (
    check_execution_order,
    check_parameters,
    parse_cells,
)
from mlops_lab.pipelines import load_pipeline
from mlops_lab.pipelines.notebook import read_notebook
from mlops_lab.pipelines.run_options import RunOptions
from mlops_lab.pipelines.service import notebook_pipeline, run_pipeline
from tests.notebooks import write_notebook, write_pipelines


def _findings(handoff: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [f for f in handoff["findings"] if f["check"] == check]


def _cli(root: Path, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli, ["--workspace", str(root), *args])
    assert result.exit_code == code, result.output
    return result


def _saved(path: Path, cells: list[Any], **metadata: Any) -> Path:
    notebook = new_notebook(cells=cells)
    notebook.metadata.update(
        {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        **metadata,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def test_no_parameters_cell_is_a_warning_offering_the_fix_and_the_clean_run_happens(
    workspace: Workspace,
) -> None:
    write_notebook(workspace.root / "plain.ipynb", None, "import math\nprint(math.pi)")
    handoff = check_notebook(workspace, "plain.ipynb")
    (parameters,) = _findings(handoff, "parameters")
    assert parameters["status"] == "warn" and "--add-parameters" in parameters["message"]
    assert parameters["details"]["fix"] == "add_parameters"
    assert [f["status"] for f in _findings(handoff, "clean_run")] == ["pass"]
    assert _findings(handoff, "outputs") and _findings(handoff, "reproduction")
    assert handoff["status"] == "ready" and handoff["contract"]["parameters"] == {}


def test_add_parameters_moves_the_first_cells_literals_and_a_run_overrides_them(
    workspace: Workspace,
) -> None:
    first = new_code_cell(
        "import mlops_lab\nn = 3  # rows\nlabel = 'a'\nctx = mlops_lab.context()\n"
        "ctx.log_metric('n', n * 2)",
        execution_count=1,
        outputs=[new_output("stream", name="stdout", text="done\n")],
        metadata={"tags": ["setup"], "collapsed": False},
    )
    path = _saved(workspace.root / "nb.ipynb", [new_markdown_cell("# Title"), first])
    document = nbformat.read(path, as_version=4)
    document.nbformat_minor = 4  # an older notebook: no cell ids
    for cell in document.cells:
        cell.pop("id", None)
    nbformat.write(document, path)

    added = _cli(workspace.root, "handoff", "nb.ipynb", "--add-parameters", "--json")
    answer = json.loads(added.stdout)
    assert answer["moved"] == ["n", "label"] and answer["cell"] == 2
    assert "Moved 2 literal assignment(s) (n, label)" in answer["message"]
    saved = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    assert saved.nbformat_minor == 4 and all("id" not in c for c in saved.cells)
    assert saved.cells[1].metadata.tags == ["parameters"]
    assert saved.cells[1].source == "n = 3  # rows\nlabel = 'a'"
    kept = saved.cells[2]
    assert kept.source == "import mlops_lab\nctx = mlops_lab.context()\nctx.log_metric('n', n * 2)"
    assert kept.outputs[0]["text"] == "done\n" and kept.execution_count == 1
    assert kept.metadata.tags == ["setup"] and kept.metadata.collapsed is False
    assert read_notebook(path).parameters["n"].default == 3

    # Moved, not copied: papermill's injected value is not overridden by the old cell.
    ran = _cli(workspace.root, "run", "--notebook", "nb.ipynb", "-p", "n=5", "--json")
    assert json.loads(ran.stdout)["metrics"] == {"nb": {"n": 10.0}}

    again = _cli(workspace.root, "handoff", "nb.ipynb", "--add-parameters", code=1)
    assert "already has a parameters cell (cell 2)" in again.stderr


def test_add_parameters_tags_a_cell_of_assignments_or_adds_an_empty_one(
    workspace: Workspace,
) -> None:
    write_notebook(
        workspace.root / "only.ipynb", None, "# knobs\nepochs = 10\nrate = None", "x = 1"
    )
    done = add_parameters_cell(workspace, "only.ipynb")
    assert done["tagged_existing"] and done["moved"] == ["epochs", "rate"] and done["cell"] == 1
    info = read_notebook(workspace.root / "only.ipynb")
    assert info.parameters_cell == 0 and set(info.parameters) == {"epochs", "rate"}

    write_notebook(workspace.root / "code.ipynb", None, "import os\nprint(os.getcwd())")
    with pytest.raises(PipelineSpecError, match=r"cannot be set: code\.ipynb has no cell tagged"):
        notebook_pipeline(workspace, "code.ipynb", {"n": 1})  # zero parameters: none to set
    done = add_parameters_cell(workspace, "code.ipynb")
    assert done["moved"] == [] and "Nothing to move" in done["message"]
    cells = nbformat.read(workspace.root / "code.ipynb", as_version=4).cells
    assert cells[0].metadata.tags == ["parameters"] and cells[0].source.startswith("#")
    assert cells[1].source == "import os\nprint(os.getcwd())"
    with pytest.raises(ConflictError, match="already has a parameters cell"):
        add_parameters_cell(workspace, "code.ipynb")


def test_a_none_default_is_a_parameter_of_any_value(workspace: Workspace) -> None:
    path = write_notebook(workspace.root / "req.ipynb", "data_path = None\nn = 2", "print(n)")
    finding = check_parameters(read_notebook(path))
    assert finding.status == "pass" and "data_path: none (any value) = None" in finding.message
    spec = notebook_pipeline(workspace, "req.ipynb", {"data_path": "in.csv"})
    assert spec.stages[0].parameters == {"data_path": "in.csv", "n": 2}
    assert notebook_pipeline(workspace, "req.ipynb", {"data_path": [1]}).stages[0].parameters


def test_magics_are_understood(workspace: Workspace) -> None:
    path = _saved(
        workspace.root / "magic.ipynb",
        [
            new_code_cell("%%bash\nfor f in *.csv; do echo $f; done", execution_count=1),
            new_code_cell(
                "%%writefile helper.py\ndef twice(x):\n    return 2 * x", execution_count=2
            ),
            new_code_cell("%%time\ntotal = later + 1", execution_count=3),
            new_code_cell("# only a note, never run\n\n# another"),
            new_code_cell(
                "files = !ls\nt = %time len(files)\ntext = open('helper.py').read()\nimport helper",
                execution_count=4,
            ),
            new_code_cell("later = 1", execution_count=5),
        ],
    )
    cells = parse_cells(nbformat.read(path, as_version=4)["cells"])
    findings = check_execution_order(cells)
    messages = [f.message for f in findings]
    assert not any("not valid Python" in m for m in messages), messages
    assert not any("was not run" in m for m in messages), messages
    # The %%time body is Python: its read of a name defined below is found.
    (hidden,) = [f for f in findings if f.details.get("name") == "later"]
    assert hidden.cell == 2 and "Cell 3 (line 2) reads 'later'" in hidden.message
    # %%writefile writes helper.py: reading or importing it is not an undeclared input.
    paths = check_paths(cells, path, workspace.root)
    assert [f.status for f in paths] == ["pass"], [f.message for f in paths]
    assert "helper" not in notebook_imports(cells, path, workspace.root)


def test_a_saved_interrupt_or_error_is_flagged_with_its_cell(workspace: Workspace) -> None:
    interrupted = new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[])
    failed = new_output("error", ename="ValueError", evalue="bad shape", traceback=[])
    path = _saved(
        workspace.root / "stopped.ipynb",
        [
            new_markdown_cell("intro"),
            new_code_cell("x = 1", execution_count=1),
            new_code_cell("for i in range(10**9): pass", execution_count=2, outputs=[interrupted]),
            new_code_cell("y = x", execution_count=3, outputs=[failed]),
        ],
    )
    findings = check_execution_order(parse_cells(nbformat.read(path, as_version=4)["cells"]))
    by_cell = {f.cell: f for f in findings if f.details.get("error")}
    assert by_cell[2].status == "warn" and by_cell[2].message.startswith("Cell 3 was interrupted")
    assert by_cell[3].status == "warn" and "ValueError: bad shape" in by_cell[3].message
    assert by_cell[3].to_dict()["cell"] == 4


def test_missing_imports_are_listed_together_and_the_clean_run_is_skipped(
    workspace: Workspace,
) -> None:
    (workspace.root / "localmod.py").write_text("X = 1\n")
    write_notebook(
        workspace.root / "needs.ipynb",
        "n = 1",
        "import os, json\nimport fake_mod_alpha\nimport localmod",
        "def f():\n    from fake_mod_beta.sub import thing\n    return thing",
        "try:\n    import fake_mod_gamma\nexcept ImportError:\n    fake_mod_gamma = None",
        "from . import sibling",
        "%pip install fake-mod-delta==1.0\nimport fake_mod_delta",
    )
    handoff = check_notebook(workspace, "needs.ipynb")
    environment = _findings(handoff, "environment")
    (missing,) = [f for f in environment if f["status"] == "fail"]
    assert "fake_mod_alpha (cell 2)" in missing["message"]
    assert "fake_mod_beta (cell 3)" in missing["message"] and missing["cell"] == 2
    assert [m["module"] for m in missing["details"]["missing"]] == [
        "fake_mod_alpha",
        "fake_mod_beta",
    ]
    (optional,) = [f for f in environment if "missing_optional" in f["details"]]
    assert optional["status"] == "warn" and "fake_mod_gamma (cell 4)" in optional["message"]
    (installs,) = [f for f in environment if "installed_by_notebook" in f["details"]]
    assert installs["status"] == "warn" and "fake_mod_delta (cell 6)" in installs["message"]
    assert "localmod" not in json.dumps(environment)
    (clean,) = _findings(handoff, "clean_run")
    assert clean["status"] == "fail"
    assert clean["message"] == "Not run: install fake_mod_alpha, fake_mod_beta first."
    assert handoff["check_run"] is None and handoff["status"] == "failing"
    assert _distributions(["sklearn", "cv2", "yaml"]) == {
        "sklearn": "scikit-learn",
        "cv2": "opencv-python",
        "yaml": "pyyaml",
    }


def test_the_saved_python_version_is_compared_with_the_kernels(workspace: Workspace) -> None:
    path = _saved(
        workspace.root / "old.ipynb",
        [new_code_cell("import pandas")],
        language_info={"name": "python", "version": "3.7.3"},
    )
    document = json.loads(path.read_text())
    findings, to_install = check_imports(
        parse_cells(document["cells"]),
        notebook=path,
        root=workspace.root,
        document=document,
        kernel="python3",
    )
    (version,) = [f for f in findings if f.details.get("saved_python")]
    assert version.status == "warn" and to_install == []
    assert "saved with Python 3.7.3" in version.message
    assert f"runs Python {version.details['kernel_python']}" in version.message
    document["metadata"]["language_info"]["version"] = version.details["kernel_python"]
    same, _ = check_imports(
        parse_cells(document["cells"]),
        notebook=path,
        root=workspace.root,
        document=document,
        kernel="python3",
    )
    assert [f.status for f in same] == ["pass"]


def test_a_stage_is_never_taken_over_by_another_notebook(workspace: Workspace) -> None:
    ws = workspace
    write_notebook(ws.root / "pm" / "report_mode_test.ipynb", "n = 1", "print(n)")
    write_notebook(ws.root / "team_b" / "report_mode_test.ipynb", "n = 2", "print(n)")
    first = check_notebook(ws, "pm/report_mode_test.ipynb", write_pipeline=False)
    assert first["status"] == "ready" and first["stage"] == "report_mode_test"
    with pytest.raises(StageTakenError) as taken:
        check_notebook(ws, "team_b/report_mode_test.ipynb")
    error = taken.value
    assert (
        error.http_status == 409 and error.to_dict()["suggested_stage"] == "team_b_report_mode_test"
    )
    assert "already runs pm/report_mode_test.ipynb" in error.message
    assert "--stage team_b_report_mode_test" in error.message
    (listed,) = list_handoffs(ws)  # nothing stored for team_b; pm keeps its stage
    assert (listed["notebook"], listed["stage"], listed["status"]) == (
        "pm/report_mode_test.ipynb",
        "report_mode_test",
        "ready",
    )
    check_stage_free(ws, "handoff", "report_mode_test", "pm/report_mode_test.ipynb")  # its own
    # Through the CLI: the choice, and a non-zero exit.
    refused = _cli(ws.root, "handoff", "team_b/report_mode_test.ipynb", code=1)
    assert "--stage team_b_report_mode_test" in refused.stderr
    # Relayed from the server's child process with its status and suggestion.
    with pytest.raises(MlopsLabError) as relayed:
        check_in_subprocess(open_workspace(ws.root), "team_b/report_mode_test.ipynb", by="t")
    assert relayed.value.http_status == 409
    body = relayed.value.to_dict()
    assert (
        body["type"] == "StageTakenError" and body["suggested_stage"] == "team_b_report_mode_test"
    )
    assert (body["stage"], body["taken_by"]) == ("report_mode_test", "pm/report_mode_test.ipynb")
    # A stage bound in mlops_lab.yaml counts too.
    ws = write_pipelines(
        ws,
        """
        pipelines:
          handoff:
            stages:
              - {name: report_mode_test, notebook: pm/report_mode_test.ipynb}
              - {name: other, notebook: team_b/report_mode_test.ipynb}
    """,
    )
    with pytest.raises(StageTakenError, match=r"already runs team_b/report_mode_test\.ipynb"):
        check_stage_free(ws, "handoff", "other", "pm/report_mode_test.ipynb")


def test_a_pipeline_stage_without_a_parameters_cell_runs(workspace: Workspace) -> None:
    write_notebook(
        workspace.root / "plain.ipynb",
        None,
        "import mlops_lab\nmlops_lab.context().log_metric('answer', 42)",
    )
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: plain, notebook: plain.ipynb}
    """,
    )
    record = run_pipeline(ws, load_pipeline(ws, "p"), RunOptions(jobs=1))
    assert record.status == "succeeded" and record.metrics == {"plain": {"answer": 42.0}}


async def test_add_parameters_rest(jp_fetch: Any, jp_root_dir: Path) -> None:
    init_workspace(jp_root_dir, name="api")
    write_notebook(jp_root_dir / "plain.ipynb", None, "n = 4\nprint(n)")

    async def post(body: dict[str, Any]) -> Any:
        return await jp_fetch(
            "mlops-lab", "api", "handoffs", "parameters", method="POST", body=json.dumps(body)
        )

    answer = json.loads((await post({"notebook": "plain.ipynb"})).body)
    assert answer["moved"] == ["n"] and answer["cell"] == 1 and not answer["tagged_existing"]
    for body, status, message in [
        ({"notebook": "plain.ipynb"}, 409, "already has a parameters cell"),
        ({"notebook": "missing.ipynb"}, 400, "missing.ipynb"),
        ({"notebook": "plain.ipynb", "stage": "x"}, 422, "stage: unknown field"),
        ({}, 422, "notebook: is required"),
    ]:
        with pytest.raises(HTTPClientError) as failed:
            await post(body)
        assert failed.value.code == status
        assert message in json.loads(failed.value.response.body)["error"]["message"]
