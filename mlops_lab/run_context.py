"""``mlops_lab.context()``: the same calls in a pipeline stage and in an interactive notebook.

In a stage (the runner sets ``MLOPS_LAB_RUN_ID`` and friends in the kernel's
environment) every output is written as a blob at once but *recorded* in the
stage's manifest; the runner registers them all in one catalog transaction
after the notebook succeeds, so a failed stage leaves nothing half-registered
(every kind of entry and where it is applied: :mod:`mlops_lab.manifest`).

Anywhere else the calls are recorded at once, under an interactive run
created on first use (one per kernel), naming the notebook when JupyterLab
tells the kernel which one it is (``JPY_SESSION_NAME``).
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_lab._stage_env import (
    ENV_MANIFEST,
    ENV_NOTEBOOK,
    ENV_PARAMETERS,
    ENV_RUN_ID,
    ENV_SOURCE_HASH,
    ENV_STAGE,
    ENV_UPSTREAM,
)
from mlops_lab.artifacts import Artifact, dataframe_to_parquet
from mlops_lab.datachecks import check_entries
from mlops_lab.datasets import (
    DatasetVersion,
    describe_columns,
    get_dataset_version,
    validate_name,
    warn_failed_checks,
)
from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.manifest import append_entry, commit_entries, commit_state
from mlops_lab.pipelines import records
from mlops_lab.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RunContext", "context"]

FIGURE_MEDIA_TYPE = "application/vnd.plotly.v1+json"

_lock = threading.Lock()
_current: RunContext | None = None


@dataclass(frozen=True, kw_only=True)
class _Identity:
    run_id: str
    stage: str
    parameters: dict[str, Any]
    manifest: Path | None  # None: interactive, record at once
    upstream: dict[str, dict[str, Any]] = field(default_factory=dict)
    notebook: str | None = None  # relative to the workspace root in a stage
    notebook_hash: str | None = None


class RunContext:
    """What a notebook records about its run: metrics, params, datasets, artifacts, figures."""

    def __init__(self, workspace: Workspace, identity: _Identity) -> None:
        self.workspace = workspace
        self._id = identity
        self._pending_datasets: dict[str, DatasetVersion] = {}
        self._pending_artifacts: dict[str, str] = {}
        self._logged_params: dict[str, Any] = {}
        # Objects registered in this stage but not committed yet, by kind and name.
        self.pending: dict[str, dict[str, Any]] = {"models": {}}

    def __repr__(self) -> str:
        mode = "interactive" if self.interactive else "stage"
        return f"RunContext(run_id={self.run_id!r}, stage={self.stage!r}, {mode})"

    @property
    def run_id(self) -> str:
        return self._id.run_id

    @property
    def stage(self) -> str:
        return self._id.stage

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._id.parameters)

    @property
    def interactive(self) -> bool:
        return self._id.manifest is None

    @property
    def notebook(self) -> tuple[str | None, str | None]:
        """(path, content hash) of the notebook this run executes, when known."""
        if self._id.notebook_hash or not self._id.notebook:
            return self._id.notebook, self._id.notebook_hash
        from mlops_lab.pipelines.notebook import read_notebook

        path = Path(self._id.notebook)
        for candidate in (path, Path.cwd() / path.name):  # kernels start in its folder
            try:
                return self._id.notebook, read_notebook(candidate).source_hash
            except Exception:
                continue
        return self._id.notebook, None

    @property
    def all_parameters(self) -> dict[str, Any]:
        """The stage's parameters and everything logged with :meth:`log_params` so far."""
        return {**self._id.parameters, **self._logged_params}

    def upstream(self, kind: str, name: str) -> dict[str, Any] | None:
        """What the stages this one needs produced: ``upstream("models", "churn")``."""
        found = self._id.upstream.get(kind, {}).get(name)
        return dict(found) if found else None

    def _record_environment(self) -> None:
        """The interpreter and imported packages, for the handoff's comparison.

        Interactive runs record it in the background (finding every package's
        distribution takes a second or two); stages only when a handoff check
        asks (``MLOPS_LAB_CAPTURE_ENV``), so pipelines do not pay for it.
        """
        from mlops_lab.environment import ENV_CAPTURE, capture_environment

        def record() -> None:
            try:
                self._record({"type": "environment", "environment": capture_environment()})
            except Exception:
                return

        if self.interactive:
            threading.Thread(target=record, name="mlops-lab-environment", daemon=True).start()
        elif os.environ.get(ENV_CAPTURE):
            record()

    def commit_or_defer(self, *entries: dict[str, Any], all_created: bool = False) -> Any:
        """Record entries: at once, in one transaction (returns what the first created, or
        with ``all_created`` the list of everything created), or at the stage's commit (None).
        """
        if self._id.manifest is not None:
            for entry in entries:
                self._record(entry)
            return None
        state = commit_state(self.workspace.catalog, self.run_id, self.stage, list(entries))
        if all_created:
            return state.created
        return state.created[0] if state.created else None

    # -- recording ----------------------------------------------------------------

    def _record(self, entry: dict[str, Any]) -> None:
        if self._id.manifest is not None:
            append_entry(self._id.manifest, entry)
            return
        commit_entries(self.workspace.catalog, self.run_id, self.stage, [entry])

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        """Record a numeric metric (optionally one point of a series, by ``step``)."""
        validate_name(name, "metric")
        if isinstance(value, bool) or not isinstance(value, int | float):
            try:
                value = float(value)  # numpy scalars
            except (TypeError, ValueError):
                raise InvalidInputError(
                    f"Metric {name!r} must be a number, got {type(value).__name__}."
                ) from None
        if not math.isfinite(float(value)):
            raise InvalidInputError(f"Metric {name!r} must be finite, got {value!r}.")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise InvalidInputError(f"Metric {name!r}: step must be an integer, got {step!r}.")
        self._record({"type": "metric", "name": name, "value": float(value), "step": step})

    def log_params(self, params: dict[str, Any]) -> None:
        """Record parameters (JSON-serialisable values)."""
        if not isinstance(params, dict):
            raise InvalidInputError(f"log_params takes a dict, got {type(params).__name__}.")
        for key, value in params.items():
            validate_name(str(key), "parameter")
            try:
                json.dumps(value)
            except TypeError:
                raise InvalidInputError(
                    f"Parameter {key!r} is not JSON-serialisable ({type(value).__name__})."
                ) from None
        self._record({"type": "params", "values": params})
        self._logged_params.update(params)

    def save_dataset(self, name: str, frame: pd.DataFrame) -> DatasetVersion:
        """Store ``frame`` as the next version of dataset ``name`` (Parquet artifact)."""
        validate_name(name)
        data = dataframe_to_parquet(frame)
        digest, size = self.workspace.artifacts.write_blob([data])
        columns = describe_columns(frame)
        entry = {
            "type": "dataset",
            "name": name,
            "hash": digest,
            "size": size,
            "row_count": len(frame),
            "columns": columns,
        }
        features = frame.attrs.get("mlops_lab_features")
        if features:  # a training frame: note which feature view versions it consumed
            entry["features"] = features
        if self._id.manifest is not None:
            self._record(entry)
            pending = DatasetVersion(
                name=name,
                version=None,
                artifact_hash=digest,
                row_count=len(frame),
                columns=columns,
                run_id=self.run_id,
                stage=self.stage,
            )
            self._pending_datasets[name] = pending
            return pending
        # Interactive: checked now, kept with its results (a stage's are checked at commit)
        checked, _ = check_entries(self.workspace, [entry])
        versions = commit_entries(self.workspace.catalog, self.run_id, self.stage, checked)
        saved: DatasetVersion = versions[name]
        warn_failed_checks(name, saved.version, checked[0].get("checks"))
        return saved

    def dataset_version(self, name: str) -> DatasetVersion:
        """The version :meth:`load_dataset` would read (upstream's in a stage, else latest)."""
        pending = self._pending_datasets.get(name)
        if pending is not None:
            return pending
        upstream = self._id.upstream.get("datasets", {}).get(name)
        if upstream is not None:
            return get_dataset_version(self.workspace, name, upstream["version"])
        return get_dataset_version(self.workspace, name)

    def load_dataset(self, name: str, version: int | None = None) -> pd.DataFrame:
        """A dataset's rows, recorded as an input of this run.

        Without ``version``: in a pipeline stage, the version that the stages it
        needs produced (even when they came from the cache); else the latest.
        """
        pending = self._pending_datasets.get(name)
        if pending is not None and version is None:
            frame = self.workspace.artifacts.get_dataframe(
                pending.artifact_hash, check_catalog=False
            )
            frame.attrs["mlops_lab_dataset"] = _origin(name, None, pending.artifact_hash, frame)
            return frame
        upstream = self._id.upstream.get("datasets", {}).get(name)
        if upstream is not None and version is None:
            found_version, digest = upstream["version"], upstream["hash"]
        else:
            found = get_dataset_version(self.workspace, name, version)
            found_version, digest = found.version, found.artifact_hash
        self._record({"type": "input", "name": name, "version": found_version, "hash": digest})
        frame = self.workspace.artifacts.get_dataframe(digest)
        frame.attrs["mlops_lab_dataset"] = _origin(name, found_version, digest, frame)
        return frame

    def load_artifact(self, name: str) -> bytes:
        """The bytes of artifact ``name``: saved earlier in this stage, by the stages it
        needs, else the latest saved under that name by any run (hash verified)."""
        validate_name(name, "artifact")
        digest = self._pending_artifacts.get(name)
        if digest is not None:  # saved by this stage, registered when it commits
            return self.workspace.artifacts.get_bytes(digest, check_catalog=False)
        if digest is None:
            upstream = self._id.upstream.get("artifacts", {}).get(name)
            digest = upstream["hash"] if upstream else None
        if digest is None:
            digest = self.workspace.catalog.read_value(
                "SELECT r.artifact_hash FROM run_artifacts r JOIN artifacts a "
                "ON a.hash = r.artifact_hash WHERE r.name = ? "
                "ORDER BY a.created_at DESC LIMIT 1",
                [name],
            )
        if digest is None:
            raise NotFoundError(
                f"No artifact named {name!r} in this workspace. Save one with "
                "ctx.save_artifact(name, path_or_bytes)."
            )
        return self.workspace.artifacts.get_bytes(digest)

    def save_artifact(
        self, name: str, path_or_bytes: str | Path | bytes, *, media_type: str | None = None
    ) -> Artifact:
        """Store a file or bytes under ``name`` for this run."""
        validate_name(name, "artifact")
        if isinstance(path_or_bytes, bytes | bytearray):
            data = bytes(path_or_bytes)
            media = media_type or "application/octet-stream"
        else:
            path = Path(path_or_bytes)
            if not path.is_file():
                raise InvalidInputError(f"save_artifact({name!r}): {path} is not a file.")
            data = path.read_bytes()
            import mimetypes

            media = media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return self._save_blob(name, data, media, kind="artifact")

    def log_figure(self, name: str, figure: Any) -> Artifact:
        """Store a plotly figure (as its JSON) under ``name``."""
        to_json = getattr(figure, "to_json", None)
        if to_json is None:
            raise InvalidInputError(
                f"log_figure({name!r}) takes a plotly figure, got {type(figure).__name__}."
            )
        validate_name(name, "figure")
        return self._save_blob(name, to_json().encode(), FIGURE_MEDIA_TYPE, kind="figure")

    def _save_blob(self, name: str, data: bytes, media_type: str, *, kind: str) -> Artifact:
        digest, size = self.workspace.artifacts.write_blob([data])
        self._pending_artifacts[name] = digest
        entry = {
            "type": "artifact",
            "kind": kind,
            "name": name,
            "hash": digest,
            "size": size,
            "media_type": media_type,
        }
        self._record(entry)
        if self.interactive:
            return self.workspace.artifacts.info(digest)
        from datetime import UTC, datetime

        return Artifact(
            hash=digest,
            size=size,
            media_type=media_type,
            created_at=datetime.now(UTC),
            run_id=self.run_id,
        )


