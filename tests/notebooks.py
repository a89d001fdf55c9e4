"""Helpers for tests that need small notebooks and pipelines in a workspace."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mlops_lab import Workspace


def write_notebook(path: Path, parameters: str | None, *cells: str) -> Path:
    """A python3 notebook: an optional ``parameters``-tagged cell, then code cells."""
    body = []
    if parameters is not None:
        body.append(new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    body += [new_markdown_cell(c[3:]) if c.startswith("md:") else new_code_cell(c) for c in cells]
    notebook = new_notebook(cells=body)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def write_pipelines(workspace: Workspace, text: str) -> Workspace:
    """Replace the pipelines section of mlops_lab.yaml; return the reopened workspace."""
    config = workspace.root / "mlops_lab.yaml"
    head = f"version: 1\nname: {workspace.name}\n"
    config.write_text(head + textwrap.dedent(text))
    return Workspace(workspace.root)


SAVE_NUMBERS = (
    "import mlops_lab, pandas as pd\n"
    "ctx = mlops_lab.context()\n"
    "ctx.save_dataset('numbers', pd.DataFrame({'x': list(range(n))}))\n"
    "ctx.log_metric('n', n)"
)
SUM_NUMBERS = (
    "import mlops_lab\n"
    "ctx = mlops_lab.context()\n"
    "frame = ctx.load_dataset('numbers')\n"
    "ctx.log_metric('total', float(frame.x.sum() * factor))"
)
TWO_STAGES = """
pipelines:
  demo:
    description: two stages
    stages:
      - name: make
        notebook: make.ipynb
        outputs: {datasets: [numbers]}
      - name: total
        notebook: total.ipynb
        needs: [make]
        inputs: {datasets: [numbers]}
"""


def two_stage_workspace(workspace: Workspace) -> Workspace:
    write_notebook(workspace.root / "make.ipynb", "n = 3", SAVE_NUMBERS)
    write_notebook(workspace.root / "total.ipynb", "factor = 2.0", SUM_NUMBERS)
    return write_pipelines(workspace, TWO_STAGES)


# A ready stage: reads `numbers`, logs two metrics, saves `doubled` (parameter `factor`).
GOOD = (
    "import mlops_lab\n"
    "ctx = mlops_lab.context()\n"
    "numbers = ctx.load_dataset('numbers')\n"
    "total = float(numbers.x.sum() * factor)\n"
    "ctx.log_metric('total', total)\n"
    "ctx.log_metric('rows', len(numbers))\n"
    "ctx.save_dataset('doubled', numbers.assign(x=numbers.x * factor))"
)
