"""mlops_lab.yaml written by mlops-lab keeps the user's comments, order and formatting."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from mlops_lab.errors import PipelineSpecError, WorkspaceConfigError
from mlops_lab.handoff.pipeline_file import write_stage
from mlops_lab.pipelines.spec import load_pipeline
from mlops_lab.workspace import CONFIG_FILE, Workspace, init_workspace, write_config

# Hand-formatted: four-space indentation, "-   " items, comments everywhere, blank
# lines, quoted and flow-style values, keys in no particular order.
FOUR_SPACES = """\
# The churn lab: edited by hand, please keep the comments.
name: "churn lab"   # quoted on purpose
version: 1

settings:
    owner: 'data team'    # single quotes too
    tags: [churn, weekly]

pipelines:
    # Training: prepare, then train.
    churn:
        stages:
        -   name: prepare
            notebook: notebooks/prepare.ipynb   # reads the raw export
            outputs: {datasets: [clean]}

        -   name: train
            notebook: notebooks/train.ipynb
            inputs:
                datasets:
                -   clean
    # Scoring runs on its own.
    scoring: {stages: []}
# End of file.
"""

# The layout ruamel writes by default (and the demo uses): two spaces, items indented.
TWO_SPACES = """\
version: 1
name: demo  # a comment after a value
pipelines:
  churn:
    stages:
      - name: prepare   # first
        notebook: notebooks/prepare.ipynb
      - name: train
        notebook: notebooks/train.ipynb
        inputs:
          datasets:
            - clean
"""


def _notebook(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), path)


@pytest.fixture(params=["four_spaces", "two_spaces"])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Workspace:
    init_workspace(tmp_path)
    for name in ("prepare", "train", "evaluate"):
        _notebook(tmp_path / "notebooks" / f"{name}.ipynb")
    text = FOUR_SPACES if request.param == "four_spaces" else TWO_SPACES
    (tmp_path / CONFIG_FILE).write_text(text, encoding="utf-8")
    return Workspace(tmp_path)


def _contract(stage: str, notebook: str, **inputs: list[str]) -> dict[str, Any]:
    return {
        "pipeline": "churn",
        "stage": stage,
        "notebook": notebook,
        "inputs": {"datasets": [], "models": [], **inputs},
        "outputs": {"datasets": [], "models": [], "metrics": []},
        "kernel": None,
    }


def _changes(before: str, after: str) -> list[tuple[str, list[str], list[str]]]:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [
        (tag, old[i1:i2], new[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def test_a_new_stage_is_added_and_nothing_else_changes(workspace: Workspace) -> None:
    config = workspace.root / CONFIG_FILE
    before = config.read_text(encoding="utf-8")
    write_stage(workspace, _contract("evaluate", "notebooks/evaluate.ipynb", datasets=["clean"]))
    after = config.read_text(encoding="utf-8")
    [(tag, removed, added)] = _changes(before, after)
    assert tag == "insert" and removed == []
    assert "name: evaluate" in added[0] and all(line.strip() for line in added)
    # The new entry is written in the file's own layout.
    item = next(line for line in before.splitlines() if "name: prepare" in line)
    assert added[0].index("-") == item.index("-")
    assert added[0].index("name") == item.index("name")
    stages = load_pipeline(Workspace(workspace.root), "churn").stages
    assert [s.name for s in stages] == ["prepare", "train", "evaluate"]


def test_an_existing_stage_is_updated_in_place(workspace: Workspace) -> None:
    config = workspace.root / CONFIG_FILE
    before = config.read_text(encoding="utf-8")
    write_stage(workspace, _contract("train", "notebooks/evaluate.ipynb", datasets=["clean"]))
    after = config.read_text(encoding="utf-8")
    [(tag, removed, added)] = _changes(before, after)
    assert tag == "replace"
    assert [line.strip() for line in removed] == ["notebook: notebooks/train.ipynb"]
    assert [line.strip() for line in added] == ["notebook: notebooks/evaluate.ipynb"]
    # Writing the same stage again changes nothing at all.
    write_stage(workspace, _contract("train", "notebooks/evaluate.ipynb", datasets=["clean"]))
    assert config.read_text(encoding="utf-8") == after


def test_a_write_that_would_break_the_pipeline_leaves_the_file_untouched(
    workspace: Workspace,
) -> None:
    config = workspace.root / CONFIG_FILE
    before = config.read_bytes()
    with pytest.raises(PipelineSpecError, match="does not exist"):
        write_stage(workspace, _contract("evaluate", "notebooks/missing.ipynb"))
    assert config.read_bytes() == before
    assert sorted(p.name for p in workspace.root.iterdir() if p.name.startswith(".")) == [
        ".mlops_lab"
    ]  # no temporary file left behind


def test_write_config_refuses_an_invalid_file_and_keeps_the_old_one(
    workspace: Workspace,
) -> None:
    config = workspace.root / CONFIG_FILE
    before = config.read_bytes()
    config.chmod(0o640)
    for text, problem in (
        ("version: 1\nname: [unclosed\n", "malformed YAML"),
        ("- a list\n- not a mapping\n", "expected a mapping"),
        ("version: 1\nname: x\npipelines: [1, 2]\n", "'pipelines' must be a mapping"),
        ("version: 99\nname: x\n", "newer than this mlops-lab"),
    ):
        with pytest.raises(WorkspaceConfigError, match=problem) as refused:
            write_config(workspace.root, text)
        assert str(config) in refused.value.message
        assert config.read_bytes() == before
    assert [p.name for p in workspace.root.iterdir() if p.name.endswith(".tmp")] == []
    # A valid text replaces the file whole, keeping its permissions.
    write_config(workspace.root, before.decode() + "# appended\n")
    assert config.read_bytes() == before + b"# appended\n"
    assert config.stat().st_mode & 0o777 == 0o640
