"""Pipelines: papermill stages declared in mlops_lab.yaml, cached and run as a DAG."""

from typing import TYPE_CHECKING

from mlops_lab._lazy import lazy_names

__all__ = [
    "PipelineSpec",
    "RunEvent",
    "RunOptions",
    "RunRecord",
    "Runner",
    "StageRecord",
    "StageSpec",
    "get_run",
    "list_runs",
    "load_pipeline",
    "load_pipelines",
]

if TYPE_CHECKING:
    from mlops_lab.pipelines.records import RunRecord, StageRecord, get_run, list_runs
    from mlops_lab.pipelines.run_options import RunEvent, RunOptions
    from mlops_lab.pipelines.runner import Runner
    from mlops_lab.pipelines.spec import PipelineSpec, StageSpec, load_pipeline, load_pipelines

# Imported on first use: the stage kernel's observer (mlops_lab.pipelines.observe) is a
# submodule, loaded into every kernel, and must not pull in the runner and DuckDB.
_LAZY = {
    "RunRecord": "mlops_lab.pipelines.records",
    "StageRecord": "mlops_lab.pipelines.records",
    "get_run": "mlops_lab.pipelines.records",
    "list_runs": "mlops_lab.pipelines.records",
    "RunEvent": "mlops_lab.pipelines.run_options",
    "Runner": "mlops_lab.pipelines.runner",
    "RunOptions": "mlops_lab.pipelines.run_options",
    "PipelineSpec": "mlops_lab.pipelines.spec",
    "StageSpec": "mlops_lab.pipelines.spec",
    "load_pipeline": "mlops_lab.pipelines.spec",
    "load_pipelines": "mlops_lab.pipelines.spec",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
