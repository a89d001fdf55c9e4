"""When a stage's earlier result may be reused.

Two levels, as build tools with dependency files do:

1. the *cache key*: SHA-256 of the notebook's code hash, its parameters, the
   output hashes of the stages it needs, the content hashes of its declared
   inputs, the kernel asked for by name, the stage's ``expect:`` assertions
   and the mlops_lab version;
2. the *observed reads* of each earlier successful run with that key
   (:mod:`mlops_lab.pipelines.reads`): reused only while every workspace file
   it read has the same hash, every probe the same answer and every listed
   folder the same names.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mlops_lab._version import __version__
from mlops_lab.pipelines import bookkeeping as books
from mlops_lab.pipelines.reads import stale_reason
from mlops_lab.pipelines.spec import StageSpec
from mlops_lab.workspace import Workspace

__all__ = ["cache_key", "reusable_run"]


def cache_key(stage: StageSpec, upstream: dict[str, str], inputs: dict[str, str]) -> str:
    payload: dict[str, Any] = {
        "notebook": stage.source_hash,
        "parameters": stage.parameters,
        "upstream": upstream,
        "inputs": inputs,
        "mlops_lab": __version__,
    }
    if stage.kernel:  # a kernel asked for by name is part of what the stage ran with
        payload["kernel"] = stage.kernel
    if stage.expect:  # a cached result passed these checks, not others
        payload["expect"] = [e.to_dict() for e in stage.expect]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def reusable_run(workspace: Workspace, key: str) -> tuple[str | None, str | None]:
    """The newest successful run with ``key`` whose reads still hold, else why not.

    Checked outside any catalog transaction (it hashes files).
    """
    reason = None
    for candidate in books.cache_candidates(workspace.catalog, key):
        why = stale_reason(workspace.root, candidate.reads, candidate.run_id)
        if why is None:
            return candidate.run_id, None
        reason = reason or why
    return None, reason
