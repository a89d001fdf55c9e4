"""What a run is asked to do (:class:`RunOptions`) and what it reports as it goes
(:class:`RunEvent`): the runner's (:mod:`mlops_lab.pipelines.runner`) inputs and events,
shared with the command line, the REST service and the progress table."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops_lab.pipelines.executor import StageJob, StageOutcome

__all__ = ["RunEvent", "RunOptions"]


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False
    only: str | None = None
    from_stage: str | None = None
    trigger: str = "manual"
    reason: str = ""
    run_id: str | None = None  # a run already recorded (by the REST API) to carry out
    parameters: dict[str, Any] = field(default_factory=dict)  # the overrides, for the record
    force_stages: frozenset[str] = frozenset()  # run these even if cached (ci trigger)
    stage_runner: Callable[[StageJob], StageOutcome] | None = None  # e.g. a Dask submitter


@dataclass(frozen=True, kw_only=True)
class RunEvent:
    run_id: str
    stage: str | None
    status: str
    cells_done: int | None = None
    cells_total: int | None = None
    message: str = ""
