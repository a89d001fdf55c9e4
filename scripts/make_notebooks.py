"""Write the demo notebooks in notebooks/ from the cell sources below.

Run after editing: `.venv/bin/python scripts/make_notebooks.py`. The notebooks
are committed without outputs so they diff cleanly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"

GENERATE = [
    new_markdown_cell(
        "# Churn demo: generate customer data\n\n"
        "Generates a synthetic customer table (no download needed) and stores it in the "
        "workspace's content-addressed artifact store as Parquet. Run it again with the same "
        "parameters and the artifact is the same: identical content is stored once."
    ),
    new_code_cell(
        "# Parameters (papermill overrides these)\nn_customers = 2000\nseed = 7",
        metadata={"tags": ["parameters"]},
    ),
    new_code_cell(
        "import numpy as np\n"
        "import pandas as pd\n"
        "\n"
        "rng = np.random.default_rng(seed)\n"
        "segments = ['consumer', 'smb', 'enterprise']\n"
        "segment = rng.choice(segments, size=n_customers, p=[0.6, 0.3, 0.1])\n"
        "tenure_months = rng.integers(1, 72, size=n_customers)\n"
        "monthly_spend = np.round(rng.gamma(2.0, 30.0, size=n_customers), 2)\n"
        "support_calls = rng.poisson(1.5, size=n_customers)\n"
        "logit = -1.0 - 0.04 * tenure_months + 0.5 * support_calls - 0.005 * monthly_spend\n"
        "churned = rng.random(n_customers) < 1 / (1 + np.exp(-logit))\n"
        "customers = pd.DataFrame({\n"
        "    'customer_id': [f'c{i:05d}' for i in range(n_customers)],\n"
        "    'segment': segment,\n"
        "    'tenure_months': tenure_months,\n"
        "    'monthly_spend': monthly_spend,\n"
        "    'support_calls': support_calls,\n"
        "    'churned': churned,\n"
        "})\n"
        "customers.head()"
    ),
    new_code_cell(
        "import mlops_lab\n"
        "\n"
        "workspace = mlops_lab.open_workspace()\n"
        "artifact = workspace.artifacts.put_dataframe(customers)\n"
        "print(f'stored {artifact.size} bytes as {artifact.hash}')\n"
        "assert workspace.artifacts.get_dataframe(artifact.hash).equals(customers)"
    ),
    new_code_cell(
        "import plotly.express as px\n"
        "\n"
        "px.histogram(customers, x='tenure_months', color='churned', barmode='overlay',\n"
        "             title='Tenure by churn')"
    ),
]


def write(name: str, cells: list[nbformat.NotebookNode]) -> None:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.validate(notebook)
    nbformat.write(notebook, HERE / name)
    # The sources above are kept short; ruff gives them the project's formatting.
    subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(HERE / name)], check=True)


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    write("01_generate_data.ipynb", GENERATE)
