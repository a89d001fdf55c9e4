"""Code quality of notebooks and modules with ruff, reported per notebook cell.

``mlops-lab ci`` lints what changed: the notebooks of the stages it runs again, and the
workspace's ``.py`` files changed since the pipeline's last successful run (by git: the
files that differ from that run's commit, and new untracked ones; every ``.py`` file
when there is no such run, or its commit is not in the clone, or the workspace is not
a git repository). A stage with ``lint: true`` has its notebook linted before it runs,
and a finding fails the stage before a kernel starts.

Settings, in ``mlops_lab.yaml``::

    ci:
      lint:
        select: [E4, E7, E9, F]   # ruff rules (the default: ruff's own default set)
        fail: true                # findings fail `mlops-lab ci` (default); false: report only

``ci: {lint: false}`` turns the ci lint off. ruff runs from the workspace root, so the
project's own ruff configuration (excludes, per-file ignores) applies; ``select`` wins
over its rule selection. ruff comes with ``pip install 'mlops_lab[ci]'``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_lab.catalog import Catalog
from mlops_lab.errors import WorkspaceConfigError
from mlops_lab.workspace import CONFIG_FILE, Workspace

__all__ = [
    "DEFAULT_SELECT",
    "LintFinding",
    "LintReport",
    "LintSettings",
    "changed_modules",
    "describe_findings",
    "lint_paths",
    "lint_settings",
    "notebook_check",
]

DEFAULT_SELECT = ("E4", "E7", "E9", "F")  # ruff's default rule set: correctness, not style
_TIMEOUT_S = 300
_SKIPPED_DIRS = {"node_modules", "__pycache__", "site-packages"}


@dataclass(frozen=True, kw_only=True)
class LintSettings:
    enabled: bool = True
    select: tuple[str, ...] = DEFAULT_SELECT
    fail: bool = True


@dataclass(frozen=True, kw_only=True)
class LintFinding:
    path: str  # relative to the workspace
    cell: int | None  # a notebook's cell, from 1 as JupyterLab counts (markdown included)
    cell_line: str  # the cell's first line of code, to recognise it
    row: int  # line in the cell (a notebook) or the file
    column: int
    code: str  # F821, ... ("syntax-error" for code that does not parse)
    message: str

    @property
    def where(self) -> str:
        """``cell 3 line 2:7`` or ``line 12:1``."""
        cell = f"cell {self.cell} " if self.cell is not None else ""
        return f"{cell}line {self.row}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True, kw_only=True)
class LintReport:
    files: tuple[str, ...]  # what was linted, relative to the workspace
    findings: tuple[LintFinding, ...] = ()
    select: tuple[str, ...] = DEFAULT_SELECT
    fail: bool = True  # whether findings fail the check
    error: str | None = None  # ruff could not run: why
    notes: tuple[str, ...] = field(default_factory=tuple)  # how the files were chosen

    @property
    def failed(self) -> bool:
        return self.fail and (bool(self.findings) or self.error is not None)

    def in_file(self, path: str) -> list[LintFinding]:
        return [f for f in self.findings if f.path == path]

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "findings": [f.to_dict() for f in self.findings],
            "select": list(self.select),
            "fail": self.fail,
            "failed": self.failed,
            "error": self.error,
            "notes": list(self.notes),
        }


def lint_settings(workspace: Workspace) -> LintSettings:
    """The ``ci: {lint: ...}`` settings of ``mlops_lab.yaml``, validated."""
    raw = workspace.config.ci.get("lint", True)
    where = workspace.root / CONFIG_FILE
    if isinstance(raw, bool):
        return LintSettings(enabled=raw)
    if not isinstance(raw, Mapping):
        raise WorkspaceConfigError(
            where, f"'ci.lint' must be true, false or {{select: [...], fail: ...}}, got {raw!r}"
        )
    unknown = sorted(set(raw) - {"select", "fail"})
    if unknown:
        raise WorkspaceConfigError(
            where, f"'ci.lint' has unknown field(s) {', '.join(unknown)} (fields: select, fail)"
        )
    select = raw.get("select", list(DEFAULT_SELECT))
    if isinstance(select, str):
        select = [select]
    if (
        not isinstance(select, list)
        or not select
        or not all(isinstance(s, str) and s.strip().isalnum() for s in select)
    ):
        raise WorkspaceConfigError(
            where,
            f"'ci.lint.select' must be a list of ruff rule codes such as [E4, F], got {select!r}",
        )
    fail = raw.get("fail", True)
    if not isinstance(fail, bool):
        raise WorkspaceConfigError(where, "'ci.lint.fail' must be true or false")
    return LintSettings(select=tuple(s.strip() for s in select), fail=fail)


def _ruff() -> str | None:
    """The ruff of this Python environment, else the first on PATH."""
    beside = Path(sys.executable).parent / ("ruff.exe" if os.name == "nt" else "ruff")
    return str(beside) if beside.is_file() else shutil.which("ruff")


def lint_paths(
    root: Path, paths: Iterable[str], settings: LintSettings, *, notes: Iterable[str] = ()
) -> LintReport:
    """Run ruff on ``paths`` (relative to ``root``); findings in notebooks name their cell."""
    files = tuple(sorted(dict.fromkeys(paths)))
    report = LintReport(files=files, select=settings.select, fail=settings.fail, notes=tuple(notes))
    if not files:
        return report
    ruff = _ruff()
    if ruff is None:
        error = "ruff is not installed: pip install 'mlops_lab[ci]' (or ruff)"
        return LintReport(**{**report.__dict__, "error": error})
    command = [
        ruff,
        "check",
        "--output-format=json",
        "--no-cache",
        "--exit-zero",
        "--force-exclude",  # the project's excludes apply to the files named too
        f"--select={','.join(settings.select)}",
        "--",
        *files,
    ]
    try:
        done = subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
        if done.returncode != 0:
            raise ValueError(done.stderr.strip() or f"exit code {done.returncode}")
        raw = json.loads(done.stdout or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return LintReport(**{**report.__dict__, "error": f"ruff failed: {exc}"})
    findings = [_finding(root, item) for item in raw]
    findings.sort(key=lambda f: (f.path, f.cell or 0, f.row, f.column, f.code))
    return LintReport(**{**report.__dict__, "findings": tuple(findings)})


def _finding(root: Path, item: dict[str, Any]) -> LintFinding:
    path = Path(item["filename"])
    relative = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    cell = item.get("cell")
    location = item.get("location") or {}
    return LintFinding(
        path=relative,
        cell=cell,
        cell_line=_cell_line(path, cell) if cell is not None else "",
        row=int(location.get("row") or 0),
        column=int(location.get("column") or 0),
        code=item.get("code") or "syntax-error",
        message=str(item.get("message", "")),
    )


def _cell_line(path: Path, cell: int) -> str:
    """The first non-blank line of a notebook's cell ``cell`` (from 1)."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        source = cells[cell - 1].get("source", "")
    except (OSError, ValueError, IndexError, AttributeError):
        return ""
    text = "".join(source) if isinstance(source, list) else str(source)
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def describe_findings(findings: Iterable[LintFinding]) -> list[str]:
    """Lines for a terminal: each file, each of its cells with its first line, then the
    findings in it."""
    lines: list[str] = []
    last_path, last_cell = None, None
    for finding in findings:
        if finding.path != last_path:
            lines.append(finding.path)
            last_path, last_cell = finding.path, None
        if finding.cell is not None and finding.cell != last_cell:
            lines.append(f"  cell {finding.cell}: {finding.cell_line}")
            last_cell = finding.cell
        indent = "    " if finding.cell is not None else "  "
        lines.append(f"{indent}{finding.row}:{finding.column} {finding.code} {finding.message}")
    return lines


