"""The environment check before the clean run: is every import installed for the kernel?

The notebook's imports are read from its source (top level and nested; a
``try: ... except ImportError`` makes them optional), leaving out the
standard library, relative imports and modules that are files or folders next
to the notebook or in the workspace. They are looked up with
``importlib.util.find_spec`` by the *kernel's* Python (its kernelspec's
interpreter, which may not be this one) in one small subprocess, and every
missing module is listed at once with the distribution to install where it is
known. The Python version saved in the notebook is compared with the kernel's.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_lab.handoff.findings import Finding
from mlops_lab.handoff.static import CellCode

__all__ = ["KernelPython", "check_imports", "kernel_name", "kernel_python", "notebook_imports"]

# Import names whose distribution has another name (when this Python cannot tell).
_ALIASES = {
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "skimage": "scikit-image",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "Crypto": "pycryptodome",
    "jwt": "PyJWT",
    "git": "GitPython",
    "OpenSSL": "pyOpenSSL",
    "serial": "pyserial",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "fitz": "PyMuPDF",
    "Bio": "biopython",
    "mpl_toolkits": "matplotlib",
    "IPython": "ipython",
    "attr": "attrs",
    "magic": "python-magic",
    "MySQLdb": "mysqlclient",
    "psycopg2": "psycopg2-binary",
    "tensorflow_datasets": "tensorflow-datasets",
    "google": "protobuf",
}
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
_INSTALL = re.compile(r"^\s*[%!]\s*(?:pip3?|conda|mamba|uv\s+pip)\s+install\s+(.*)$", re.M)
# Run by the kernel's Python: which of the names (stdin, JSON) it can import, and its version.
_PROBE = """\
import importlib.util, json, platform, sys
names = json.load(sys.stdin)
std = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
found = {}
for name in names:
    try:
        found[name] = name in std or importlib.util.find_spec(name) is not None
    except Exception:
        found[name] = True
print(json.dumps({"python": platform.python_version(), "executable": sys.executable,
                  "found": found}))
"""


@dataclass(frozen=True, kw_only=True)
class Imported:
    module: str
    cells: list[int] = field(default_factory=list)  # 0-based, among all cells
    optional: bool = True  # every import of it is inside try/except ImportError


@dataclass(frozen=True, kw_only=True)
class KernelPython:
    kernel: str
    command: list[str] | None  # the interpreter; None when it cannot be found
    problem: str | None = None


def kernel_name(document: dict[str, Any]) -> str:
    """The kernel the clean run starts: the notebook's kernelspec (``python3`` if none)."""
    spec = (document.get("metadata") or {}).get("kernelspec") or {}
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and name else "python3"


