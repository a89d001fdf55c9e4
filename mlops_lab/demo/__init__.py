"""The demo workspace: the churn pipeline over the notebooks in the repository's notebooks/."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from mlops_lab.demo.kernel_metadata import with_kernel_metadata
from mlops_lab.errors import MlopsLabError, WorkspaceConfigError
from mlops_lab.workspace import CONFIG_FILE, Workspace, init_workspace

__all__ = ["DEMO_DATASETS", "DEMO_PIPELINE", "DEMO_PROJECT", "init_demo_workspace", "install_demo"]

NOTEBOOKS = (
    "01_generate_data.ipynb",
    "02_features.ipynb",
    "03_train.ipynb",
    "04_evaluate.ipynb",
    "05_monitor.ipynb",
    "06_churn_report.ipynb",
    "07_exploration.ipynb",
)

DEMO_PROJECT = """\
# What the project is for: the gate, evaluate, check_drift and the SLO watcher read their
# rules from here (explicit arguments still win); the Lifecycle view shows it on top.
project:
  problem: Predict which customers will churn within 30 days so retention can call them first
  task: classification
  entity: customer
  label: churned
  objective: {metric: roc_auc, min: 0.85}
  guardrails:
    - {metric: recall, min: 0.70, slice: segment}   # in every segment
  gate: {min_improvement: 0.0}   # a challenger must be better than the champion, not equal
  serving: {p99_ms: 20, error_rate: 0.01, window: 60s}
  drift: {max_drifted_share: 0.2}
  owners: {science: churn-science, engineering: ml-platform}
"""

DEMO_PIPELINE = """\
pipelines:
  churn:
    description: Churn model from synthetic customers and transactions
    stages:
      - name: generate
        notebook: notebooks/01_generate_data.ipynb
        outputs: {datasets: [customers, transactions]}
      - name: features
        notebook: notebooks/02_features.ipynb
        needs: [generate]
        inputs: {datasets: [customers, transactions], optional_datasets: [served_outcomes]}
        outputs: {datasets: [training_frame]}
      - name: train
        notebook: notebooks/03_train.ipynb
        needs: [features]
        inputs: {datasets: [training_frame]}
        outputs: {datasets: [holdout], models: [churn]}
      - name: evaluate
        notebook: notebooks/04_evaluate.ipynb
        needs: [train]
        inputs: {datasets: [holdout]}
        outputs: {metrics: [accuracy, roc_auc]}
      - name: monitor
        notebook: notebooks/05_monitor.ipynb
        needs: [evaluate]
        inputs: {datasets: [training_frame]}
        outputs: {datasets: [current_batch], metrics: [drifted_columns]}
"""

DEMO_DATASETS = """\
# Data checks: every new version of these datasets is checked (a stage saving one that
# fails a check fails); `mlops-lab datasets check NAME` checks a version again.
datasets:
  customers:
    checks:
      columns:
        customer_id: {dtype: string, nulls: false, unique: true, pattern: "c[0-9]{5}"}
        segment: {allowed: [consumer, smb, enterprise]}
        signup_at: {dtype: timestamp, nulls: false}
        churned: {dtype: boolean, nulls: false}
      rows: {min: 100}
  transactions:
    checks:
      columns:
        customer_id: {dtype: string, nulls: false}
        event_at: {dtype: timestamp, nulls: false}
        amount: {dtype: float, nulls: false, min: 0}
      rows: {min: 1000}
      freshness: {column: event_at, max_age: 7d}
  training_frame:
    checks:
      columns:
        customer_id: {nulls: false}
        churned: {nulls: false}
        segment: {allowed: [consumer, smb, enterprise]}
      rows: {min: 100}
"""


def _source_folder() -> Path:
    """Packaged notebooks in an installed wheel; the repository's notebooks/ from a checkout."""
    packaged = Path(str(files("mlops_lab.demo"))) / "notebooks"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "notebooks"
    if checkout.is_dir():
        return checkout
    raise MlopsLabError("The demo notebooks are missing from this installation of mlops_lab.")


def install_demo(root: Path) -> list[Path]:
    """Copy the demo notebooks into ``root/notebooks`` (keeping edited copies) and return them.

    The copies carry this installation's kernel metadata (:mod:`.kernel_metadata`).
    """
    source = _source_folder()
    target = root / "notebooks"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in NOTEBOOKS:
        destination = target / name
        if not destination.exists():
            # With this kernel's metadata: JupyterLab opens them clean (not unsaved).
            destination.write_bytes(with_kernel_metadata((source / name).read_bytes()))
        copied.append(destination)
    return copied


def init_demo_workspace(directory: Path, *, name: str | None = None) -> Workspace:
    """A workspace holding the churn demo pipeline and its notebooks."""
    workspace = init_workspace(
        directory, name=name, pipelines=DEMO_PIPELINE + DEMO_DATASETS, project=DEMO_PROJECT
    )
    if "churn" not in workspace.config.pipelines:
        raise WorkspaceConfigError(
            workspace.root / CONFIG_FILE,
            "it exists without the demo's 'churn' pipeline and is left as it is; "
            "run `mlops-lab init --demo` in a new folder instead",
        )
    install_demo(workspace.root)
    return workspace
