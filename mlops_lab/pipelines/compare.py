"""Runs side by side: two to ``MAX_COMPARED_RUNS`` runs, the first one the baseline.

``compare_many`` lines the runs up on the union of their parameters and metrics (each
named by its stage): one value per run, in the order asked, ``missing`` where a run has
none. A parameter row says whether the runs disagree on it; a metric row says which way
the metric improves (:mod:`mlops_lab.metric_direction`) and, for each run, its delta
from the baseline and whether that is ``better`` or ``worse``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mlops_lab.errors import InvalidInputError
from mlops_lab.metric_direction import change, higher_is_better
from mlops_lab.pipelines.records import RunRecord, get_run
from mlops_lab.workspace import Workspace

__all__ = ["MAX_COMPARED_RUNS", "compare_many"]

# Runs compared at once, at most: a sweep's worth, still one readable chart.
MAX_COMPARED_RUNS = 50

_Key = tuple[str, str]  # (stage, name)


def compare_many(workspace: Workspace, run_ids: Sequence[str]) -> dict[str, Any]:
    """The runs ``run_ids`` side by side; every list of values follows ``run_ids``."""
    _check_ids(run_ids)
    runs = [get_run(workspace.catalog, run_id) for run_id in run_ids]
    parameters = [_parameters(run) for run in runs]
    metrics = [_metrics(run) for run in runs]
    return {
        "baseline": runs[0].id,
        "runs": [_summary(run) for run in runs],
        "parameters": [_parameter_row(key, parameters) for key in _union(parameters)],
        "metrics": [_metric_row(key, metrics) for key in _union(metrics)],
    }


def _check_ids(run_ids: Sequence[str]) -> None:
    if not 2 <= len(run_ids) <= MAX_COMPARED_RUNS:
        raise InvalidInputError(
            f"Compare between 2 and {MAX_COMPARED_RUNS} runs, got {len(run_ids)}: "
            "give them as ?runs=RUN_ID,RUN_ID,..."
        )
    repeated = sorted({run_id for run_id in run_ids if run_ids.count(run_id) > 1})
    if repeated:
        raise InvalidInputError(
            f"Run {', '.join(map(repr, repeated))} is given more than once: "
            "name each run to compare once."
        )


def _summary(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "pipeline": run.pipeline,
        "status": run.status,
        "trigger": run.trigger,
        "started_at": run.started_at.isoformat(),
        "duration_s": run.duration_s,
    }


def _parameters(run: RunRecord) -> dict[_Key, Any]:
    return {(s.stage, name): v for s in run.stages for name, v in s.parameters.items()}


def _metrics(run: RunRecord) -> dict[_Key, float]:
    return {(stage, name): v for stage, values in run.metrics.items() for name, v in values.items()}


def _union(per_run: list[dict[_Key, Any]]) -> list[_Key]:
    return sorted({key for values in per_run for key in values})


def _parameter_row(key: _Key, per_run: list[dict[_Key, Any]]) -> dict[str, Any]:
    missing = [key not in values for values in per_run]
    values = [values.get(key) for values in per_run]
    cells = {
        (m, json.dumps(v, sort_keys=True, default=str))
        for m, v in zip(missing, values, strict=True)
    }
    return {
        "stage": key[0],
        "name": key[1],
        "values": values,
        "missing": missing,
        "differs": len(cells) > 1,
    }


def _metric_row(key: _Key, per_run: list[dict[_Key, float]]) -> dict[str, Any]:
    stage, name = key
    values = [values.get(key) for values in per_run]
    baseline = values[0]
    return {
        "stage": stage,
        "name": name,
        "higher_is_better": higher_is_better(name),
        "values": values,
        "missing": [key not in values for values in per_run],
        "deltas": [
            None if i == 0 or baseline is None or value is None else value - baseline
            for i, value in enumerate(values)
        ],
        "changes": [
            None if i == 0 else change(name, baseline, value) for i, value in enumerate(values)
        ],
        "best": _best(values, higher_is_better=higher_is_better(name)),
    }


def _best(values: list[float | None], *, higher_is_better: bool) -> int | None:
    """The index of the best value, or None when fewer than two runs have one or all tie."""
    present = [(v, i) for i, v in enumerate(values) if v is not None]
    if len(present) < 2 or len({v for v, _ in present}) == 1:
        return None
    # The first run wins a tie.
    if higher_is_better:
        return max(present, key=lambda p: (p[0], -p[1]))[1]
    return min(present)[1]
