"""Which stages of a pipeline a run executes (``--only`` / ``--from``), which it
needs from the cache, and which it leaves out (``not_selected``)."""

from __future__ import annotations

from mlops_lab.errors import InvalidInputError
from mlops_lab.pipelines.spec import PipelineSpec

__all__ = ["not_selected_reason", "select", "with_ancestors"]


def select(pipeline: PipelineSpec, only: str | None, from_stage: str | None) -> set[str]:
    """The stages to execute (every one without ``only``/``from_stage``)."""
    if only and from_stage:
        raise InvalidInputError("Choose either only (--only) or from (--from), not both.")
    if only:
        pipeline.stage(only)
        return {only}
    if from_stage:
        pipeline.stage(from_stage)
        return pipeline.downstream(from_stage)
    return {s.name for s in pipeline.stages}


def with_ancestors(pipeline: PipelineSpec, names: set[str]) -> set[str]:
    """``names`` and every stage they need, transitively (their outputs are inputs)."""
    found: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(pipeline.stage(name).needs)
    return found


def not_selected_reason(only: str | None, from_stage: str | None) -> str:
    return f"not selected (--only {only})" if only else f"not selected (--from {from_stage})"
