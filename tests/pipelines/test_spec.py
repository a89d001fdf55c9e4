from __future__ import annotations

import pytest

from mlops_lab import Workspace
from mlops_lab.errors import PipelineNotFoundError, PipelineSpecError
from mlops_lab.pipelines import load_pipeline, load_pipelines
from mlops_lab.pipelines.notebook import read_notebook
from mlops_lab.pipelines.parameters import parse_override
from tests.notebooks import two_stage_workspace, write_notebook, write_pipelines


def _problems(workspace: Workspace) -> str:
    with pytest.raises(PipelineSpecError) as info:
        load_pipelines(workspace)
    assert info.value.http_status == 422
    return str(info.value)


def test_valid_pipeline_is_ordered_with_notebook_defaults(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    spec = load_pipeline(ws)
    assert [s.name for s in spec.stages] == ["make", "total"]
    assert spec.stage("make").parameters == {"n": 3}
    assert spec.stage("total").inputs == {"datasets": ("numbers",)}
    assert spec.downstream("make") == {"make", "total"}


def test_stage_parameters_and_overrides_are_typed(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    spec = load_pipeline(ws, "demo", overrides={"n": 7, "factor": 3})
    assert spec.stage("make").parameters == {"n": 7}
    assert spec.stage("total").parameters == {"factor": 3.0}  # int widened to float
    assert isinstance(spec.stage("total").parameters["factor"], float)


def test_unknown_stage_in_needs(workspace: Workspace) -> None:
    write_notebook(workspace.root / "a.ipynb", "x = 1")
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: a.ipynb, needs: [ghost]}
    """,
    )
    assert "stage 'a' needs unknown stage 'ghost' (stages: a)" in _problems(ws)


def test_a_cycle_is_printed(workspace: Workspace) -> None:
    for name in "abc":
        write_notebook(workspace.root / f"{name}.ipynb", "x = 1")
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: a.ipynb, needs: [c]}
              - {name: b, notebook: b.ipynb, needs: [a]}
              - {name: c, notebook: c.ipynb, needs: [b]}
    """,
    )
    assert "pipeline 'p' has a cycle: a -> c -> b -> a" in _problems(ws)


def test_missing_notebook(workspace: Workspace) -> None:
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: nowhere/a.ipynb}
    """,
    )
    assert "stage 'a': notebook nowhere/a.ipynb does not exist" in _problems(ws)


def test_notebook_without_parameters_cell_is_a_stage_with_zero_parameters(
    workspace: Workspace,
) -> None:
    write_notebook(workspace.root / "a.ipynb", None, "print(1)")
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: a.ipynb}
    """,
    )
    assert load_pipelines(ws)["p"].stage("a").parameters == {}
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: a.ipynb, parameters: {n: 2}}
    """,
    )
    message = _problems(ws)
    assert "parameter 'n' cannot be set: a.ipynb has no cell tagged 'parameters'" in message
    assert "--add-parameters" in message


def test_parameter_not_defined_in_the_cell(workspace: Workspace) -> None:
    write_notebook(workspace.root / "a.ipynb", "alpha = 0.1")
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: a.ipynb, parameters: {beta: 2}}
    """,
    )
    message = _problems(ws)
    assert "parameter 'beta' is not defined in the parameters cell of a.ipynb" in message
    assert "(defined: alpha)" in message


def test_value_of_the_wrong_type(workspace: Workspace) -> None:
    write_notebook(workspace.root / "a.ipynb", "epochs = 10\nname = 'x'")
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: a.ipynb, parameters: {epochs: ten, name: 3}}
    """,
    )
    message = _problems(ws)
    assert "parameter 'epochs' expects int (default 10), got str 'ten'" in message
    assert "parameter 'name' expects str (default 'x'), got int 3" in message


def test_duplicate_stage_names(workspace: Workspace) -> None:
    write_notebook(workspace.root / "a.ipynb", "x = 1")
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: a.ipynb}
              - {name: a, notebook: a.ipynb}
    """,
    )
    assert "pipeline 'p' has two stages named 'a'" in _problems(ws)


