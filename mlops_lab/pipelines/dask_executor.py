"""Run stages on an existing Dask distributed cluster instead of local threads.

Workers need this package installed and the workspace folder (notebooks and
``.mlops_lab/``) at the same path: a shared filesystem, or one machine. Cell
progress and cancel are not relayed from remote workers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlops_lab.errors import InvalidInputError
from mlops_lab.pipelines.executor import StageJob, StageOutcome, execute_stage

__all__ = ["dask_stage_runner"]


def dask_stage_runner(address: Any) -> Callable[[StageJob], StageOutcome]:
    """A stage runner submitting each stage to the scheduler at ``address`` (or a Client)."""
    if not address:
        raise InvalidInputError(
            "--executor dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)."
        )
    try:
        from distributed import Client
    except ImportError as exc:
        raise InvalidInputError(
            "The dask executor needs the 'distributed' package: pip install 'mlops_lab[dask]'."
        ) from exc
    client = address if isinstance(address, Client) else Client(address)  # type: ignore[no-untyped-call]

    def run(job: StageJob) -> StageOutcome:
        future = client.submit(execute_stage, job, pure=False, key=f"{job.run_id}-{job.stage}")
        outcome: StageOutcome = future.result()
        return outcome

    return run
