"""Cell outputs as a reader compares them: what two runs of a notebook printed and showed.

A code cell's outputs are normalised into three parts:

- ``lines``: what it printed on stdout and the ``text/plain`` of its results and
  displays, in order, line by line; ANSI colours, memory addresses (``0x7f...``),
  object ids and mlops-lab's run ids blanked; the lines of ``%time``/``%%time``/``%timeit`` and of
  progress bars dropped. Lines are compared with their numbers tokenised: text
  (whitespace collapsed) exactly, integers exactly, other numbers within
  ``rel_tol``.
- ``shown``: rich outputs by presence only (images, HTML, widgets, JSON, ...).
- ``errors``: the names of the exceptions raised.

stderr (warnings, progress bars) is ignored. Pure functions, no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

__all__ = ["CellOutputs", "Difference", "compare_outputs", "has_outputs", "normalise"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{4,}\b")
_OBJECT_ID = re.compile(r"\b(id[=:]\s*)\d{6,}\b")
# mlops-lab's own run ids (records.new_run_id): every run has a new one.
_RUN_ID = re.compile(r"\b[a-z]\d{8}-\d{6}-[0-9a-f]{6}\b")
# Output lines that measure time, not results: %time, %timeit, progress bars.
_TIMING = re.compile(
    r"^\s*(CPU times:|Wall time:)"
    r"|per loop \(mean|loops?, best of \d"
    r"|\d\s*(it/s|s/it)\]|\d\s*[mµu]?s/step\b|\bETA:?\s*\d"
)
_NUMBER = re.compile(r"([-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)")
_WIDGET = "application/vnd.jupyter.widget-view+json"
_SHOWN_MAX = 160  # characters of a differing line shown


@dataclass(frozen=True, kw_only=True)
class CellOutputs:
    lines: tuple[str, ...] = ()
    shown: tuple[tuple[str, int], ...] = ()  # (kind, count), sorted
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Difference:
    """How two cells' outputs differ: the first differing line (or display, or error)."""

    kind: str  # numbers | text | display | error
    a: str
    b: str
    numbers: list[tuple[str, str]] = field(default_factory=list)  # differing (a, b)
    lines: int = 1  # how many lines differ

    def to_dict(self, a: str, b: str) -> dict[str, Any]:
        """As a finding's detail, the two sides named ``a`` and ``b`` (e.g. saved, clean)."""
        found: dict[str, Any] = {"kind": self.kind, a: self.a, b: self.b}
        if self.numbers:
            found["numbers"] = [[x, y] for x, y in self.numbers]
        if self.lines > 1:
            found["lines"] = self.lines
        return found


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _kind(mime: str) -> str | None:
    if mime == "text/plain":
        return None
    if mime.startswith("image/"):
        return "image"
    if mime == "text/html":
        return "HTML"
    if mime == _WIDGET:
        return "widget"
    if mime.endswith("json"):
        return "JSON"
    return mime


def _clean_lines(text: str) -> list[str]:
    lines = []
    for raw in _ANSI.sub("", text).split("\n"):
        line = raw.rsplit("\r", 1)[-1]  # a line rewritten in place keeps its last state
        if _TIMING.search(line):
            continue
        line = _OBJECT_ID.sub(r"\1<id>", _ADDRESS.sub("0x<address>", line))
        line = _RUN_ID.sub("<run id>", line)
        if line.strip():
            lines.append(line.rstrip())
    return lines


def has_outputs(cell: dict[str, Any]) -> bool:
    """A code cell that ran when saved and kept outputs."""
    return (
        cell.get("cell_type") == "code"
        and cell.get("execution_count") is not None
        and bool(cell.get("outputs"))
    )


def normalise(cell: dict[str, Any]) -> CellOutputs:
    """A code cell's outputs as compared (see the module's docstring)."""
    lines: list[str] = []
    shown: Counter[str] = Counter()
    errors: list[str] = []
    stdout = ""
    for output in cell.get("outputs") or []:
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stdout":
                stdout += _text(output.get("text"))
            continue
        lines += _clean_lines(stdout)
        stdout = ""
        if kind == "error":
            errors.append(str(output.get("ename") or "error"))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data") or {}
            kinds = {_kind(m) for m in data} - {None}
            shown.update(k for k in kinds if k is not None)
            if "text/plain" in data and _WIDGET not in data:
                lines += _clean_lines(_text(data["text/plain"]))
    lines += _clean_lines(stdout)
    return CellOutputs(lines=tuple(lines), shown=tuple(sorted(shown.items())), errors=tuple(errors))


def _split(line: str) -> tuple[list[str], list[str]]:
    """(text parts, whitespace collapsed; numbers) of a line."""
    parts = _NUMBER.split(line)
    return [" ".join(p.split()) for p in parts[0::2]], parts[1::2]


def _same_number(a: str, b: str, rel_tol: float) -> bool:
    if a == b:
        return True
    integers = not any(c in x for x in (a, b) for c in ".eE")
    if integers:
        return int(a) == int(b)
    x, y = float(a), float(b)
    return math.isclose(x, y, rel_tol=rel_tol, abs_tol=0.0)


def _compare_line(a: str, b: str, rel_tol: float) -> Difference | None:
    text_a, numbers_a = _split(a)
    text_b, numbers_b = _split(b)
    if text_a != text_b or len(numbers_a) != len(numbers_b):
        return Difference(kind="text", a=a, b=b)
    differing = [
        (x, y) for x, y in zip(numbers_a, numbers_b, strict=True) if not _same_number(x, y, rel_tol)
    ]
    return Difference(kind="numbers", a=a, b=b, numbers=differing) if differing else None


def _clip(a: str, b: str) -> tuple[str, str]:
    """Both lines cut to a window around where they start to differ."""
    if max(len(a), len(b)) <= _SHOWN_MAX:
        return a, b
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), 0)
    start = max(0, min(start - 40, max(len(a), len(b)) - _SHOWN_MAX))

    def cut(text: str) -> str:
        piece = text[start : start + _SHOWN_MAX]
        return ("…" if start else "") + piece + ("…" if start + _SHOWN_MAX < len(text) else "")

    return cut(a), cut(b)


def _described(shown: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in shown) or "nothing shown"


def compare_outputs(a: CellOutputs, b: CellOutputs, *, rel_tol: float) -> Difference | None:
    """The first difference between two cells' normalised outputs, None if they match."""
    if a.errors != b.errors:
        return Difference(
            kind="error",
            a=", ".join(a.errors) or "no error",
            b=", ".join(b.errors) or "no error",
        )
    first: Difference | None = None
    count = 0
    for x, y in zip_longest(a.lines, b.lines):
        found = (
            _compare_line(x, y, rel_tol)
            if x is not None and y is not None
            else Difference(kind="text", a=x or "(no line)", b=y or "(no line)")
        )
        if found is not None:
            count += 1
            first = first or found
    if first is not None:
        shown_a, shown_b = _clip(first.a, first.b)
        return Difference(kind=first.kind, a=shown_a, b=shown_b, numbers=first.numbers, lines=count)
    if a.shown != b.shown:
        return Difference(kind="display", a=_described(a.shown), b=_described(b.shown))
    return None
