"""``mlops-lab ci`` and ``ct`` as a CI step: decide, lint, run, then list every check.

:func:`run_checks` takes the trigger's decision, lints what changed (``ci`` only; see
:mod:`mlops_lab.pipelines.lint`), runs the stages the decision names, and gathers the
results of every suite of checks into one list of
:class:`~mlops_lab.pipelines.ci_report.CheckResult`, which the JUnit XML and Markdown
reports are written from.

The suites are listed once, in :data:`SUITES`: a suite is a name and a function
``(workspace, outcome) -> list[CheckResult]``. To add one, write
that function and add it there.

Exit code of the command: 0 when no check failed, 1 when one did (a stage or an
assertion failed, a lint finding with ``fail: true``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from mlops_lab.datachecks import checks_for_run
from mlops_lab.pipelines.ci_report import CheckResult, junit_xml, markdown_summary
from mlops_lab.pipelines.lint import (
    LintReport,
    changed_modules,
    describe_findings,
    lint_paths,
    lint_settings,
)
from mlops_lab.pipelines.records import RunRecord, StageRecord
from mlops_lab.pipelines.run_options import RunEvent, RunOptions
from mlops_lab.pipelines.service import decide, run_trigger
from mlops_lab.pipelines.spec import PipelineSpec
from mlops_lab.pipelines.verdict import strip_ansi
from mlops_lab.workspace import Workspace

__all__ = ["SUITES", "CiOutcome", "error_reports", "run_checks"]

_FAILED_STAGE = ("failed", "cancelled", "interrupted")


@dataclass(frozen=True, kw_only=True)
class CiOutcome:
    pipeline: PipelineSpec
    trigger: str
    decision: dict[str, Any]
    record: RunRecord | None  # None: nothing to run
    lint: LintReport | None  # None: not linted (ct, or ci.lint off)
    checks: tuple[CheckResult, ...] = ()

    @property
    def failed(self) -> bool:
        return any(c.failed for c in self.checks)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def junit(self) -> str:
        return junit_xml(
            self.checks, name=f"mlops-lab {self.trigger} {self.pipeline.name}", suites=_names()
        )

    def markdown(self) -> str:
        return markdown_summary(
            self.checks,
            title=f"mlops-lab {self.trigger}: {self.pipeline.name}",
            lines=self._about(),
            suites=_names(),
        )

    def _about(self) -> list[str]:
        record = self.record
        if record is None:
            return [f"Nothing to run: {self.decision['reason']}."]
        took = f" in {record.duration_s:.1f} s" if record.duration_s is not None else ""
        counts: dict[str, int] = {}
        for stage in record.stages:
            counts[stage.status] = counts.get(stage.status, 0) + 1
        stages = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())
        lines = [
            f"Run `{record.id}` **{record.status}**{took} ({self.trigger}: "
            f"{self.decision['reason']}); stages: {stages}."
        ]
        if record.git_commit:
            dirty = " (uncommitted changes)" if record.git_dirty else ""
            lines.append(f"Commit `{record.git_commit[:12]}`{dirty}.")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "run": None if self.record is None else self.record.to_dict(),
            "lint": None if self.lint is None else self.lint.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "failed": self.failed,
        }


def run_checks(
    workspace: Workspace,
    spec: PipelineSpec,
    trigger: str,
    options: RunOptions,
    *,
    on_event: Callable[[RunEvent], None] | None = None,
) -> CiOutcome:
    """Decide, lint (``ci``), run if needed, and check; see the module's docstring."""
    decision = decide(workspace, spec, trigger)
    lint = (
        _lint(workspace, spec, decision.force_stages, decision.since_run)
        if trigger == "ci"
        else None
    )
    taken, record = run_trigger(
        workspace, spec, trigger, options, on_event=on_event, decision=decision
    )
    outcome = CiOutcome(pipeline=spec, trigger=trigger, decision=taken, record=record, lint=lint)
    checks = [result for _, collect in SUITES for result in collect(workspace, outcome)]
    return replace(outcome, checks=tuple(checks))


