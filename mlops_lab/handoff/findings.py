"""What a handoff check says: pass, warn or fail, about a cell when it concerns one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_lab.pipelines.cellmap import cell_number

__all__ = ["CHECKS", "Finding"]

# Every check, in the order they run and are reported.
CHECKS = {
    "parameters": "A parameters cell with literal defaults of supported types (or none at all)",
    "execution_order": "Saved after a complete top-to-bottom run: in order, nothing interrupted "
    "or failed, no name read before the cell that defines it",
    "paths": "No absolute paths, paths outside the workspace, undeclared file reads or "
    "network access (read in the source, then observed in the clean run)",
    "inputs": "Declared inputs resolve to versioned datasets or feature views, pinned",
    "environment": "The kernel, Python and imported packages are installed and match the "
    "notebook's and the workspace's",
    "clean_run": "Runs top to bottom in a fresh kernel with the default parameters",
    "outputs": "The declared outputs are produced by the clean run",
    "reproduction": "The clean run reproduces the outputs saved in the notebook (and the "
    "metrics of the last interactive run, where one was logged)",
    "determinism": "Two clean runs in fresh kernels give the same outputs",
}


@dataclass(frozen=True, kw_only=True)
class Finding:
    check: str  # a key of CHECKS
    status: str  # pass | warn | fail
    message: str
    # 0-based index among all the saved notebook's cells; shown (to_dict, messages) from 1,
    # as JupyterLab counts them: mlops_lab.pipelines.cellmap.cell_number.
    cell: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": CHECKS[self.check],
            "status": self.status,
            "message": self.message,
            "cell": cell_number(self.cell),
            "details": self.details,
        }
