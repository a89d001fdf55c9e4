"""Live progress of a run in the terminal: a table redrawn in place, or plain lines."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from mlops_lab.pipelines.run_options import RunEvent
from mlops_lab.pipelines.spec import PipelineSpec

__all__ = ["TerminalProgress"]

_STYLE = {
    "pending": "dim",
    "running": "bold cyan",
    "succeeded": "green",
    "cached": "blue",
    "failed": "bold red",
    "skipped": "yellow",
    "cancelled": "yellow",
    "interrupted": "yellow",
    "not_selected": "dim",
}


@dataclass
class _Row:
    status: str = "pending"
    start: float | None = None
    end: float | None = None
    cells: str = ""
    note: str = ""


class TerminalProgress:
    """Receives :class:`RunEvent` s; draws a live table on a terminal, else prints lines."""

    def __init__(self, pipeline: PipelineSpec, *, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self._console = Console(file=self._stream)
        self._live_mode = self._console.is_terminal
        self._lock = threading.Lock()
        self._rows = {s.name: _Row() for s in pipeline.stages}
        self._order = [s.name for s in pipeline.stages]
        self._live: Live | None = None
        self.run_id = ""

    def __enter__(self) -> TerminalProgress:
        if self._live_mode:
            self._live = Live(
                self._table(),
                console=self._console,
                refresh_per_second=4,
                get_renderable=self._table,
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, value, traceback)

    def __call__(self, event: RunEvent) -> None:
        with self._lock:
            self.run_id = event.run_id
            if event.stage is None:
                if not self._live_mode:
                    print(f"run {event.run_id}: {event.status}", file=self._stream, flush=True)
                return
            row = self._rows[event.stage]
            changed = row.status != event.status
            row.status = event.status
            if event.status == "running" and row.start is None:
                row.start = time.monotonic()
            if event.status not in ("running", "pending"):
                row.end = time.monotonic()
            if event.cells_total:
                row.cells = f"{event.cells_done}/{event.cells_total}"
            if event.message:
                row.note = event.message
            if changed and not self._live_mode:
                note = f"  {event.message}" if event.message else ""
                print(f"  {event.stage}: {event.status}{note}", file=self._stream, flush=True)

    def _table(self) -> Table:
        table = Table(title=f"run {self.run_id}" if self.run_id else None, expand=False)
        for column in ("stage", "status", "time", "cells", ""):
            table.add_column(column)
        with self._lock:
            for name in self._order:
                row = self._rows[name]
                elapsed = ""
                if row.start is not None:
                    elapsed = f"{(row.end or time.monotonic()) - row.start:.1f} s"
                style = _STYLE.get(row.status, "")
                table.add_row(name, f"[{style}]{row.status}[/]", elapsed, row.cells, row.note[:80])
        return table
