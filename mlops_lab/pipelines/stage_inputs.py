"""What a stage is given in a run: the outputs of the stages it needs, the content hash
of each declared input (and so its cache key), and the job that executes it.

The runner (:mod:`mlops_lab.pipelines.runner`) calls these with what the run has
produced so far: each finished stage's outputs (fresh or cached) and their hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_lab.datasets import get_dataset_version
from mlops_lab.errors import NotFoundError
from mlops_lab.pipelines.cache import cache_key
from mlops_lab.pipelines.executor import StageJob
from mlops_lab.pipelines.spec import PipelineSpec, StageSpec
from mlops_lab.workspace import Workspace

__all__ = ["MissingInputError", "stage_job", "stage_key", "upstream_outputs"]


class MissingInputError(Exception):
    """A stage cannot start: a declared input has no version (the runner fails the stage)."""


def upstream_outputs(
    pipeline: PipelineSpec, stage: StageSpec, outputs: Mapping[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Datasets, artifacts and models of every stage ``stage`` needs (nearest wins), from
    ``outputs``: each finished stage's outputs by name."""
    ancestors: list[str] = []
    pending = list(stage.needs)
    while pending:
        name = pending.pop()
        if name not in ancestors:
            ancestors.append(name)
            pending.extend(pipeline.stage(name).needs)
    merged: dict[str, dict[str, Any]] = {"datasets": {}, "artifacts": {}, "models": {}}
    for name in reversed(ancestors):
        for kind in merged:
            merged[kind].update(outputs.get(name, {}).get(kind, {}))
    return merged


def stage_key(
    workspace: Workspace,
    pipeline: PipelineSpec,
    stage: StageSpec,
    *,
    outputs: Mapping[str, dict[str, Any]],
    outputs_hash: Mapping[str, str],
) -> tuple[str, dict[str, str]]:
    """The stage's cache key and the content hash of each declared input (raises
    :class:`MissingInputError`); ``outputs_hash``: each finished stage's outputs hash."""
    inputs = _input_hashes(workspace, stage, upstream_outputs(pipeline, stage, outputs))
    upstream = {need: outputs_hash[need] for need in stage.needs}
    return cache_key(stage, upstream, inputs), inputs


def _input_hashes(
    workspace: Workspace, stage: StageSpec, upstream: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """Content hash of each declared input: the version an upstream stage produced in
    this run (fresh or cached), else the latest version in the catalog (an optional
    dataset without a version yet is left out)."""
    hashes: dict[str, str] = {}
    produced = upstream["datasets"]
    for name in stage.inputs.get("datasets", ()):
        if name in produced:
            hashes[f"dataset:{name}"] = produced[name]["hash"]
            continue
        try:
            hashes[f"dataset:{name}"] = get_dataset_version(workspace, name).artifact_hash
        except NotFoundError as exc:
            raise MissingInputError(
                f"declared input dataset {name!r} has no version yet; add the stage that "
                "saves it to this stage's 'needs', or save it first"
            ) from exc
    for name in stage.inputs.get("optional_datasets", ()):
        if name in produced:
            hashes[f"dataset:{name}"] = produced[name]["hash"]
            continue
        try:  # none yet: the key is the one without it
            hashes[f"dataset:{name}"] = get_dataset_version(workspace, name).artifact_hash
        except NotFoundError:
            continue
    for name in stage.inputs.get("feature_views", ()):
        hashes[f"feature_view:{name}"] = name
    return hashes


def stage_job(
    workspace: Workspace,
    stage: StageSpec,
    *,
    run_id: str,
    kernel: str | None,
    scratch: Path,
    log_dir: Path,
    upstream: dict[str, dict[str, Any]],
) -> StageJob:
    """The job that executes ``stage``: its executed copy and manifest in ``scratch``/<stage>,
    its kernel's log in ``log_dir`` (both folders made here)."""
    folder = scratch / stage.name
    folder.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    return StageJob(
        workspace_root=str(workspace.root),
        run_id=run_id,
        stage=stage.name,
        notebook=stage.notebook,
        source_hash=stage.source_hash,
        parameters=stage.parameters,
        output_path=str(folder / "executed.ipynb"),
        manifest_path=str(folder / "manifest.jsonl"),
        timeout=stage.timeout,
        cell_timeout=stage.cell_timeout,
        kernel_name=kernel,
        upstream=upstream,
        kernel_log=str(log_dir / f"{stage.name}.kernel.log"),
    )
