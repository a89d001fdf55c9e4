"""Add a handed-off notebook's stage to ``mlops_lab.yaml``, keeping the file's comments.

The file is edited as a round-trip YAML document (ruamel.yaml): comments,
key order, quoting and indentation (guessed from the file itself) stay as the
user wrote them. Only the one stage entry is added or updated. The result is
checked (it parses as a workspace file and its pipeline loads) before it
replaces the file, so an invalid result raises and leaves the file untouched.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mlops_lab.errors import WorkspaceConfigError
from mlops_lab.workspace import CONFIG_FILE, Workspace, write_config

__all__ = ["proposed_config", "write_stage"]


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # long lines are the user's: never re-wrapped
    return yaml


def _layout(data: CommentedMap, lines: list[str]) -> tuple[int, int, int]:
    """The file's own indentation: (mapping, sequence, dash offset), as ruamel counts them.

    Read from the first nested block mapping and block sequence; where the file has
    none, ruamel's usual 2, 4, 2.
    """
    mapping = sequence = offset = None
    queue: list[CommentedMap] = [data]
    while queue and (mapping is None or sequence is None):
        node = queue.pop(0)
        for key, value in node.items():
            column = node.lc.key(key)[1]
            if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
                if mapping is None:
                    mapping = value.lc.key(next(iter(value)))[1] - column
                queue.append(value)
            elif isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
                if sequence is None:
                    line, item = value.lc.item(0)
                    sequence, offset = item - column, lines[line].rfind("-", 0, item) - column
                queue.extend(v for v in value if isinstance(v, CommentedMap))
    if sequence is None or offset is None or offset < 0 or sequence < offset + 2:
        sequence, offset = 4, 2
    return (mapping if mapping and mapping > 0 else 2), sequence, offset


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


def _assign(parent: CommentedMap, key: str, value: Any) -> None:
    """``parent[key] = value``, changing in place only what differs: the comments ruamel
    keeps on what stays (e.g. the one after a nested block) stay with it."""
    old = parent.get(key)
    if old == value:
        return
    if isinstance(old, CommentedMap) and isinstance(value, dict):
        for gone in [k for k in old if k not in value]:
            del old[gone]
        for name, item in value.items():
            _assign(old, name, item)
    elif isinstance(old, CommentedSeq) and isinstance(value, list):
        del old[len(value) :]
        for index, item in enumerate(value):
            if index == len(old):
                old.append(item)
            elif old[index] != item:
                old[index] = item
    else:
        parent[key] = value


def proposed_config(workspace: Workspace, contract: dict[str, Any]) -> tuple[str, str]:
    """``mlops_lab.yaml`` now and as :func:`write_stage` would leave it (nothing is written)."""
    config = workspace.root / CONFIG_FILE
    before = config.read_text(encoding="utf-8")
    yaml = _yaml()
    data = yaml.load(before)
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise WorkspaceConfigError(config, "the file must be a mapping at the top level.")
    mapping, sequence, offset = _layout(data, before.splitlines())
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
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
    _assign(entry, "notebook", contract["notebook"])
    inputs = {k: sorted(v) for k, v in contract["inputs"].items() if v}
    if inputs:
        _assign(entry, "inputs", inputs)
    outputs = {k: list(v) for k, v in contract["outputs"].items() if v}
    if outputs:
        _assign(entry, "outputs", outputs)
    if contract.get("kernel"):  # checked in a kernel asked for by name: run in it too
        _assign(entry, "kernel", contract["kernel"])
    out = io.StringIO()
    yaml.dump(data, out)
    return before, out.getvalue()


def write_stage(workspace: Workspace, contract: dict[str, Any]) -> None:
    """Add or update the contract's stage in its pipeline (comments in the file are kept)."""
    from mlops_lab.pipelines.spec import load_pipeline

    _, after = proposed_config(workspace, contract)
    write_config(workspace.root, after, check=lambda w: load_pipeline(w, contract["pipeline"]))
