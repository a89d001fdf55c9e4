"""The ``project:`` section of ``mlops_lab.yaml``: read it, check a proposed one, write it back.

Writing keeps the rest of the file as it was, comments included: the file is loaded with
ruamel.yaml's round-trip loader, the ``project:`` mapping is updated in place (keys kept
keep their comments; a removed key goes with its comment) and the text is checked by the
loader every workspace uses before it replaces the file at once
(:func:`mlops_lab.workspace.write_config`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from mlops_lab.errors import InvalidFieldError, WorkspaceConfigError
from mlops_lab.project import ProjectError, parse_project
from mlops_lab.workspace import CONFIG_FILE, Workspace, write_config

__all__ = ["check_project", "read_project", "write_project"]


def read_project(workspace: Workspace) -> dict[str, Any]:
    """The definition as stated (normalised), or ``{"defined": False}`` when there is none."""
    project = workspace.config.project
    if project is None:
        return {"defined": False, "file": str(workspace.root / CONFIG_FILE)}
    return {"defined": True, "file": str(workspace.root / CONFIG_FILE), **project.to_dict()}


def check_project(value: Any) -> dict[str, Any]:
    """``{"valid": True, "project": normalised}`` or ``{"valid": False, "problems": [...]}``."""
    try:
        project = parse_project(value)
    except ProjectError as exc:
        return {"valid": False, "problems": exc.problems}
    return {"valid": True, "project": project.to_dict()}


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _merge(target: Any, new: Any) -> Any:
    """``new`` written over ``target`` in place where both are mappings (or lists of the
    same length), so what stays keeps its comments and flow style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(target, CommentedMap) and isinstance(new, dict):
        for key in [k for k in target if k not in new]:
            del target[key]
        for key, value in new.items():
            target[key] = _merge(target[key], value) if key in target else value
        return target
    if isinstance(target, CommentedSeq) and isinstance(new, list) and len(target) == len(new):
        for i, value in enumerate(new):
            target[i] = _merge(target[i], value)
        return target
    return new


def write_project(root: Path | str, value: Any) -> dict[str, Any]:
    """Replace the ``project:`` section with ``value`` (checked first); the new definition.

    An invalid ``value`` raises :class:`InvalidFieldError` naming every problem, and the
    file is left as it was.
    """
    try:
        parse_project(value)
    except ProjectError as exc:
        raise InvalidFieldError("project", "; ".join(exc.problems), problems=exc.problems) from exc
    path = Path(root).resolve() / CONFIG_FILE
    yaml = _yaml()
    try:
        document = yaml.load(path.read_text(encoding="utf-8")) if path.exists() else None
    except Exception as exc:  # ruamel's errors have no common public base worth naming
        raise WorkspaceConfigError(path, f"cannot be read to update it: {exc}") from exc
    if document is None:
        from ruamel.yaml.comments import CommentedMap

        document = CommentedMap()
    if "project" in document and document["project"] is not None:
        document["project"] = _merge(document["project"], value)
    else:
        document["project"] = value
    out = io.StringIO()
    yaml.dump(document, out)
    write_config(root, out.getvalue())
    return read_project(Workspace(root))
