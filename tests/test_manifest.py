"""The registry of manifest entry kinds: every kind a run writes is known, once."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

import mlops_lab
from mlops_lab import Workspace
from mlops_lab.errors import InvalidInputError, MlopsLabError
from mlops_lab.manifest import CommitState, ManifestKinds, commit_entries, kinds, register

PACKAGE = Path(mlops_lab.__file__).parent

# Where the kernel side writes entries: the run context and the domains' notebook APIs.
WRITERS = (
    "run_context.py",
    "models/tracking.py",
    "evaluation/tracking.py",
    "evaluation/monitoring.py",
    "features/registry.py",
    "features/entries.py",
)


def _written_kinds() -> set[str]:
    """Every ``{"type": "..."}`` entry the writers build."""
    found = set()
    for name in WRITERS:
        for node in ast.walk(ast.parse((PACKAGE / name).read_text())):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "type"
                        and isinstance(value, ast.Constant)
                    ):
                        found.add(value.value)
    return found


def test_every_kind_a_run_writes_is_registered() -> None:
    written = _written_kinds()
    # The scan finds them all (a list kept by hand would drift; this one is checked both ways).
    assert written == {
        "metric",
        "params",
        "dataset",
        "artifact",
        "environment",
        "input",
        "model",
        "promotion",
        "evaluation",
        "comparison",
        "drift_report",
        "ab_test",
        "feature_view",
        "materialization",
    }
    assert written <= set(kinds.names())
    assert set(kinds.names()) == written  # and nothing registered that nothing writes


def test_each_kind_is_applied_by_its_own_package() -> None:
    home = {kind: kinds.lookup(kind).__module__ for kind in kinds.names()}
    assert home["metric"] == home["params"] == "mlops_lab.pipelines.entries"
    assert home["dataset"] == "mlops_lab.datasets"
    assert home["artifact"] == "mlops_lab.artifacts.entries"
    assert home["model"] == home["promotion"] == "mlops_lab.models.entries"
    assert home["comparison"] == home["drift_report"] == "mlops_lab.evaluation.entries"
    assert home["feature_view"] == home["materialization"] == "mlops_lab.features.entries"


def _apply(con: Any, state: CommitState, entry: dict[str, Any]) -> None:
    state.created.append(entry)


def _other(con: Any, state: CommitState, entry: dict[str, Any]) -> None:
    return None


def test_registering_a_kind_twice_fails() -> None:
    registry = ManifestKinds()
    registry.register("hologram")(_apply)
    registry.register("hologram")(_apply)  # the same function again (a module reloaded)
    with pytest.raises(MlopsLabError, match="'hologram' is registered twice") as caught:
        registry.register("hologram")(_other)
    assert f"{__name__}._apply" in caught.value.message
    assert registry.lookup("hologram") is _apply
    with pytest.raises(MlopsLabError, match="'metric' is registered twice"):
        register("metric")(_other)
    assert kinds.lookup("metric").__module__ == "mlops_lab.pipelines.entries"


def test_an_unknown_kind_fails_the_commit_and_registers_nothing(workspace: Workspace) -> None:
    run_id = "r-unknown"
    entries = [
        {"type": "metric", "name": "auc", "value": 0.9, "step": None},
        {"type": "hologram", "name": "x"},
    ]
    with pytest.raises(InvalidInputError) as caught:
        commit_entries(workspace.catalog, run_id, "train", entries)
    message = caught.value.message
    assert "Unknown manifest entry type 'hologram' in stage 'train'" in message
    assert "known: ab_test, artifact, comparison, dataset" in message
    assert "Nothing was registered" in message and "run the notebook again" in message
    assert workspace.catalog.read("SELECT * FROM metrics") == []  # the metric before it too
    with pytest.raises(InvalidInputError, match="Unknown manifest entry type None"):
        commit_entries(workspace.catalog, run_id, "train", [{"name": "no type"}])
