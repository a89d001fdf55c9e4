"""The kernel of a handoff's clean run, and what the report says about it."""

from __future__ import annotations

from typing import Any

from mlops_lab.errors import KernelNotFoundError
from mlops_lab.handoff.findings import Finding
from mlops_lab.pipelines.kernels import KernelChoice, choose_kernel

__all__ = ["handoff_kernel"]


def handoff_kernel(
    document: dict[str, Any], explicit: str | None
) -> tuple[KernelChoice | None, Finding | None]:
    """The kernel to run the notebook in, and a finding when that needs saying.

    An explicit kernel that is not installed raises :class:`KernelNotFoundError`
    (a bad request, before anything runs). A notebook naming no kernel, or one
    not installed here, runs in the workspace's Python kernel with an
    ``environment`` warning; when none can stand in, the clean run fails.
    """
    if explicit:
        return choose_kernel(document, explicit), None
    try:
        chosen = choose_kernel(document)
    except KernelNotFoundError as exc:
        return None, Finding(check="clean_run", status="fail", message=exc.message)
    if chosen.note is None:
        return chosen, None
    return chosen, Finding(
        check="environment",
        status="warn",
        message=chosen.note[0].upper() + chosen.note[1:] + ".",
        details={"kernel": chosen.to_dict()},
    )
