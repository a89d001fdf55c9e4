"""The paths check, read from the source: absolute paths, paths leaving the workspace,
undeclared file reads and checks, and URLs (network access).

A first pass: the clean run's observed reads (:mod:`mlops_lab.handoff.observed`)
then say what the notebook actually read.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from mlops_lab.handoff.findings import Finding
from mlops_lab.handoff.static import CellCode

__all__ = ["call_name", "check_paths"]

# Calls that read a file named by their first argument.
_READERS = {
    "open",
    "read_csv",
    "read_parquet",
    "read_json",
    "read_excel",
    "read_table",
    "read_feather",
    "read_pickle",
    "read_orc",
    "read_sas",
    "read_stata",
    "read_hdf",
    "loadtxt",
    "genfromtxt",
    "load",
    "read_text",
    "read_bytes",
    "imread",
    "read_file",
}
# Calls that check for a file named by their first argument (os.path.isfile("x"), ...),
# and methods that do on a literal Path (Path("x").exists()).
_PROBES = {"isfile", "isdir", "exists", "getsize", "lexists"}
_PATH_PROBES = {"exists", "is_file", "is_dir"}
# Calls that fetch a URL given as their first argument (besides the readers).
_FETCHERS = {"urlopen", "urlretrieve", "get", "Request", "read_html", "read_xml"}
_URL = re.compile(r"^(https?|s3|gs|ftp)://", re.IGNORECASE)
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")


def call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal_target(node: ast.Call) -> tuple[str, str] | None:
    """(what the call does, the literal path or URL) for a file read, probe or fetch."""
    name = call_name(node)
    if node.args and isinstance(node.args[0], ast.Constant):
        target = node.args[0].value
        if isinstance(target, str) and _URL.match(target) and name in _READERS | _FETCHERS:
            return "network", target
        if isinstance(target, str) and name in _READERS:
            return "reads", target
        if isinstance(target, str) and name in _PROBES:
            return "checks", target
    func = node.func
    if (
        name in _PATH_PROBES
        and isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Call)
        and call_name(func.value) in ("Path", "PurePath")
        and func.value.args
        and isinstance(func.value.args[0], ast.Constant)
        and isinstance(func.value.args[0].value, str)
    ):
        return "checks", func.value.args[0].value
    return None


def _network_finding(cell: CellCode, node: ast.Call, url: str) -> Finding:
    return Finding(
        check="paths",
        status="warn",
        cell=cell.index,
        message=f"Cell {cell.index + 1} (line {node.lineno}) reads {url!r} over the network: "
        "its results depend on what the server answers, and an engineer's run may have no "
        "access. Save the data once as a dataset (ctx.save_dataset) and read it with "
        "ctx.load_dataset, which pins its version.",
        details={"url": url, "line": node.lineno},
    )


def check_paths(cells: list[CellCode], notebook: Path, root: Path) -> list[Finding]:
    findings = []
    written = {path for cell in cells for path in cell.writes}  # %%writefile: made here
    for cell in cells:
        if cell.tree is None:
            continue
        reported: set[str] = set()
        for node in ast.walk(cell.tree):
            if (
                isinstance(node, ast.Call)
                and (found := _literal_target(node)) is not None
                and found[1] not in reported
                and found[1] not in written
            ):
                action, target = found
                reported.add(target)
                if action == "network":
                    findings.append(_network_finding(cell, node, target))
                else:
                    verb = "reads" if action == "reads" else "checks for"
                    findings.append(
                        Finding(
                            check="paths",
                            status="warn",
                            cell=cell.index,
                            message=f"Cell {cell.index + 1} (line {node.lineno}) {verb} the file "
                            f"{target!r}, which is not a declared input: an engineer's run may "
                            "not have it. Save it once as a dataset (ctx.save_dataset) and read "
                            "it with ctx.load_dataset, which pins its version."
                            + (
                                f" Also, {problem}"
                                if (problem := _path_problem(target, notebook, root))
                                else ""
                            ),
                            details={"path": target, "line": node.lineno},
                        )
                    )
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                problem = _path_problem(node.value, notebook, root)
                if problem and node.value not in reported:
                    reported.add(node.value)
                    findings.append(
                        Finding(
                            check="paths",
                            status="warn",
                            cell=cell.index,
                            message=f"Cell {cell.index + 1} (line {node.lineno}): {problem}",
                            details={"path": node.value, "line": node.lineno},
                        )
                    )
    if not findings:
        findings.append(
            Finding(
                check="paths",
                status="pass",
                message="No absolute paths and no undeclared file reads.",
            )
        )
    return findings


def _path_problem(text: str, notebook: Path, root: Path) -> str | None:
    if "\n" in text or " " in text or len(text) < 3 or "://" in text:
        return None
    if (
        text.startswith("~/")
        or _WINDOWS_ABSOLUTE.match(text)
        or (text.startswith("/") and text.count("/") >= 2)
    ):
        return (
            f"the absolute path {text!r} exists only on one machine; use a path in the "
            "workspace or a dataset."
        )
    if text.startswith("..") and ("/" in text or os.sep in text):
        resolved = (notebook.parent / text).resolve()
        if not resolved.is_relative_to(root.resolve()):
            return f"the path {text!r} points outside the workspace."
    return None
