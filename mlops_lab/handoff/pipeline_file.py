"""Add a handed-off notebook's stage to ``mlops_lab.yaml``, keeping the file's comments.

The file is edited as a round-trip YAML document (ruamel.yaml): comments,
key order and quoting elsewhere in the file stay as the user wrote them.
Only the one stage entry is added or updated; if the result is not a valid
pipeline the file is put back byte for byte and the error raised.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mlops_lab.errors import MlopsLabError, WorkspaceConfigError
from mlops_lab.workspace import CONFIG_FILE, Workspace

__all__ = ["write_stage"]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def _child(parent: CommentedMap, key: str, kind: type, config: Path) -> Any:
    value = parent.get(key)
    if value is None:
        value = parent[key] = kind()
    if not isinstance(value, kind):
        raise WorkspaceConfigError(
            config,
            f"'{key}' must be a {'mapping' if kind is CommentedMap else 'list'}; "
            "fix it by hand, then check the notebook again.",
        )
    return value


def write_stage(workspace: Workspace, contract: dict[str, Any]) -> None:
    """Add or update the contract's stage in its pipeline (comments in the file are kept)."""
    from mlops_lab.pipelines.spec import load_pipeline

    config = workspace.root / CONFIG_FILE
    before = config.read_text(encoding="utf-8")
    yaml = _yaml()
    data = yaml.load(before)
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise WorkspaceConfigError(config, "the file must be a mapping at the top level.")
    pipelines = _child(data, "pipelines", CommentedMap, config)
    pipeline = _child(pipelines, contract["pipeline"], CommentedMap, config)
    stages = _child(pipeline, "stages", CommentedSeq, config)
    entry = next(
        (s for s in stages if isinstance(s, CommentedMap) and s.get("name") == contract["stage"]),
        None,
    )
    if entry is None:
        entry = CommentedMap(name=contract["stage"])
        stages.append(entry)
    entry["notebook"] = contract["notebook"]
    inputs = {k: sorted(v) for k, v in contract["inputs"].items() if v}
    if inputs:
        entry["inputs"] = inputs
    outputs = {k: list(v) for k, v in contract["outputs"].items() if v}
    if outputs:
        entry["outputs"] = outputs
    if contract.get("kernel"):  # checked in a kernel asked for by name: run in it too
        entry["kernel"] = contract["kernel"]
    out = io.StringIO()
    yaml.dump(data, out)
    config.write_text(out.getvalue(), encoding="utf-8")
    try:
        load_pipeline(Workspace(workspace.root), contract["pipeline"])
    except MlopsLabError:
        config.write_text(before, encoding="utf-8")  # leave the file as it was
        raise
