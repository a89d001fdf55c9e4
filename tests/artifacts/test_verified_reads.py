"""Every artifact read is verified: a flipped bit in any stored blob raises
ArtifactCorruptError naming what uses it, and an untouched blob is hashed once,
not on every read (verified-at stamps)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

import mlops_lab
from mlops_lab import ArtifactStore, Workspace
from mlops_lab.artifacts import verified
from mlops_lab.datasets import load_dataset, save_dataset
from mlops_lab.errors import ArtifactCorruptError
from mlops_lab.evaluation import get_evaluation
from mlops_lab.evaluation import monitoring as monitoring_module
from mlops_lab.evaluation.store import get_drift_report
from mlops_lab.features.registry import rebuild_view
from mlops_lab.features.serving import materialize
from mlops_lab.models import load_model, register_model
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline
from mlops_lab.pipelines.service import executed_notebook
from tests.notebooks import write_notebook, write_pipelines

START = pd.Timestamp("2026-01-01", tz="UTC")
HOUR = 3600 * 10**9


def _blob(workspace: Workspace, digest: str) -> Path:
    return workspace.state_dir / "artifacts" / digest[:2] / digest


def _flip(path: Path, offset: int | None = None) -> None:
    """Flip one bit in place (same file, as a disk or a stray write would)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2 if offset is None else offset] ^= 0x04
    with path.open("r+b") as handle:
        handle.write(data)


