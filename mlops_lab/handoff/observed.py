"""The ``paths`` check from what the clean run was seen reading (its kernel's observed
reads, :mod:`mlops_lab.pipelines.reads`), after the static first pass on the source.

Declared inputs are datasets read through ``ctx.load_dataset`` (in the state folder,
which the observer leaves out), so every workspace file the clean run read, probed or
listed is undeclared; network access and reads outside the workspace are named too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from mlops_lab.handoff.clean_run import CleanRun
from mlops_lab.handoff.findings import Finding

__all__ = ["check_observed_reads", "with_observed_reads"]

_SHOWN = 20  # findings per kind before the rest are summed up
_ADVICE = (
    "Save it once as a dataset (ctx.save_dataset) and read it with ctx.load_dataset, "
    "which pins its version."
)


def with_observed_reads(
    findings: list[Finding], run: CleanRun, saved_cells: Sequence[Any], *, notebook: str
) -> list[Finding]:
    """``findings`` (the static ones included) plus the clean run's ``paths`` findings; the
    source check's pass is dropped when the clean run saw undeclared reads."""
    observed = check_observed_reads(run, saved_cells, notebook=notebook, static=findings)
    if any(f.status != "pass" and f.details.get("observed") for f in observed):
        findings = [f for f in findings if not (f.check == "paths" and f.status == "pass")]
    return [*findings, *observed]


def check_observed_reads(
    run: CleanRun,
    saved_cells: Sequence[Any],
    *,
    notebook: str,
    static: Iterable[Finding] = (),
) -> list[Finding]:
    """``paths`` findings from the clean run's reads; ``notebook`` is workspace-relative,
    ``static`` the source check's findings (files they already name are not repeated)."""
    reads = run.reads
    if reads is None:
        return []
    if not reads.get("observed"):
        return [
            Finding(
                check="paths",
                status="warn",
                message="The clean run's reads were not observed (the kernel is not an "
                "IPython kernel, or it could not load mlops_lab): only the source was checked.",
            )
        ]
    cell_of = _index  # the reads name the saved notebook's cells from 1
    named = _statically_named(static, notebook)
    findings: list[Finding] = []
    files = [f for f in reads.get("files", ()) if f["path"] not in named]
    probes = [p for p in reads.get("probes", ()) if p["path"] not in named]
    for item in files[:_SHOWN]:
        findings.append(_file_finding(item, cell_of(item.get("cell"))))
    for probe in probes[:_SHOWN]:
        cell = cell_of(probe.get("cell"))
        state = "it exists here" if probe["exists"] else "it does not exist here"
        findings.append(
            Finding(
                check="paths",
                status="warn",
                cell=cell,
                message=f"{_where(cell)}the clean run checks for the file {probe['path']!r} "
                f"({state}): what the notebook does depends on it, and it is not a declared "
                f"input. {_ADVICE}",
                details={"path": probe["path"], "exists": probe["exists"], "observed": True},
            )
        )
    for listing in reads.get("listings", ())[:_SHOWN]:
        cell = cell_of(listing.get("cell"))
        findings.append(
            Finding(
                check="paths",
                status="warn",
                cell=cell,
                message=f"{_where(cell)}the clean run lists the folder {listing['path']!r}: its "
                "results depend on which files are there, which a declared input would pin.",
                details={"folder": listing["path"], "observed": True},
            )
        )
    more = len(files) + len(probes) - min(len(files), _SHOWN) - min(len(probes), _SHOWN)
    if more > 0:
        findings.append(
            Finding(
                check="paths",
                status="warn",
                message=f"The clean run read or checked {more} more undeclared workspace file(s); "
                "see the run's reads (mlops-lab runs show).",
                details={"observed": True},
            )
        )
    findings += _network(reads.get("network", ()), cell_of)
    findings += _outside(reads.get("outside", ()), cell_of)
    if not findings:
        findings.append(
            Finding(
                check="paths",
                status="pass",
                message=(
                    "The clean run" if run.outcome.ok else "Up to where it stopped, the clean run"
                )
                + " read no undeclared file, nothing outside the workspace and used "
                "no network.",
                details={"observed": True},
            )
        )
    return findings


def _where(cell: int | None) -> str:
    return f"Cell {cell + 1}: " if cell is not None else ""


def _file_finding(item: dict[str, Any], cell: int | None) -> Finding:
    path = item["path"]
    details = {"path": path, "sha256": item["sha256"], "observed": True}
    if item["sha256"] is None:
        message = (
            f"{_where(cell)}the clean run tried to read the file {path!r}, which does not exist "
            "here: the notebook depends on a file an engineer's run will not have."
        )
    elif path.endswith(".py"):
        message = (
            f"{_where(cell)}the clean run imported the workspace module {path!r}: it must ship "
            "with the notebook (a change to it reruns the stage)."
        )
    else:
        message = (
            f"{_where(cell)}the clean run read the file {path!r}, which is not a declared "
            f"input: an engineer's run may not have it. {_ADVICE}"
        )
    return Finding(check="paths", status="warn", cell=cell, message=message, details=details)


def _network(items: Iterable[dict[str, Any]], cell_of: Any) -> list[Finding]:
    items = list(items)
    if not items:
        return []
    urls = [i["target"] for i in items if i["kind"] == "url"]
    hosts = [i["target"] for i in items if i["kind"] == "connect"]
    looked_up = [i["target"] for i in items if i["kind"] == "lookup"]
    cell = cell_of(items[0].get("cell"))
    return [
        _warning(
            cell,
            f"the clean run reads over the network ({_listed(urls or hosts or looked_up)}): "
            "its results depend on what the server answers, and an engineer's run may have no "
            f"access. {_ADVICE}",
            {"urls": urls, "connections": hosts, "lookups": looked_up},
        )
    ]


def _outside(items: Iterable[dict[str, Any]], cell_of: Any) -> list[Finding]:
    items = list(items)
    if not items:
        return []
    paths = sorted({i["path"] for i in items})
    cell = cell_of(items[0].get("cell"))
    return [
        _warning(
            cell,
            f"the clean run read outside the workspace ({_listed(paths)}): another machine "
            "will not have these files. Copy what the notebook needs into the workspace and "
            "save it as a dataset.",
            {"paths": paths},
        )
    ]


def _listed(names: list[str]) -> str:
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def _warning(cell: int | None, message: str, details: dict[str, Any]) -> Finding:
    return Finding(
        check="paths",
        status="warn",
        cell=cell,
        message=_where(cell) + message,
        details={**details, "observed": True},
    )


def _index(number: int | None) -> int | None:
    """A cell number from 1 (as the run record keeps it) -> the 0-based index of a Finding."""
    return number - 1 if isinstance(number, int) and number > 0 else None


def _statically_named(static: Iterable[Finding], notebook: str) -> set[str]:
    """Workspace-relative paths the source check already reported."""
    folder = os.path.dirname(notebook)
    named = set()
    for finding in static:
        path = finding.details.get("path") if finding.check == "paths" else None
        if isinstance(path, str) and "://" not in path and not os.path.isabs(path):
            named.add(os.path.normpath(os.path.join(folder, path)).replace(os.sep, "/"))
    return named
