from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops_lab import ArtifactStore, BlobLocation, Workspace
from mlops_lab.errors import (
    ArtifactCorruptError,
    ArtifactNotFoundError,
    InvalidArtifactIdError,
    InvalidInputError,
)


def _blob(workspace: Workspace, digest: str) -> Path:
    return workspace.state_dir / "artifacts" / digest[:2] / digest


def _blob_files(workspace: Workspace) -> list[Path]:
    """Published blobs only: not temp files, not verified-at stamps."""
    root = workspace.state_dir / "artifacts"
    return [p for p in root.glob("??/*") if p.is_file() and p.parent.name != "tmp"]


def test_put_and_get_bytes(workspace: Workspace) -> None:
    store = workspace.artifacts
    artifact = store.put_bytes(b"hello", media_type="text/plain", run_id="run-1")
    assert artifact.hash == hashlib.sha256(b"hello").hexdigest()
    assert artifact.size == 5
    assert artifact.media_type == "text/plain"
    assert artifact.run_id == "run-1"
    assert _blob(workspace, artifact.hash).read_bytes() == b"hello"
    assert store.get_bytes(artifact.hash) == b"hello"
    assert store.exists(artifact.hash)


def test_identical_content_is_stored_once(workspace: Workspace) -> None:
    store = workspace.artifacts
    first = store.put_bytes(b"same", run_id="run-1")
    second = store.put_bytes(b"same", run_id="run-2")
    assert first == second  # the first producer is kept
    assert workspace.catalog.read_value("SELECT count(*) FROM artifacts") == 1
    assert len(_blob_files(workspace)) == 1


def test_put_file_streams_and_guesses_media_type(workspace: Workspace, tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # several read chunks
    source = tmp_path / "frame.csv"
    source.write_bytes(data)
    artifact = workspace.artifacts.put_file(source)
    assert artifact.hash == hashlib.sha256(data).hexdigest()
    assert artifact.size == len(data)
    assert artifact.media_type == "text/csv"
    assert workspace.artifacts.get_bytes(artifact.hash) == data


def test_dataframe_round_trips_through_parquet(workspace: Workspace) -> None:
    frame = pd.DataFrame(
        {
            "customer": ["a", "b", "c"],
            "amount": [1.5, None, 3.25],
            "at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"], utc=True),
        }
    )
    artifact = workspace.artifacts.put_dataframe(frame)
    assert artifact.media_type == "application/vnd.apache.parquet"
    assert _blob(workspace, artifact.hash).read_bytes()[:4] == b"PAR1"
    pd.testing.assert_frame_equal(workspace.artifacts.get_dataframe(artifact.hash), frame)
    # An equal frame is the same artifact.
    assert workspace.artifacts.put_dataframe(frame.copy()).hash == artifact.hash


def test_corrupted_blob_is_detected_on_read(workspace: Workspace) -> None:
    artifact = workspace.artifacts.put_bytes(b"precious model weights")
    blob = _blob(workspace, artifact.hash)
    blob.write_bytes(b"precious model weightz")
    with pytest.raises(ArtifactCorruptError, match="is corrupted") as info:
        workspace.artifacts.get_bytes(artifact.hash)
    assert info.value.actual == hashlib.sha256(b"precious model weightz").hexdigest()
    with pytest.raises(ArtifactCorruptError):
        workspace.artifacts.verify(artifact.hash)
    assert blob.exists()  # left in place for inspection


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "ab/" + "0" * 61,
        "0" * 63,
        "0" * 65,
        "A" * 64,
        "g" * 64,
        "",
        "..",
    ],
)
def test_malformed_or_path_like_ids_are_rejected(workspace: Workspace, bad: str) -> None:
    for call in (
        workspace.artifacts.get_bytes,
        workspace.artifacts.info,
        workspace.artifacts.exists,
        workspace.artifacts.verify,
        workspace.artifacts.local_path,
    ):
        with pytest.raises(
            InvalidArtifactIdError, match="expected 64 lowercase hexadecimal"
        ) as info:
            call(bad)
        assert info.value.http_status == 400


