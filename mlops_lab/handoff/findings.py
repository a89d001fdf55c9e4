"""What a handoff check says: pass, warn or fail, about a cell when it concerns one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHECKS", "Finding"]

# Every check, in the order they run and are reported.
CHECKS = {
    "parameters": "A parameters cell with literal defaults of supported types",
    "execution_order": "Saved in execution order, no cell reading a name defined only later",
    "paths": "No absolute paths, paths outside the workspace or undeclared file reads",
    "inputs": "Declared inputs resolve to versioned datasets or feature views, pinned",
    "clean_run": "Runs top to bottom in a fresh kernel with the default parameters",
    "outputs": "The declared outputs are produced by the clean run",
    "reproduction": "The clean run's metrics reproduce the last interactive run's",
    "environment": "The environment (Python, imported packages) matches the workspace's",
}


@dataclass(frozen=True, kw_only=True)
class Finding:
    check: str  # a key of CHECKS
    status: str  # pass | warn | fail
    message: str
    cell: int | None = None  # index among all cells of the notebook
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": CHECKS[self.check],
            "status": self.status,
            "message": self.message,
            "cell": self.cell,
            "details": self.details,
        }
