"""The handoff report: the contract, every finding, and the metrics and the differing outputs
side by side (Markdown)."""

from __future__ import annotations

from typing import Any

__all__ = ["render_report"]

_MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL"}


def _cell(value: Any) -> str:
    text = "" if value is None else (f"{value:.6g}" if isinstance(value, float) else str(value))
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(
    contract: dict[str, Any],
    findings: list[dict[str, Any]],
    *,
    status: str,
    by: str,
    handoff_id: str,
) -> str:
    lines = [
        f"# Handoff {handoff_id}: `{contract['notebook']}` is {status.upper()}",
        "",
        f"Checked by {by}. Stage `{contract['stage']}` of pipeline `{contract['pipeline']}`; "
        f"notebook code hash `{contract['notebook_hash'][:16]}`.",
        "",
        "## Checks",
        "",
        "| result | check | cell | finding |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {_MARK[f['status']]} | {_cell(f['title'])} | {_cell(f['cell'])} | "
        f"{_cell(f['message'])} |"
        for f in findings
    ]
    lines += ["", "## Contract", "", "Parameters (defaults):", ""]
    lines += [
        f"- `{n}`: {p['type']} = `{p['default']!r}`" for n, p in contract["parameters"].items()
    ] or ["- none"]
    lines += ["", "Inputs (pinned):", ""]
    pinned = [
        f"- {kind[:-1].replace('_', ' ')} `{n}` version {v['version']}"
        for kind, items in contract["inputs"].items()
        for n, v in items.items()
    ]
    lines += pinned or ["- none"]
    lines += ["", "Outputs:", ""]
    lines += [
        f"- {kind}: {', '.join(f'`{n}`' for n in names)}"
        for kind, names in contract["outputs"].items()
        if names
    ] or ["- none declared"]
    environment = contract.get("environment") or {}
    if environment:
        lines += ["", f"Environment: Python {environment.get('python')}", ""]
        lines += [f"- {d} {v}" for d, v in sorted((environment.get("packages") or {}).items())]
    reproduction = next((f for f in findings if f["check"] == "reproduction"), None)
    rows = (reproduction or {}).get("details", {}).get("metrics") or []
    if rows:
        lines += [
            "",
            "## Metrics: interactive run vs clean run",
            "",
            "| metric | interactive | clean run | same |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r['metric']} | {_cell(r['interactive'])} | {_cell(r['clean'])} | "
            f"{'yes' if r['same'] else 'NO'} |"
            for r in rows
        ]
    lines += _side_by_side(findings, "reproduction", ("saved", "saved"), ("clean", "clean run"))
    lines += _side_by_side(findings, "determinism", ("run1", "clean run 1"), ("run2", "run 2"))
    return "\n".join(lines) + "\n"


def _side_by_side(
    findings: list[dict[str, Any]], check: str, left: tuple[str, str], right: tuple[str, str]
) -> list[str]:
    """The first differing cells of ``check``'s finding: the sides (key, heading) ``left``
    and ``right``, the differing numbers and the likely cause."""
    finding = next((f for f in findings if f["check"] == check), None)
    rows = (finding or {}).get("details", {}).get("cells") or []
    if not rows:
        return []
    lines = [
        "",
        f"## Outputs: {left[1]} vs {right[1]}",
        "",
        f"| cell | {left[1]} | {right[1]} | numbers | likely cause |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        numbers = ", ".join(f"{x} -> {y}" for x, y in row.get("numbers") or [])
        lines.append(
            f"| {row['cell']} | {_cell(row.get(left[0]))} | {_cell(row.get(right[0]))} | "
            f"{_cell(numbers)} | "
            f"{_cell(row.get('cause'))} |"
        )
    return lines