def notebook_check(root: Path, notebook: str, settings: LintSettings) -> dict[str, Any]:
    """A stage's ``lint: true``, as the check kept with its stage run: failed on any
    finding (whatever ``fail`` says: the stage asked for it), or when ruff cannot run."""
    report = lint_paths(root, [notebook], settings)
    failed = bool(report.findings) or report.error is not None
    if report.error is not None:
        message = report.error
    elif failed:
        found = [line.strip() for line in describe_findings(report.findings)[1:]]
        message = f"ruff found {len(report.findings)} problem(s): " + " | ".join(found)
    else:
        message = f"ruff ({','.join(report.select)}): no findings"
    return {
        "kind": "lint",
        "name": f"ruff {notebook}",
        "status": "failed" if failed else "passed",
        "expected": {"select": list(report.select)},
        "observed": [f.to_dict() for f in report.findings],
        "message": message,
    }


# -- which modules changed ------------------------------------------------------------


def _git(root: Path, *args: str) -> list[str] | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return [line for line in done.stdout.splitlines() if line.strip()]


def changed_modules(
    workspace: Workspace, catalog: Catalog, since_run: str | None
) -> tuple[list[str], str]:
    """The workspace's ``.py`` files changed since run ``since_run``, and how they were found."""
    root = workspace.root
    commit = None
    if since_run is not None:
        rows = catalog.read("SELECT git_commit FROM runs WHERE id = ?", [since_run])
        commit = rows[0][0] if rows else None
    listed = _git(root, "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.py")
    if listed is None:
        return _all_modules(root), "not a git repository: every .py file of the workspace"
    present = [p for p in listed if (root / p).is_file()]
    if commit is None:
        why = (
            "no successful run with a git commit yet"
            if since_run is None
            else (f"run {since_run} recorded no git commit")
        )
        return present, f"{why}: every .py file of the workspace"
    changed = _git(root, "diff", "--name-only", "--relative", commit, "--", "*.py")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--", "*.py")
    if changed is None or untracked is None:
        return present, (
            f"commit {commit[:12]} of run {since_run} is not in this clone (shallow?): "
            "every .py file of the workspace"
        )
    found = sorted({p for p in (*changed, *untracked) if (root / p).is_file()})
    return found, f".py files changed since run {since_run} (git {commit[:12]})"


def _all_modules(root: Path) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _SKIPPED_DIRS
            and not (here / d / "pyvenv.cfg").exists()
        ]
        found += [str((here / f).relative_to(root)) for f in files if f.endswith(".py")]
    return sorted(found)
