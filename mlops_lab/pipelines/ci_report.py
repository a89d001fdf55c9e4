"""What ``mlops-lab ci`` checked, as JUnit XML for a CI server and Markdown for a PR comment.

Every check is a :class:`CheckResult` in a *suite* (``lint``, ``stages``, ``assertions``,
and any suite added later); both reports are written from that one list, so a new kind
of check needs no change here. In JUnit XML each suite is a ``<testsuite>``, each
result a ``<testcase>``: ``failed`` has a ``<failure>``, ``error`` an ``<error>`` (the
check itself could not run), ``skipped`` a ``<skipped>``, and ``warning`` (a finding
that does not fail the build) passes with its message in ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["CHECK_STATUSES", "CheckResult", "junit_xml", "markdown_summary"]

CHECK_STATUSES = ("passed", "failed", "error", "skipped", "warning")
FAILING = ("failed", "error")
_ICONS = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️", "warning": "⚠️"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
_MESSAGE_CHARS = 240  # a testcase's message attribute and a Markdown table cell
_MARKDOWN_ROWS = 50  # per suite: a PR comment has a size limit (GitHub: 65,536 characters)


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    suite: str  # lint, stages, assertions, ...
    name: str  # the test case: a file's cell, a stage, an expectation
    status: str  # one of CHECK_STATUSES
    message: str = ""  # one line: why it failed, or what it observed
    details: str = ""  # the long story: findings, a traceback
    classname: str = ""  # where: "<pipeline>.<stage>" or "<pipeline>.lint"
    time_s: float | None = None
    outcome: str = ""  # a word for people when status says too little: "cached", ...

    def __post_init__(self) -> None:
        if self.status not in CHECK_STATUSES:
            raise ValueError(f"check status {self.status!r} not in {CHECK_STATUSES}")

    @property
    def failed(self) -> bool:
        return self.status in FAILING

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


def _short(text: str, limit: int = _MESSAGE_CHARS) -> str:
    line = " ".join(_clean(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _counts(results: Sequence[CheckResult]) -> dict[str, int]:
    return {
        "tests": len(results),
        "failures": sum(r.status == "failed" for r in results),
        "errors": sum(r.status == "error" for r in results),
        "skipped": sum(r.status == "skipped" for r in results),
    }


def _by_suite(
    results: Iterable[CheckResult], suites: Sequence[str]
) -> dict[str, list[CheckResult]]:
    grouped: dict[str, list[CheckResult]] = {suite: [] for suite in suites}
    for result in results:
        grouped.setdefault(result.suite, []).append(result)
    return grouped


def junit_xml(
    results: Iterable[CheckResult],
    *,
    name: str,
    suites: Sequence[str] = (),
    timestamp: datetime | None = None,
) -> str:
    """The results as JUnit XML: a ``<testsuite>`` per suite (``suites`` first, in that
    order, even when empty), inside one ``<testsuites>``."""
    grouped = _by_suite(results, suites)
    stamp = (timestamp or datetime.now(UTC)).isoformat(timespec="seconds")
    root = ET.Element("testsuites", name=name)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for suite, members in grouped.items():
        counts = _counts(members)
        seconds = sum(r.time_s or 0.0 for r in members)
        attributes = {"name": suite, **{k: str(v) for k, v in counts.items()}}
        attributes.update(timestamp=stamp, time=f"{seconds:.3f}")
        element = ET.SubElement(root, "testsuite", attributes)
        for result in members:
            _testcase(element, result)
        totals = {k: totals[k] + counts[k] for k in totals}
        total_time += seconds
    root.attrib.update({k: str(v) for k, v in totals.items()})
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(parent: ET.Element, result: CheckResult) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        name=_clean(result.name),
        classname=_clean(result.classname or result.suite),
        time=f"{result.time_s or 0.0:.3f}",
    )
    message = _short(result.message)
    tag = {"failed": "failure", "error": "error", "skipped": "skipped"}.get(result.status)
    if tag is not None:
        child = ET.SubElement(case, tag, message=message)
        if tag != "skipped":
            child.set("type", result.suite)
            child.text = _clean(result.details or result.message)
        return
    if result.status == "warning" or result.details:
        said = f"WARNING: {result.message}\n" if result.status == "warning" else ""
        ET.SubElement(case, "system-out").text = _clean(said + result.details)


# -- Markdown -------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return _short(text).replace("|", "\\|")


def markdown_summary(
    results: Sequence[CheckResult],
    *,
    title: str,
    lines: Sequence[str] = (),
    suites: Sequence[str] = (),
) -> str:
    """A pull-request comment: the verdict, ``lines`` about the run, a count per suite,
    then a table per suite (failures first; at most 50 rows each)."""
    failed = any(r.failed for r in results)
    verdict = "failed" if failed else "passed"
    out = [f"## {_ICONS['failed' if failed else 'passed']} {title}: {verdict}", ""]
    out += [*lines, ""] if lines else []
    grouped = _by_suite(results, suites)
    out += ["| suite | passed | failed | skipped |", "| --- | ---: | ---: | ---: |"]
    for suite, members in grouped.items():
        counts = _counts(members)
        passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
        bad = counts["failures"] + counts["errors"]
        out.append(f"| {suite} | {passed} | {bad} | {counts['skipped']} |")
    for suite, members in grouped.items():
        if not members:
            continue
        out += ["", f"### {suite}", ""]
        timed = any(r.time_s is not None for r in members)
        out += [
            "| check | result |" + (" time |" if timed else "") + " details |",
            "| --- | --- |" + (" ---: |" if timed else "") + " --- |",
        ]
        ordered = sorted(members, key=lambda r: not r.failed)  # stable: failures first
        for result in ordered[:_MARKDOWN_ROWS]:
            shown = result.outcome or result.status
            row = f"| {_cell(result.name)} | {_ICONS[result.status]} {_cell(shown)} |"
            if timed:
                row += f" {result.time_s:.1f} s |" if result.time_s is not None else " |"
            out.append(row + f" {_cell(result.message)} |")
        if len(ordered) > _MARKDOWN_ROWS:
            out += ["", f"… and {len(ordered) - _MARKDOWN_ROWS} more (all in the JUnit XML)."]
    return "\n".join(out) + "\n"