def kernel_python(kernel: str) -> KernelPython:
    """The Python interpreter the kernelspec ``kernel`` starts (its ``argv[0]``)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        return KernelPython(
            kernel=kernel, command=None, problem=f"kernel {kernel!r} is not installed"
        )
    if (spec.language or "python").lower() != "python":
        return KernelPython(
            kernel=kernel,
            command=None,
            problem=f"kernel {kernel!r} runs {spec.language}, not Python",
        )
    first = spec.argv[0] if spec.argv else "python"
    version = sys.version_info
    if first in {"python", f"python{version[0]}", f"python{version[0]}.{version[1]}"}:
        first = sys.executable  # as jupyter_client starts it
    return KernelPython(kernel=kernel, command=[first])


def notebook_imports(cells: list[CellCode], notebook: Path, root: Path) -> dict[str, Imported]:
    """Top-level modules the notebook imports that must be installed, by module name."""
    local = {Path(path).stem for cell in cells for path in cell.writes if path.endswith(".py")}
    found: dict[str, Imported] = {}
    for cell in cells:
        if cell.tree is None:
            continue
        for module, optional in _imports_in(cell.tree, optional=False):
            if module == "__future__" or module in sys.stdlib_module_names or module in local:
                continue
            if any(_is_local(folder, module) for folder in (notebook.parent, root)):
                continue
            known = found.get(module)
            cells_of = [*(known.cells if known else []), cell.index]
            found[module] = Imported(
                module=module,
                cells=sorted(set(cells_of)),
                optional=optional and (known.optional if known else True),
            )
    return found


def _is_local(folder: Path, module: str) -> bool:
    return (folder / f"{module}.py").is_file() or (folder / module).is_dir()


def _imports_in(node: ast.AST, *, optional: bool) -> list[tuple[str, bool]]:
    """(top-level module, optional) for every import under ``node``."""
    if isinstance(node, ast.Import):
        return [(alias.name.split(".")[0], optional) for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level or not node.module:
            return []  # relative: a module of the notebook's own package
        return [(node.module.split(".")[0], optional)]
    if isinstance(node, ast.Try | ast.TryStar):
        guarded = any(_catches_import_error(handler.type) for handler in node.handlers)
        found = [
            item for child in node.body for item in _imports_in(child, optional=optional or guarded)
        ]
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            found += _imports_in(child, optional=optional)
        return found
    return [
        item
        for child in ast.iter_child_nodes(node)
        for item in _imports_in(child, optional=optional)
    ]


def _catches_import_error(kind: ast.expr | None) -> bool:
    if kind is None:
        return True  # a bare except
    if isinstance(kind, ast.Tuple):
        return any(_catches_import_error(item) for item in kind.elts)
    name = (
        kind.id
        if isinstance(kind, ast.Name)
        else kind.attr
        if isinstance(kind, ast.Attribute)
        else ""
    )
    return name in _IMPORT_ERRORS


def _probe(command: list[str], names: list[str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        [*command, "-c", _PROBE],
        input=json.dumps(names),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def _distributions(modules: list[str]) -> dict[str, str | None]:
    """The distribution to install for each module, where known (here or by the aliases)."""
    if not modules:
        return {}
    from importlib.metadata import packages_distributions

    installed = packages_distributions()
    return {m: _ALIASES.get(m) or next(iter(installed.get(m, ())), None) for m in modules}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _self_installed(cells: list[CellCode]) -> dict[str, int]:
    """Distributions the notebook installs itself (``%pip install x``) -> the cell."""
    found: dict[str, int] = {}
    for cell in cells:
        for match in _INSTALL.finditer(cell.source):
            for word in match.group(1).split():
                if word.startswith("-") or word.startswith("#"):
                    continue
                name = re.split(r"[<>=!~\[;@ ]", word, maxsplit=1)[0]
                if name:
                    found.setdefault(_normalized(name), cell.index)
    return found


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def check_imports(
    cells: list[CellCode],
    *,
    notebook: Path,
    root: Path,
    document: dict[str, Any],
    kernel: str,
) -> tuple[list[Finding], list[str]]:
    """The environment findings before the run, and what to install before it may run."""
    imported = notebook_imports(cells, notebook, root)
    python = kernel_python(kernel)
    if python.command is None:
        return [
            Finding(
                check="environment",
                status="warn",
                message=f"Imports not checked before the run: {python.problem}.",
            )
        ], []
    try:
        probed = _probe(python.command, sorted(imported), notebook.parent)
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as exc:
        return [
            Finding(
                check="environment",
                status="warn",
                message=f"Imports not checked before the run: the kernel's Python "
                f"{python.command[0]} did not answer ({type(exc).__name__}).",
            )
        ], []
    where = f"the kernel {kernel!r} ({probed['executable']}, Python {probed['python']})"
    findings: list[Finding] = []
    saved = ((document.get("metadata") or {}).get("language_info") or {}).get("version")
    if isinstance(saved, str) and saved and _minor(saved) != _minor(probed["python"]):
        findings.append(
            Finding(
                check="environment",
                status="warn",
                message=f"The notebook was saved with Python {saved}; the kernel {kernel!r} "
                f"({probed['executable']}) runs Python {probed['python']}: results may differ "
                "(and old code may not run).",
                details={"saved_python": saved, "kernel_python": probed["python"]},
            )
        )
    missing = [imported[m] for m in sorted(imported) if not probed["found"].get(m, True)]
    installs = _self_installed(cells)
    distributions = _distributions([item.module for item in missing])
    required: list[dict[str, Any]] = []
    optional: list[dict[str, Any]] = []
    self_installed: list[dict[str, Any]] = []
    for item in missing:
        dist = distributions[item.module]
        entry: dict[str, Any] = {
            "module": item.module,
            "distribution": dist,
            "cells": [c + 1 for c in item.cells],
        }
        if {_normalized(item.module), _normalized(dist or item.module)} & set(installs):
            self_installed.append(entry)
        elif item.optional:
            optional.append(entry)
        else:
            required.append(entry)
    if required:
        to_install = [e["distribution"] or e["module"] for e in required]
        findings.append(
            Finding(
                check="environment",
                status="fail",
                cell=required[0]["cells"][0] - 1,
                message=f"Not installed for {where}: "
                + ", ".join(_listed(e) for e in required)
                + f". Install them there first: {probed['executable']} -m pip install "
                + " ".join(to_install)
                + (
                    " (a module whose distribution is not known here is named as is)."
                    if any(e["distribution"] is None for e in required)
                    else "."
                ),
                details={"missing": required, "install": to_install, "kernel": kernel},
            )
        )
    warnings = (
        (
            optional,
            "missing_optional",
            "Optional imports (inside try/except ImportError) not "
            "installed for {where}: {listed}; the notebook runs without them, perhaps differently "
            "than it did for the scientist.",
        ),
        (
            self_installed,
            "installed_by_notebook",
            "Not installed for {where}, but the notebook "
            "installs them itself (%pip install): {listed}. A pipeline stage should not change its "
            "environment: install them beforehand.",
        ),
    )
    for entries, key, text in warnings:
        if entries:
            listed = ", ".join(_listed(e) for e in entries)
            findings.append(
                Finding(
                    check="environment",
                    status="warn",
                    cell=entries[0]["cells"][0] - 1,
                    message=text.format(where=where, listed=listed),
                    details={key: entries},
                )
            )
    if not findings:
        findings.append(
            Finding(
                check="environment",
                status="pass",
                message=f"Every imported package ({len(imported)}) is installed for {where}.",
                details={"imports": sorted(imported)},
            )
        )
    return findings, [e["distribution"] or e["module"] for e in required]


def _listed(entry: dict[str, Any]) -> str:
    cells = ", ".join(str(c) for c in entry["cells"])
    dist = entry["distribution"]
    provided = f"; pip install {dist}" if dist and dist != entry["module"] else ""
    return f"{entry['module']} (cell{'s' if len(entry['cells']) > 1 else ''} {cells}{provided})"
