"""The change a ready handoff would make to ``mlops_lab.yaml``: previewed, then written on confirm.

A check never writes the file on its own (unless asked, as the CLI's
``--write-pipeline`` does). The Handoffs view asks the user instead: it shows
the preview (a unified diff of the file) and sends the confirmation with the
hash of the file it previewed, so what is written is exactly what was shown
(a file changed since is refused with a 409: preview again).

A notebook that is already a stage of ``mlops_lab.yaml`` is checked as that
stage (:func:`mlops_lab.handoff.stage_names.declared_stage_of`): its preview
says ``declared`` and the view asks nothing.
"""

from __future__ import annotations

import difflib
import hashlib
from typing import Any

from mlops_lab.errors import ConflictError
from mlops_lab.handoff.pipeline_file import proposed_config, write_stage
from mlops_lab.handoff.stage_names import same_notebook
from mlops_lab.handoff.store import get_handoff
from mlops_lab.workspace import CONFIG_FILE, Workspace

__all__ = ["stage_change"]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _declared(workspace: Workspace, pipeline: str, stage: str, notebook: str) -> bool:
    """Whether ``stage`` of ``pipeline`` is in ``mlops_lab.yaml`` and runs ``notebook``."""
    stages: Any = (workspace.config.pipelines.get(pipeline) or {}).get("stages") or []
    return any(
        isinstance(s, dict)
        and s.get("name") == stage
        and isinstance(s.get("notebook"), str)
        and same_notebook(workspace, s["notebook"], notebook)
        for s in (stages if isinstance(stages, list) else [])
    )


def stage_change(
    workspace: Workspace,
    handoff_id: str,
    *,
    confirm: bool = False,
    config_hash: str | None = None,
) -> dict[str, Any]:
    """Preview (``confirm`` false) or write the stage of ready handoff ``handoff_id``.

    The answer: ``pipeline``, ``stage``, ``declared`` (the stage already runs the
    notebook in the file), ``changed`` (the file would change), ``diff`` (unified,
    empty when unchanged), ``added`` (the lines the file would gain), ``config_hash``
    (sha256 of the file as previewed) and ``written``. With ``confirm``, a
    ``config_hash`` that is not the file's now is refused (409) and nothing is written.
    """
    handoff = get_handoff(workspace, handoff_id)
    if handoff["status"] != "ready":
        raise ConflictError(
            f"Handoff {handoff_id} of {handoff['notebook']} is {handoff['status']}: only a ready "
            "handoff's stage is added to mlops_lab.yaml. Check the notebook again first."
        )
    contract = handoff["contract"]
    before, after = proposed_config(workspace, contract)
    current = _hash(before)
    if confirm and config_hash is not None and config_hash != current:
        raise ConflictError(
            f"{CONFIG_FILE} changed since the change was previewed: preview it again."
        )
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{CONFIG_FILE}",
            tofile=f"b/{CONFIG_FILE}",
        )
    )
    added = "".join(line[1:] for line in diff.splitlines(keepends=True)[2:] if line.startswith("+"))
    changed = before != after
    if confirm and changed:
        write_stage(workspace, contract)
    declared = _declared(workspace, contract["pipeline"], contract["stage"], contract["notebook"])
    return {
        "handoff_id": handoff_id,
        "notebook": handoff["notebook"],
        "pipeline": contract["pipeline"],
        "stage": contract["stage"],
        "declared": declared,
        "changed": changed,
        "diff": diff,
        "added": added,
        "config_hash": current,
        "written": confirm and changed,
    }