def test_malformed_yaml_names_the_line(workspace: Workspace) -> None:
    from mlops_lab.errors import WorkspaceConfigError

    (workspace.root / "mlops_lab.yaml").write_text(
        "version: 1\nname: w\npipelines:\n  p:\n    stages: [\n      {name: a\n"
    )
    with pytest.raises(WorkspaceConfigError, match=r"malformed YAML at line \d+"):
        Workspace(workspace.root)


def test_every_problem_is_listed_at_once(workspace: Workspace) -> None:
    write_notebook(workspace.root / "a.ipynb", "x = 1")
    ws = write_pipelines(
        workspace,
        """
        pipelines:
          p:
            stages:
              - {name: a, notebook: a.ipynb, parameters: {x: 'one'}, colour: red}
              - {name: b, notebook: b.ipynb}
    """,
    )
    with pytest.raises(PipelineSpecError) as info:
        load_pipelines(ws)
    assert len(info.value.problems) == 3
    assert "unknown field 'colour'" in str(info.value)


def test_unknown_pipeline_lists_the_known_ones(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    with pytest.raises(PipelineNotFoundError, match=r"No pipeline 'nope'.*pipelines: demo"):
        load_pipeline(ws, "nope")


def test_override_of_a_parameter_no_stage_defines(workspace: Workspace) -> None:
    ws = two_stage_workspace(workspace)
    with pytest.raises(
        PipelineSpecError, match="no stage of pipeline 'demo' defines parameter 'zz'"
    ):
        load_pipeline(ws, overrides={"zz": 1})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=3", ("n", 3)),
        ("lr=0.5", ("lr", 0.5)),
        ("flag=true", ("flag", True)),
        ("cols=[a, b]", ("cols", ["a", "b"])),
        ("name=churn", ("name", "churn")),
        ("empty=", ("empty", "")),
    ],
)
def test_parse_override(text: str, expected: tuple[str, object]) -> None:
    assert parse_override(text) == expected


def test_parse_override_rejects_garbage() -> None:
    with pytest.raises(PipelineSpecError, match="must look like name=value"):
        parse_override("novalue")


def test_source_hash_ignores_outputs_and_metadata(workspace: Workspace) -> None:
    import nbformat

    path = write_notebook(workspace.root / "a.ipynb", "x = 1", "print(x)")
    before = read_notebook(path).source_hash
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    notebook.cells[1].execution_count = 7
    notebook.cells[1].metadata["collapsed"] = True
    notebook.metadata["widgets"] = {"state": {}}
    nbformat.write(notebook, path)
    assert read_notebook(path).source_hash == before
    notebook.cells[1].source = "print(x + 1)"
    nbformat.write(notebook, path)
    assert read_notebook(path).source_hash != before


def test_the_code_hash_sees_which_cell_is_tagged_parameters() -> None:
    from mlops_lab.pipelines.notebook import source_hash

    plain = [{"cell_type": "code", "source": "n = 1", "metadata": {}}]
    tagged = [{**plain[0], "metadata": {"tags": ["parameters"]}}]
    other = [{**plain[0], "metadata": {"tags": ["other"]}, "outputs": [{"text": "x"}]}]
    assert source_hash(tagged) != source_hash(plain)  # papermill injects after that cell
    assert source_hash(other) == source_hash(plain)  # other tags and outputs do not count


def test_a_parameters_cell_that_is_not_python_is_refused_by_pipelines(workspace: Workspace) -> None:
    from mlops_lab.errors import PipelineSpecError
    from mlops_lab.pipelines.service import notebook_pipeline

    write_notebook(workspace.root / "broken.ipynb", "a = 1\n= 2", "print(a)")
    with pytest.raises(PipelineSpecError, match=r"parameters cell \(cell 1\).*not valid Python"):
        notebook_pipeline(workspace, "broken.ipynb")