def _origin(name: str, version: int | None, digest: str, frame: pd.DataFrame) -> dict[str, Any]:
    """Where a loaded frame came from (pandas carries ``attrs`` to derived frames too,
    so the shape is kept to tell the dataset itself from a frame derived from it)."""
    return {
        "name": name,
        "version": version,
        "hash": digest,
        "rows": len(frame),
        "columns": [str(c) for c in frame.columns],
    }


def loaded_from(frame: pd.DataFrame) -> dict[str, Any] | None:
    """The dataset version ``frame`` is, unchanged in shape, or None."""
    origin = frame.attrs.get("mlops_lab_dataset")
    if not origin or origin.get("rows") != len(frame):
        return None
    return origin if origin.get("columns") == [str(c) for c in frame.columns] else None


def _stage_identity() -> _Identity | None:
    run_id = os.environ.get(ENV_RUN_ID)
    if not run_id:
        return None
    manifest = os.environ.get(ENV_MANIFEST)
    return _Identity(
        run_id=run_id,
        stage=os.environ.get(ENV_STAGE, "stage"),
        parameters=json.loads(os.environ.get(ENV_PARAMETERS, "{}")),
        manifest=Path(manifest) if manifest else None,
        upstream=json.loads(os.environ.get(ENV_UPSTREAM, "{}")),
        notebook=os.environ.get(ENV_NOTEBOOK) or None,
        notebook_hash=os.environ.get(ENV_SOURCE_HASH) or None,
    )


def context() -> RunContext:
    """The run this code belongs to: the pipeline stage it runs in, else an interactive run."""
    global _current
    with _lock:
        if _current is not None:
            return _current
        workspace = open_workspace()
        identity = _stage_identity()
        if identity is None:
            notebook = os.environ.get("JPY_SESSION_NAME") or None
            run_id = records.start_interactive_run(workspace.catalog, notebook=notebook)
            stage = Path(notebook).stem if notebook else "interactive"
            identity = _Identity(
                run_id=run_id, stage=stage, parameters={}, manifest=None, notebook=notebook
            )
        _current = RunContext(workspace, identity)
        _current._record_environment()
        return _current


def _reset_for_tests() -> None:
    global _current
    _current = None
