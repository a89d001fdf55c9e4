"""What a run produced, as manifest entries, and the one registry of how each kind is committed.

A run records its outputs as entries ``{"type": KIND, ...}``. In a pipeline stage the
kernel appends them to the stage's manifest file and the runner applies them all in one
catalog transaction when the stage succeeds, so a failed stage registers nothing; in an
interactive notebook they are applied at once (:func:`commit_state`). Each kind is applied
by a function its own package registers with ``@register(KIND)``:

- ``metric``, ``params``, ``environment``, ``input``: :mod:`mlops_lab.pipelines.entries`
- ``dataset``: :mod:`mlops_lab.datasets`
- ``artifact`` (saved files and logged figures): :mod:`mlops_lab.artifacts.entries`
- ``model``, ``promotion``: :mod:`mlops_lab.models.entries`
- ``evaluation``, ``comparison``, ``drift_report``, ``ab_test``:
  :mod:`mlops_lab.evaluation.entries`
- ``feature_view``, ``materialization``: :mod:`mlops_lab.features.entries`

Why the modules are listed here as strings (:data:`BUILTIN_MODULES`) and imported on the
first lookup: the code that applies a stage's entries lives in ``pipelines``, which must
not import the domains (models, features, evaluation) and which they must not import
either. This module sits below all of them (it imports only the catalog and errors), so
every domain registers here without knowing the others, and the registry is complete
whoever asks first. Only these modules are imported: no code is loaded by a name found in
a manifest.

To add a kind: write ``def apply(con, state, entry)`` in the package the kind belongs to,
decorate it with ``@register("kind")``, and list its module in :data:`BUILTIN_MODULES`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from mlops_lab.catalog import Catalog
from mlops_lab.errors import InvalidInputError, MlopsLabError

__all__ = [
    "BUILTIN_MODULES",
    "Applier",
    "CommitState",
    "ManifestKinds",
    "append_entry",
    "apply_entries",
    "apply_to_state",
    "commit_entries",
    "commit_state",
    "kinds",
    "new_state",
    "register",
]

BUILTIN_MODULES = (
    "mlops_lab.pipelines.entries",
    "mlops_lab.datasets",
    "mlops_lab.artifacts.entries",
    "mlops_lab.models.entries",
    "mlops_lab.evaluation.entries",
    "mlops_lab.features.entries",
)


@dataclass(kw_only=True)
class CommitState:
    """What a commit has registered so far, for entries that refer back to it
    (a model registered and evaluated in the same stage)."""

    run_id: str
    stage: str
    outputs: dict[str, Any]
    datasets: dict[str, Any]  # name -> the DatasetVersion created
    models: dict[str, int] = field(default_factory=dict)
    created: list[Any] = field(default_factory=list)  # what the appliers made, in order

    def dataset_version(self, name: str, version: int | None) -> int:
        """A recorded version, or the one this commit just created (``None``)."""
        if version is not None:
            return version
        if name not in self.datasets:
            raise InvalidInputError(f"Dataset {name!r} was not saved in this stage.")
        return int(self.datasets[name].version or 0)

    def model_version(self, name: str, version: int | None) -> int:
        if version is not None:
            return version
        if name not in self.models:
            raise InvalidInputError(f"Model {name!r} was not registered in this stage.")
        return self.models[name]


Applier = Callable[[duckdb.DuckDBPyConnection, CommitState, dict[str, Any]], None]


class ManifestKinds:
    """Kinds of manifest entries and the function that applies each (like papermill's
    ``papermill_engines``): ``register(kind)`` adds one, ``lookup(kind)`` finds it."""

    def __init__(self, modules: Iterable[str] = ()) -> None:
        self._modules = tuple(modules)
        self._appliers: dict[str, Applier] = {}
        self._loaded = not self._modules

    def register(self, kind: str) -> Callable[[Applier], Applier]:
        """Decorator: ``@register("model")`` over ``def apply(con, state, entry)``."""

        def add(applier: Applier) -> Applier:
            known = self._appliers.get(kind)
            if known is not None and _name(known) != _name(applier):
                raise MlopsLabError(
                    f"Manifest entry kind {kind!r} is registered twice: by {_name(known)} and "
                    f"by {_name(applier)}. Give the new kind another name."
                )
            self._appliers[kind] = applier  # the same function again: a module reloaded
            return applier

        return add

    def lookup(self, kind: Any, *, stage: str = "") -> Applier:
        """The applier of ``kind``; a kind nobody registered is an error, never skipped."""
        self._load()
        applier = self._appliers.get(kind) if isinstance(kind, str) else None
        if applier is None:
            where = f" in stage {stage!r}" if stage else ""
            raise InvalidInputError(
                f"Unknown manifest entry type {kind!r}{where} (known: {', '.join(self.names())}). "
                "Nothing was registered: the entry was written by a version of mlops-lab that "
                "records outputs this one does not know; run the notebook again with this one."
            )
        return applier

    def names(self) -> list[str]:
        """Every registered kind, sorted."""
        self._load()
        return sorted(self._appliers)

    def _load(self) -> None:
        if self._loaded:
            return
        for module in self._modules:
            importlib.import_module(module)
        self._loaded = True


def _name(applier: Applier) -> str:
    return f"{applier.__module__}.{applier.__qualname__}"


kinds = ManifestKinds(BUILTIN_MODULES)
register = kinds.register


def append_entry(manifest: Path, entry: dict[str, Any]) -> None:
    """Record ``entry`` in a stage's manifest file (one JSON object a line)."""
    with manifest.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def apply_to_state(
    con: duckdb.DuckDBPyConnection, state: CommitState, entries: Iterable[dict[str, Any]]
) -> None:
    """Apply ``entries`` in order in the caller's transaction."""
    for entry in entries:
        kinds.lookup(entry.get("type"), stage=state.stage)(con, state, entry)


def new_state(run_id: str, stage: str) -> CommitState:
    outputs: dict[str, Any] = {"datasets": {}, "artifacts": {}, "metrics": {}, "params": {}}
    return CommitState(run_id=run_id, stage=stage, outputs=outputs, datasets={})


def apply_entries(
    con: duckdb.DuckDBPyConnection, run_id: str, stage: str, entries: Iterable[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register a stage's recorded outputs in the caller's transaction.

    Returns the outputs summary (stored on the stage run) and the dataset
    versions created, by name.
    """
    state = new_state(run_id, stage)
    apply_to_state(con, state, entries)
    return state.outputs, state.datasets


def commit_entries(
    catalog: Catalog, run_id: str, stage: str, entries: list[dict[str, Any]]
) -> dict[str, Any]:
    """Register entries at once (interactive runs); returns dataset versions by name."""
    return commit_state(catalog, run_id, stage, entries).datasets


def commit_state(
    catalog: Catalog, run_id: str, stage: str, entries: list[dict[str, Any]]
) -> CommitState:
    """Register entries at once, in one transaction; the state says what was created."""

    def work(con: duckdb.DuckDBPyConnection) -> CommitState:
        state = new_state(run_id, stage)
        apply_to_state(con, state, entries)
        return state

    return catalog.transaction(work)
