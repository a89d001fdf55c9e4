"""A stage's observed reads: turned on for its kernel, collected after it, checked before
its cached result is reused.

The kernel side is :mod:`mlops_lab.pipelines.observe`. After the run, the log becomes
the stage's ``reads`` (stored in ``stage_runs.reads``)::

    {"observed": true,
     "files":    [{"path": "data/check.txt", "sha256": "…" | null, "cell": 3}],
     "probes":   [{"path": "flag.txt", "check": "exists", "exists": false, "cell": 2}],
     "listings": [{"path": "data", "sha256": "…" | null, "cell": 2}],
     "written":  [{"path": "out.csv", "cell": 4}],
     "network":  [{"kind": "connect" | "lookup" | "url", "target": "…", "cell": 3}],
     "outside":  [{"op": "read" | "list" | "probe", "path": "/abs/path", "cell": 1}]}

Paths are relative to the workspace root; ``cell`` is the kernel's execution count
when the access happened (the executed copy's numbering). A file hash is taken at
the end of the run (``null``: absent). ``observed: false`` means the kernel did not
load the observer (not an ipykernel kernel, or the import failed): nothing is known.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlops_lab.pipelines.observe import ENV_READS_LOG

__all__ = [
    "ENV_READS_LOG",
    "OBSERVER_EXTENSION",
    "collect_reads",
    "describe_reads",
    "observer_command",
    "reads_log",
    "stale_reason",
]

OBSERVER_EXTENSION = "mlops_lab.pipelines.observe"
_LISTED = 1000  # network targets and outside paths kept per stage


def reads_log(manifest_path: str) -> Path:
    """The observer's log of a stage: next to its manifest, emptied."""
    path = Path(manifest_path).parent / "reads.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")
    return path


def observer_command(command: list[str], env: dict[str, str]) -> list[str]:
    """The kernel command line, loading the observer when it starts an ipykernel."""
    if ENV_READS_LOG not in env or not any("ipykernel" in part for part in command):
        return command
    return [*command, f"--IPKernelApp.extra_extensions={OBSERVER_EXTENSION}"]


def collect_reads(
    log: Path, root: Path, cell_of: Callable[[int | None], int | None] | None = None
) -> dict[str, Any]:
    """The stage's reads from the observer's log, workspace files hashed now.

    ``cell_of`` turns the observer's execution counts into the saved notebook's
    cell numbers (from 1; :func:`mlops_lab.pipelines.cellmap.by_execution_count`).
    """
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue  # a line cut by the kernel's kill
    observed = bool(events) and "observer" in events[0]
    reads: dict[str, Any] = {"observed": observed, "files": [], "probes": [], "listings": []}
    reads.update({"written": [], "network": [], "outside": []})
    if not observed:
        return reads
    written = {e["path"] for e in events if e.get("op") == "write" and e["where"] == "workspace"}
    for event in events[1:]:
        op, cell = event.get("op"), event.get("cell")
        cell = cell_of(cell) if cell_of is not None else cell
        if op == "net":
            item = {"kind": event["kind"], "target": event["target"], "cell": cell}
            _append(reads["network"], item)
        elif event.get("where") == "outside":
            _append(reads["outside"], {"op": op, "path": event["path"], "cell": cell})
        elif op == "write":
            reads["written"].append({"path": event["path"], "cell": cell})
        elif op == "read":
            digest = _file_hash(root / event["path"])
            reads["files"].append({"path": event["path"], "sha256": digest, "cell": cell})
        elif op == "probe" and event["path"] not in written:
            reads["probes"].append(
                {
                    "path": event["path"],
                    "check": event["kind"],
                    "exists": event["exists"],
                    "cell": cell,
                }
            )
        elif op == "list":
            digest = _listing_hash(root / event["path"])
            reads["listings"].append({"path": event["path"], "sha256": digest, "cell": cell})
    return reads


def _append(items: list[dict[str, Any]], item: dict[str, Any]) -> None:
    if len(items) < _LISTED:
        items.append(item)


def _file_hash(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None  # absent (or a folder, or unreadable): its absence is what was read
    return digest.hexdigest()


def _listing_hash(path: Path) -> str | None:
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return None
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


_PROBE_CHECKS = {"exists": os.path.exists, "isfile": os.path.isfile, "isdir": os.path.isdir}


def stale_reason(root: Path, reads: dict[str, Any] | None, run_id: str) -> str | None:
    """Why run ``run_id``'s result no longer holds (a file it read changed...), else None.

    Cheap checks first (probes, listings), then file hashes, stopping at the first
    difference. A run with no observed reads is judged by its cache key alone.
    """
    if not reads or not reads.get("observed"):
        return None
    for probe in reads.get("probes", ()):
        check = _PROBE_CHECKS.get(probe.get("check", "exists"), os.path.exists)
        if check(root / probe["path"]) != probe["exists"]:
            state = "exists" if not probe["exists"] else "no longer exists"
            return f"{probe['path']} {state} (run {run_id} checked for it)"
    for listing in reads.get("listings", ()):
        if _listing_hash(root / listing["path"]) != listing["sha256"]:
            return f"the listing of {listing['path'] or '.'} changed since run {run_id}"
    for item in reads.get("files", ()):
        digest = _file_hash(root / item["path"])
        if digest != item["sha256"]:
            if digest is None:
                return f"{item['path']} was deleted since run {run_id}"
            if item["sha256"] is None:
                return f"{item['path']} appeared since run {run_id}"
            return f"{item['path']} changed since run {run_id}"
    return None


def describe_reads(reads: dict[str, Any] | None) -> list[str]:
    """One line per read, for ``mlops-lab runs show``."""
    if reads is None:
        return []
    if not reads.get("observed"):
        return ["reads not observed (the kernel did not load the observer)"]
    lines = []
    for item in reads.get("files", ()):
        digest = item["sha256"][:12] if item["sha256"] else "absent"
        lines.append(f"read {item['path']} ({digest})")
    for probe in reads.get("probes", ()):
        lines.append(f"checked {probe['path']} ({'exists' if probe['exists'] else 'absent'})")
    lines += [f"listed {item['path']}/" for item in reads.get("listings", ())]
    lines += [f"network {item['target']} ({item['kind']})" for item in reads.get("network", ())]
    lines += [f"outside {item['path']} ({item['op']})" for item in reads.get("outside", ())]
    lines += [f"wrote {item['path']}" for item in reads.get("written", ())]
    return lines
