"""Pipelines: papermill stages declared in mlops_lab.yaml, cached and run as a DAG."""

from mlops_lab.pipelines.records import RunRecord, StageRecord, get_run, list_runs
from mlops_lab.pipelines.runner import RunEvent, Runner, RunOptions
from mlops_lab.pipelines.spec import PipelineSpec, StageSpec, load_pipeline, load_pipelines

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