def error_reports(title: str, message: str) -> tuple[str, str]:
    """JUnit XML and Markdown for a check that could not start (a bad ``mlops_lab.yaml``):
    one ``error`` test case, so the CI server's report says why."""
    error = CheckResult(suite="setup", name=title, status="error", message=message)
    return junit_xml([error], name=title), markdown_summary([error], title=title)


def _lint(
    workspace: Workspace, spec: PipelineSpec, stages: frozenset[str], since_run: str | None
) -> LintReport | None:
    settings = lint_settings(workspace)
    if not settings.enabled:
        return None
    notebooks = [s.notebook for s in spec.stages if s.name in stages]
    modules, how = changed_modules(workspace, workspace.catalog, since_run)
    notes = [f"notebooks of the stages that run: {len(notebooks)}", f"{how}: {len(modules)}"]
    return lint_paths(workspace.root, [*notebooks, *modules], settings, notes=notes)


# -- the suites -------------------------------------------------------------------------


def _lint_checks(workspace: Workspace, outcome: CiOutcome) -> list[CheckResult]:
    """ci's lint of what changed, and the ``lint: true`` of each stage that ran."""
    where = f"{outcome.pipeline.name}.lint"
    results = [] if outcome.lint is None else _report_checks(outcome.lint, where)
    for stage in _stages(outcome):
        for check in stage.checks or []:
            if check.get("kind") == "lint":
                results.append(_recorded(outcome, stage, check, suite="lint"))
    return results


def _report_checks(report: LintReport, where: str) -> list[CheckResult]:
    """A test case per linted file without findings, and per notebook cell (or module)
    with some."""

    def check(name: str, status: str, message: str, details: str = "") -> CheckResult:
        return CheckResult(
            suite="lint",
            name=name,
            status=status,
            message=message,
            details=details,
            classname=where,
        )

    if report.error is not None:
        return [check("ruff", "error" if report.fail else "warning", report.error)]
    if not report.files:
        return [check("ruff", "skipped", "nothing to lint: " + "; ".join(report.notes))]
    results = []
    for path in report.files:
        found = report.in_file(path)
        if not found:
            results.append(check(path, "passed", f"ruff {','.join(report.select)}: no findings"))
        for cell in dict.fromkeys(f.cell for f in found):
            mine = [f for f in found if f.cell == cell]
            results.append(
                check(
                    path if cell is None else f"{path} cell {cell}: {mine[0].cell_line}",
                    "failed" if report.fail else "warning",
                    "; ".join(f"{f.code} {f.message} (line {f.row}:{f.column})" for f in mine),
                    "\n".join(describe_findings(mine)),
                )
            )
    return results


def _stages(outcome: CiOutcome) -> list[StageRecord]:
    return [] if outcome.record is None else list(outcome.record.stages)


def _stage_checks(workspace: Workspace, outcome: CiOutcome) -> list[CheckResult]:
    """A test case per stage: ran and succeeded, failed, or did not run (and why)."""
    name = outcome.pipeline.name
    if outcome.record is None:
        why = f"nothing to run: {outcome.decision['reason']}"
        return [
            CheckResult(
                suite="stages",
                name=s.name,
                status="skipped",
                message=why,
                classname=name,
                outcome="not run",
            )
            for s in outcome.pipeline.stages
        ]
    results = []
    for stage in outcome.record.stages:
        status, message, details = "passed", f"ran: {stage.notebook}", ""
        if stage.status == "cached":
            status, message = "skipped", f"cached from run {stage.cached_from}"
        elif stage.status in ("skipped", "not_selected", "pending"):
            status, message = "skipped", stage.status.replace("_", " ")
        elif stage.status in _FAILED_STAGE:
            cell = f" in cell {stage.error_cell}" if stage.error_cell is not None else ""
            status = "failed"
            message = f"{stage.error_name}{cell}: {strip_ansi(stage.error_value)}"
            if stage.status != "failed":
                message = f"{stage.status}: {message}"
            details = strip_ansi(stage.traceback) or message
            if stage.executed_notebook:
                details += (
                    f"\n\nexecuted notebook: mlops-lab runs notebook {outcome.record.id} "
                    f"{stage.stage} -o {stage.stage}.executed.ipynb"
                )
        results.append(
            CheckResult(
                suite="stages",
                name=stage.stage,
                status=status,
                message=message,
                details=details,
                classname=name,
                time_s=stage.duration_s,
                outcome=stage.status.replace("_", " "),
            )
        )
    return results