def _flip_in_column(path: Path, column: str) -> None:
    """Flip a bit in the middle of ``column``'s data in a Parquet file."""
    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    chunk = meta.row_group(0).column(names.index(column))
    _flip(path, chunk.data_page_offset + chunk.total_compressed_size // 2)


def _age(path: Path) -> None:
    """Make a blob look written an hour ago (older than any timestamp tick)."""
    old = time.time_ns() - HOUR
    os.utime(path, ns=(old, old))


def _corrupt(match: str) -> Any:
    return pytest.raises(ArtifactCorruptError, match=match)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The digests whose bytes a read hashed, in order."""
    seen: list[str] = []
    original = ArtifactStore._check

    def counting(self: ArtifactStore, digest: str, actual: str) -> None:
        seen.append(digest)
        original(self, digest, actual)

    monkeypatch.setattr(ArtifactStore, "_check", counting)
    return seen


# -- datasets ------------------------------------------------------------------


def test_a_flipped_bit_in_a_dataset_is_named_on_load(workspace: Workspace) -> None:
    frame = pd.DataFrame({"x": np.arange(1000), "y": np.linspace(0, 1, 1000)})
    saved = save_dataset(workspace, "numbers", frame)
    blob = _blob(workspace, saved.artifact_hash)
    _flip_in_column(blob, "y")
    with _corrupt("dataset 'numbers' v1") as info:
        load_dataset(workspace, "numbers")
    error = info.value
    assert error.digest == saved.artifact_hash and error.path == str(blob)
    assert str(blob) in error.message and "restore it from a backup" in error.message
    assert error.to_dict()["artifact"]["used_by"] == [{"kind": "dataset", "name": "'numbers' v1"}]
    # Saving the same rows again repairs the blob in place.
    save_dataset(workspace, "numbers", frame)
    pd.testing.assert_frame_equal(load_dataset(workspace, "numbers"), frame)


# -- feature views ---------------------------------------------------------------


def _snapshots() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    days, customers = 20, 50
    return pd.DataFrame(
        {
            "customer_id": np.tile(np.arange(customers), days),
            "day": START + pd.to_timedelta(np.repeat(np.arange(days), customers), unit="D"),
            "score": rng.normal(100, 20, days * customers).round(3),
            "visits": rng.integers(0, 50, days * customers),
        }
    )


def _entity_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": np.arange(50),
            "event_timestamp": START + pd.Timedelta(days=25),
        }
    )


def _plain_view(workspace: Workspace) -> str:
    save_dataset(workspace, "daily", _snapshots())
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    view = store.register_feature_view("daily", entity="customer", source="daily", timestamp="day")
    return view.table_artifact


def _window_view(workspace: Workspace) -> str:
    rng = np.random.default_rng(3)
    events = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 50, 2000),
            "event_at": START + pd.to_timedelta(rng.integers(0, 20 * 24, 2000), unit="h"),
            "amount": rng.gamma(2.0, 20.0, 2000).round(2),
        }
    )
    save_dataset(workspace, "tx", events)
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    view = store.register_feature_view(
        "spend",
        entity="customer",
        source="tx",
        timestamp="event_at",
        aggregations=[{"column": "amount", "functions": ["sum", "count"], "windows": ["7d"]}],
    )
    return view.table_artifact


def test_a_flipped_bit_in_a_plain_view_table_fails_training_frames_and_materialization(
    workspace: Workspace,
) -> None:
    table = _plain_view(workspace)
    good = workspace.features.get_training_frame(_entity_rows(), ["daily:score"])
    assert good.score.notna().all()
    _flip_in_column(_blob(workspace, table), "score")
    with _corrupt("feature view table 'daily' v1") as info:
        workspace.features.get_training_frame(_entity_rows(), ["daily:score"])
    assert "mlops-lab features rebuild daily --version 1" in info.value.message
    with _corrupt("feature view table 'daily' v1"):
        materialize(workspace, "daily")
    # Rebuilding, as the message says, recomputes the table from its (intact) source.
    rebuild_view(workspace, "daily", 1)
    again = workspace.features.get_training_frame(_entity_rows(), ["daily:score"])
    pd.testing.assert_frame_equal(again, good)


def test_a_flipped_bit_in_a_window_view_events_table_fails_training_frames(
    workspace: Workspace,
) -> None:
    table = _window_view(workspace)
    _flip_in_column(_blob(workspace, table), "amount")
    with _corrupt("feature view table 'spend' v1"):
        workspace.features.get_training_frame(_entity_rows(), ["spend:amount_sum_7d"])
    with _corrupt("feature view table 'spend' v1"):
        materialize(workspace, "spend")


def test_a_flipped_bit_in_a_view_source_fails_registration(workspace: Workspace) -> None:
    saved = save_dataset(workspace, "daily", _snapshots())
    _flip(_blob(workspace, saved.artifact_hash))
    workspace.features.register_entity("customer", ["customer_id"])
    with _corrupt("dataset 'daily' v1"):
        workspace.features.register_feature_view(
            "daily", entity="customer", source="daily", timestamp="day"
        )
    assert workspace.catalog.read_value("SELECT count(*) FROM feature_view_versions") == 0


# -- models, evaluation reports, executed notebooks --------------------------------


def _training() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"tenure": rng.normal(30, 10, 300), "spend": rng.gamma(2.0, 20.0, 300)})
    return frame, (frame.spend > 40).astype(int)


def test_a_flipped_bit_in_a_model_is_named_on_load(workspace: Workspace) -> None:
    X, y = _training()
    version = register_model(workspace, "churn", LogisticRegression().fit(X, y), X_sample=X)
    _flip(_blob(workspace, version.artifact_hash))
    with _corrupt("model 'churn' v1") as info:
        load_model(workspace, "churn")
    assert "register the model again" in info.value.message


def test_a_flipped_bit_in_evaluation_and_drift_reports_is_named(ctx) -> None:  # type: ignore[no-untyped-def]
    X, y = _training()
    ctx.save_dataset("train", X.assign(churned=y))
    mlops_lab.register_model("churn", LogisticRegression().fit(X, y), X_sample=X.head())
    evaluation = mlops_lab.evaluate("churn", "train", label="churned")
    report = mlops_lab.check_drift("train", X.assign(tenure=X.tenure + 5))
    workspace = ctx.workspace
    details = workspace.catalog.read_value(
        "SELECT details_artifact FROM evaluations WHERE id = ?", [evaluation.id]
    )
    _flip(_blob(workspace, details))
    with _corrupt(f"evaluation report {evaluation.id}"):
        get_evaluation(workspace, evaluation.id or "")
    stored = workspace.catalog.read_value(
        "SELECT report_artifact FROM drift_reports WHERE id = ?", [report.id]
    )
    _flip(_blob(workspace, stored))
    with _corrupt(f"drift report {report.id}"):
        get_drift_report(workspace, report.id or "")


def test_a_flipped_bit_in_an_executed_notebook_is_named(workspace: Workspace) -> None:
    write_notebook(workspace.root / "hello.ipynb", "n = 1", "print(n)")
    ws = write_pipelines(
        workspace, "pipelines:\n  hello:\n    stages:\n      - {name: say, notebook: hello.ipynb}\n"
    )
    record = Runner(ws, load_pipeline(ws, "hello"), RunOptions()).run()
    digest = record.stages[0].executed_notebook or ""
    assert json.loads(executed_notebook(ws, record.id, "say"))["cells"]
    _flip(_blob(ws, digest))
    with _corrupt(f"executed notebook {record.id} stage say") as info:
        executed_notebook(ws, record.id, "say")
    assert "re-run the stage" in info.value.message


# -- stamps: untouched blobs are hashed once ------------------------------------------


def test_an_untouched_view_table_is_hashed_once_across_reads_and_processes(
    workspace: Workspace, hashes: list[str]
) -> None:
    table = _plain_view(workspace)
    _age(_blob(workspace, table))  # written a while ago: its write-time stamp is out of date
    hashes.clear()
    first = workspace.features.get_training_frame(_entity_rows(), ["daily:score"])
    second = workspace.features.get_training_frame(_entity_rows(), ["daily:score"])
    materialize(workspace, "daily")
    assert hashes.count(table) == 1
    pd.testing.assert_frame_equal(first, second)
    verified._memory.clear()  # as a new process would: the stamp file is shared
    workspace.features.get_training_frame(_entity_rows(), ["daily:score"])
    assert hashes.count(table) == 1


def test_an_untouched_model_is_hashed_once(workspace: Workspace, hashes: list[str]) -> None:
    X, y = _training()
    version = register_model(workspace, "churn", LogisticRegression().fit(X, y), X_sample=X)
    _age(_blob(workspace, version.artifact_hash))
    hashes.clear()
    load_model(workspace, "churn")
    load_model(workspace, "churn")
    assert hashes.count(version.artifact_hash) == 1


def test_a_change_that_restores_the_mtime_is_still_seen(workspace: Workspace) -> None:
    table = _plain_view(workspace)
    blob = _blob(workspace, table)
    _age(blob)
    workspace.features.get_training_frame(_entity_rows(), ["daily:score"])  # stamped
    before = blob.stat()
    _flip_in_column(blob, "score")
    os.utime(blob, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size and mtime
    with _corrupt("feature view table 'daily' v1"):
        workspace.features.get_training_frame(_entity_rows(), ["daily:score"])


def test_a_stamp_taken_in_the_same_tick_as_a_write_is_not_trusted(tmp_path: Path) -> None:
    book = verified.StampBook(tmp_path)
    blob = tmp_path / "blob"
    blob.write_bytes(b"data")
    digest = verified.hash_file(blob)
    book.record(digest, blob.stat())
    # A write later in the same timestamp tick would leave the stat unchanged: not trusted.
    assert not book.trusted(digest, blob.stat())
    _age(blob)
    book.record(digest, blob.stat())
    assert book.trusted(digest, blob.stat())
    verified._memory.clear()
    assert verified.StampBook(tmp_path).trusted(digest, blob.stat())  # from the stamp file
    blob.write_bytes(b"date")
    assert not book.trusted(digest, blob.stat())


def test_a_read_only_store_still_reads_and_verifies(workspace: Workspace) -> None:
    artifact = workspace.artifacts.put_bytes(b"weights")
    stamps = workspace.state_dir / "artifacts" / verified.STAMP_DIR
    for stamp in stamps.iterdir():
        stamp.unlink()
    stamps.chmod(0o500)
    try:
        assert workspace.artifacts.get_bytes(artifact.hash) == b"weights"
        assert workspace.artifacts.verify(artifact.hash).hash == artifact.hash
    finally:
        stamps.chmod(0o700)


def test_a_damaged_drift_profile_cache_is_computed_again(ctx) -> None:  # type: ignore[no-untyped-def]
    X, _ = _training()
    ctx.save_dataset("reference", X)
    first = mlops_lab.check_drift("reference", X.assign(tenure=X.tenure + 5))
    workspace = ctx.workspace
    stored = workspace.catalog.read_value("SELECT profile_artifact FROM drift_profiles")
    _flip(_blob(workspace, stored))
    monitoring_module._profiles.clear()  # as in a new process
    again = mlops_lab.check_drift("reference", X.assign(tenure=X.tenure + 5))
    assert again.columns == first.columns
    assert workspace.artifacts.get_bytes(stored)  # the same profile repaired the blob
