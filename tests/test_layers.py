"""The package's layers (``[tool.importlinter]`` in pyproject.toml) hold, and break on a new
upward import; no import cycle among ``mlops_lab``'s modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import mlops_lab
from tests.paths import REPO

PACKAGE = Path(mlops_lab.__file__).parent
CONFIG = REPO / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on the ``mlops_lab`` found in ``source_root`` (it puts the cwd first)."""
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(CONFIG), "--no-cache", "--no-logo"],
        cwd=source_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layers_hold() -> None:
    result = _lint_imports(PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "added", "contract", "shown"),
    [
        # the catalog (low) reaching up to the Jupyter server (top)
        ("catalog/__init__.py", "import mlops_lab.server", "Layers", "mlops_lab.catalog ->"),
        # the workspace reaching up to the feature store, as `Workspace.features` once did
        ("workspace.py", "import mlops_lab.features", "Layers", "mlops_lab.workspace ->"),
        # one domain knowing another
        ("features/windows.py", "import mlops_lab.models", "the model store", "features"),
        # the model store reaching into the pipelines past mlops_lab.context()
        ("models/lookup.py", "import mlops_lab.pipelines.spec", "runs only", "models.lookup"),
        # a new top-level module the contract does not place
        ("unplaced.py", "", "Layers", "mlops_lab.unplaced"),
    ],
)
def test_a_new_upward_import_breaks_the_contract(
    tmp_path: Path, module: str, added: str, contract: str, shown: str
) -> None:
    copy = tmp_path / "mlops_lab"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "labextension"))
    target = copy / module
    before = target.read_text() if target.exists() else '"""A module."""\n'
    target.write_text(f"{before}\n{added}\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout
    assert shown in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    edges = {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            # a module importing its own package's __init__ is how packages work
            if not module.startswith(imported + ".")
        }
        for module in graph.modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                popped = stack.pop()
                component.append(popped)
                if popped == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle() -> None:
    # Imports inside functions count; those under `if TYPE_CHECKING:` do not run.
    graph = grimp.build_graph("mlops_lab", cache_dir=None, exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p")  # its own package: not a cycle
    graph.add_import(importer="p", imported="p.c")
    assert _cycles(graph) == [["p.a", "p.b"]]