def _assertion_checks(workspace: Workspace, outcome: CiOutcome) -> list[CheckResult]:
    """A test case per ``expect:`` of each stage: its recorded result, or skipped when the
    stage did not get as far as checking it."""
    recorded = {s.stage: s for s in _stages(outcome)}
    results = []
    for spec in outcome.pipeline.stages:
        stage = recorded.get(spec.name)
        checks = [c for c in (stage.checks or []) if c.get("kind") == "assertion"] if stage else []
        if stage is not None and checks:
            results += [_recorded(outcome, stage, c, suite="assertions") for c in checks]
            continue
        why = f"stage {stage.status.replace('_', ' ')}" if stage else "stage not run"
        results += [
            CheckResult(
                suite="assertions",
                name=f"{spec.name}: {e.describe()}",
                status="skipped",
                message=f"not checked: {why}",
                classname=f"{outcome.pipeline.name}.{spec.name}",
            )
            for e in spec.expect
        ]
    return results


def _recorded(
    outcome: CiOutcome, stage: StageRecord, check: dict[str, Any], *, suite: str
) -> CheckResult:
    """A check the runner kept with the stage run (a cached stage: the run it reused)."""
    message = str(check.get("message", ""))
    if stage.status == "cached":
        message += f" (checked in run {stage.cached_from})"
    details = message
    if check.get("kind") == "assertion":
        details = (
            "\n".join(
                f"{key}: {json.dumps(check.get(key), default=str)}"
                for key in ("expected", "observed")
            )
            + f"\n{message}"
        )
    return CheckResult(
        suite=suite,
        name=f"{stage.stage}: {check.get('name')}",
        status="failed" if check.get("status") == "failed" else "passed",
        message=message,
        details=details,
        classname=f"{outcome.pipeline.name}.{stage.stage}",
    )


def _data_checks(workspace: Workspace, outcome: CiOutcome) -> list[CheckResult]:
    """A test case per declared data check evaluated on a dataset the stages saved (a
    cached stage: in the run it reused), refused versions included."""
    runs: dict[str, str] = {}  # run id -> how the report says where it was checked
    if outcome.record is not None:
        runs[outcome.record.id] = ""
        for stage in outcome.record.stages:
            if stage.status == "cached" and stage.cached_from:
                runs.setdefault(stage.cached_from, f" (checked in run {stage.cached_from})")
    results = []
    for run_id, note in runs.items():
        for check in checks_for_run(workspace, run_id):
            version = "refused" if check["version"] is None else f"v{check['version']}"
            details = "\n".join(
                f"{key}: {json.dumps(check.get(key), default=str)}"
                for key in ("expected", "observed", "failing_rows", "sample")
            )
            message = f"{check['message']}{note}"
            results.append(
                CheckResult(
                    suite="data",
                    name=f"{check['stage']}: {check['dataset']} {version}: {check['name']}",
                    status="passed" if check["passed"] else "failed",
                    message=message,
                    details=f"{details}\n{message}",
                    classname=f"{outcome.pipeline.name}.{check['stage']}",
                )
            )
    return results


Suite = Callable[[Workspace, CiOutcome], list[CheckResult]]

# Every suite of checks, in report order.
SUITES: tuple[tuple[str, Suite], ...] = (
    ("lint", _lint_checks),
    ("stages", _stage_checks),
    ("assertions", _assertion_checks),
    ("data", _data_checks),
)


def _names() -> list[str]:
    return [name for name, _ in SUITES]