def test_unknown_hash_is_not_found(workspace: Workspace) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert not workspace.artifacts.exists(missing)
    with pytest.raises(ArtifactNotFoundError, match="mlops-lab artifacts list") as info:
        workspace.artifacts.get_bytes(missing)
    assert info.value.http_status == 404


def test_invalid_inputs_are_refused_without_writing(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="media type"):
        workspace.artifacts.put_bytes(b"x", media_type="../evil")
    with pytest.raises(InvalidInputError, match="not a readable file"):
        workspace.artifacts.put_file(tmp_path / "missing.bin")
    with pytest.raises(InvalidInputError, match="takes bytes"):
        workspace.artifacts.put_bytes("text")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="DataFrame"):
        workspace.artifacts.put_dataframe([1, 2])  # type: ignore[arg-type]
    assert workspace.catalog.read_value("SELECT count(*) FROM artifacts") == 0
    assert not list((workspace.state_dir / "artifacts").rglob("*.part"))


def test_list_pages_newest_first(workspace: Workspace) -> None:
    hashes = [workspace.artifacts.put_bytes(f"blob {i}".encode()).hash for i in range(5)]
    page1 = workspace.artifacts.list(limit=3)
    page2 = workspace.artifacts.list(limit=3, offset=3)
    listed = [a.hash for a in page1 + page2]
    assert sorted(listed) == sorted(hashes)
    assert len(page1) == 3 and len(page2) == 2
    created = [a.created_at for a in page1 + page2]
    assert created == sorted(created, reverse=True)


def test_failing_stream_leaves_no_blob_and_no_row(workspace: Workspace) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b"partial"
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        workspace.artifacts.put_stream(chunks())
    assert workspace.catalog.read_value("SELECT count(*) FROM artifacts") == 0
    assert _blob_files(workspace) == []


_SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from mlops_lab import open_workspace

    def chunks():
        for i in range(10_000):
            yield bytes([i % 256]) * 65536
            time.sleep(0.01)

    open_workspace(sys.argv[1]).artifacts.put_stream(chunks())
    """
)


def test_killed_writer_leaves_no_visible_partial_blob(workspace: Workspace) -> None:
    temp_dir = workspace.state_dir / "artifacts" / "tmp"
    writer = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(workspace.root)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            parts = list(temp_dir.glob("*.part")) if temp_dir.exists() else []
            if parts and parts[0].stat().st_size > 1 << 20:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the writer never started writing")
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.wait(30)
    assert _blob_files(workspace) == []
    assert workspace.catalog.read_value("SELECT count(*) FROM artifacts") == 0
    # The temp file is invisible to readers and swept once stale.
    assert workspace.artifacts.clean_temp(older_than=3600) == 0
    assert workspace.artifacts.clean_temp(older_than=0) == 1
    assert list(temp_dir.glob("*.part")) == []


def test_store_works_on_any_fsspec_location(workspace: Workspace) -> None:
    store = ArtifactStore(BlobLocation("memory://mlops-lab-test/artifacts"), workspace.catalog)
    artifact = store.put_bytes(b"in memory")
    assert store.get_bytes(artifact.hash) == b"in memory"
    assert store.exists(artifact.hash)
    with pytest.raises(InvalidInputError, match="not a local folder"):
        store.local_path(artifact.hash)


def test_local_path_points_at_the_blob(workspace: Workspace) -> None:
    artifact = workspace.artifacts.put_bytes(b"for duckdb")
    assert workspace.artifacts.local_path(artifact.hash) == _blob(workspace, artifact.hash)


def _put_many(root: str, worker: int) -> list[str]:
    from mlops_lab import open_workspace

    store = open_workspace(root).artifacts
    shared = [store.put_bytes(f"shared {i}".encode()).hash for i in range(10)]
    own = [store.put_bytes(f"worker {worker} blob {i}".encode()).hash for i in range(10)]
    return shared + own


def test_parallel_processes_putting_overlapping_content(workspace: Workspace) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(_put_many, [(str(workspace.root), w) for w in range(4)])
    distinct = {h for hashes in results for h in hashes}
    assert len(distinct) == 10 + 4 * 10
    assert workspace.catalog.read_value("SELECT count(*) FROM artifacts") == len(distinct)
    for digest in distinct:
        workspace.artifacts.verify(digest)
    assert list((workspace.state_dir / "artifacts" / "tmp").glob("*.part")) == []


# -- housekeeping: stale temp files and orphan blobs ------------------------------


def _temp_file(workspace: Workspace, name: str, *, age: float) -> Path:
    temp_dir = workspace.state_dir / "artifacts" / "tmp"
    temp_dir.mkdir(parents=True, exist_ok=True)
    path = temp_dir / f"{name}.part"
    path.write_bytes(b"half a blob")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_stale_temp_files_are_swept_when_the_workspace_is_opened(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    from mlops_lab.artifacts import store as store_module

    monkeypatch.setattr(store_module, "_swept_at", {})  # as in a new process
    stale = _temp_file(workspace, "killed", age=7200)
    fresh = _temp_file(workspace, "writing", age=10)
    held = _temp_file(workspace, "slow-writer", age=7200)
    with held.open("ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # a live writer holds its temp file
        Workspace(workspace.root).artifacts.put_bytes(b"opened")
        assert not stale.exists()
        assert fresh.exists() and held.exists()
    # Once the writer is gone its file is stale too.
    assert workspace.artifacts.clean_temp() == 1
    assert not held.exists() and fresh.exists()


def _gc(workspace: Workspace, *args: str) -> tuple[int, dict[str, Any], str]:
    import json

    from click.testing import CliRunner

    from mlops_lab.cli import cli

    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "gc", *args])
    data = json.loads(result.stdout) if "--json" in args else {}
    return result.exit_code, data, result.stdout


def test_gc_sweeps_temp_files_and_reports_and_removes_orphan_blobs(workspace: Workspace) -> None:
    kept = workspace.artifacts.put_bytes(b"registered")
    orphan, _ = workspace.artifacts.write_blob([b"written by a killed stage, never registered"])
    gone = workspace.artifacts.put_bytes(b"deleted by hand")
    _blob(workspace, gone.hash).unlink()
    stale = _temp_file(workspace, "killed", age=7200)

    code, report, _ = _gc(workspace, "--json")
    assert code == 0
    assert report["temp_files_removed"] == 1 and not stale.exists()
    assert [(o["hash"], o["removed"]) for o in report["orphans"]] == [(orphan, False)]
    assert report["orphan_bytes"] == len(b"written by a killed stage, never registered")
    assert report["missing"] == [gone.hash]
    # Without an age limit the orphan is young: kept, even with --remove-orphans.
    assert _gc(workspace, "--remove-orphans", "--json")[1]["orphans"][0]["removed"] is False
    assert _blob(workspace, orphan).exists()

    code, _, text = _gc(workspace)
    assert "1 orphan blob(s)" in text and "--remove-orphans" in text

    # An orphan newer than a running run may still be registered by it: kept.
    workspace.catalog.write(
        "INSERT INTO runs (id, status, started_at) VALUES "
        "('r1', 'running', current_timestamp - INTERVAL 1 HOUR)"
    )
    report = _gc(workspace, "--remove-orphans", "--older-than", "0", "--json")[1]
    assert report["orphans"][0]["removed"] is False
    workspace.catalog.write("UPDATE runs SET status = 'failed'")
    report = _gc(workspace, "--remove-orphans", "--older-than", "0", "--json")[1]
    assert report["orphans"][0]["removed"] is True
    assert not _blob(workspace, orphan).exists()
    assert _blob(workspace, kept.hash).exists()
    assert workspace.artifacts.get_bytes(kept.hash) == b"registered"
    assert _gc(workspace, "--json")[1]["orphans"] == []
