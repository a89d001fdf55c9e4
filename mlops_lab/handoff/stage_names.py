"""Stages are never taken over: a stage name already bound to another notebook is refused.

A stage of a pipeline is bound to a notebook by ``mlops_lab.yaml`` (the
stage's ``notebook``) or by the latest handoff of a notebook (its pipeline and
stage). Checking another notebook under that name would re-point the stage,
so it is refused with a free name derived from the notebook's path
(``team_b/report_mode_test.ipynb`` -> ``team_b_report_mode_test``).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from mlops_lab.errors import StageTakenError
from mlops_lab.workspace import Workspace

__all__ = ["check_stage_free", "declared_stage_of", "same_notebook", "stage_owner", "suggest_stage"]

_MAX = 64


def same_notebook(workspace: Workspace, a: str, b: str) -> bool:
    root = workspace.root.resolve()
    return (root / a).resolve() == (root / b).resolve()


def _bound(workspace: Workspace, pipeline: str) -> dict[str, str]:
    """Stage -> notebook, for every stage of ``pipeline`` bound to a notebook."""
    bound: dict[str, str] = {}
    rows = workspace.catalog.read(  # each notebook's latest handoff binds its stage
        "SELECT stage, notebook FROM (SELECT pipeline, stage, notebook, created_at FROM handoffs "
        "QUALIFY row_number() OVER (PARTITION BY notebook ORDER BY created_at DESC) = 1) "
        "WHERE pipeline = ? ORDER BY created_at",
        [pipeline],
    )
    bound.update({str(stage): str(notebook) for stage, notebook in rows})
    stages: Any = (workspace.config.pipelines.get(pipeline) or {}).get("stages") or []
    for item in stages if isinstance(stages, list) else []:
        if isinstance(item, dict) and isinstance(item.get("notebook"), str):
            bound[str(item.get("name"))] = item["notebook"]  # the file says what runs
    return bound


def declared_stage_of(
    workspace: Workspace, notebook: str, *, pipeline: str | None = None
) -> tuple[str, str] | None:
    """(pipeline, stage) of the first stage of ``mlops_lab.yaml`` that runs ``notebook``
    (only in ``pipeline`` if given), in the file's order; None if no stage runs it.

    A check of a notebook that is already a stage reuses that stage: it never adds a
    second pipeline or a duplicate stage for it.
    """
    for name, spec in workspace.config.pipelines.items():
        if pipeline is not None and name != pipeline:
            continue
        stages: Any = (spec or {}).get("stages") if isinstance(spec, dict) else None
        for item in stages if isinstance(stages, list) else []:
            path = item.get("notebook") if isinstance(item, dict) else None
            named = isinstance(path, str) and isinstance(item.get("name"), str)
            if named and same_notebook(workspace, str(path), notebook):
                return str(name), item["name"]
    return None


def stage_owner(workspace: Workspace, pipeline: str, stage: str, notebook: str) -> str | None:
    """The other notebook ``stage`` of ``pipeline`` runs, if it is bound to another one."""
    other = _bound(workspace, pipeline).get(stage)
    if other is None or same_notebook(workspace, other, notebook):
        return None
    return other


def suggest_stage(workspace: Workspace, pipeline: str, notebook: str) -> str:
    """A free stage name derived from the notebook's path (folders included)."""
    path = PurePosixPath(notebook).with_suffix("").as_posix()
    name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", path))
    name = name[-_MAX:].lstrip("0123456789_") or "notebook"
    bound = _bound(workspace, pipeline)

    def free(candidate: str) -> bool:
        other = bound.get(candidate)
        return other is None or same_notebook(workspace, other, notebook)

    candidate, number = name, 1
    while not free(candidate):
        number += 1
        suffix = f"_{number}"
        candidate = name[: _MAX - len(suffix)] + suffix
    return candidate


def check_stage_free(workspace: Workspace, pipeline: str, stage: str, notebook: str) -> None:
    """Raise :class:`StageTakenError` if ``stage`` already runs another notebook."""
    other = stage_owner(workspace, pipeline, stage, notebook)
    if other is not None:
        raise StageTakenError(
            pipeline=pipeline,
            stage=stage,
            taken_by=Path(other).as_posix(),
            notebook=notebook,
            suggested=suggest_stage(workspace, pipeline, notebook),
        )
