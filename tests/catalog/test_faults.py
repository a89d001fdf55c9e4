"""Faults the operator must be able to read: read-only and full disks, damaged or missing catalogs.

Read-only and full disks are real: a small tmpfs mounted for the test (the
suite runs as root, as CI does); elsewhere those tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_lab import init_workspace, open_workspace
from mlops_lab.catalog import lease as leases
from mlops_lab.cli import cli
from mlops_lab.errors import (
    CatalogDamagedError,
    CatalogMissingError,
    DiskFullError,
    ReadOnlyCatalogError,
)
from mlops_lab.models.registry import VersionSpec, register_versions
from mlops_lab.workspace import Workspace
from tests.paths import REPO


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of our own (unmounted afterwards)."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        leases.release_all()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _cli(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line in a process of its own (no lease shared with the test)."""
    return subprocess.run(
        [sys.executable, "-m", "mlops_lab", "--workspace", str(workspace), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _spec(name: str = "m") -> VersionSpec:
    return VersionSpec(
        name=name, flavor="skops", artifact_hash="a" * 64, size=1, trusted=False, signature=None
    )


def test_a_read_only_workspace_can_be_read_and_refuses_writes_in_one_line(tmpfs: Path) -> None:
    ws = init_workspace(tmpfs / "ws")
    register_versions(ws, [_spec()])
    leases.release_all()
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)

    for command in (["status", "--json"], ["models", "list", "--json"], ["runs", "list"]):
        done = _cli(ws.root, *command)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    assert json.loads(_cli(ws.root, "status", "--json").stdout)["counts"]["models"] == 1

    reopened = open_workspace(ws.root)
    assert reopened.catalog.read("SELECT version FROM model_versions") == [(1,)]
    with pytest.raises(ReadOnlyCatalogError, match="read-only here"):
        register_versions(reopened, [_spec()])
    with pytest.raises(ReadOnlyCatalogError):
        reopened.catalog.write("INSERT INTO datasets (name) VALUES ('d')")


def test_a_full_disk_is_named_at_once_and_nothing_half_written(tmpfs: Path) -> None:
    ws = init_workspace(tmpfs / "ws")
    register_versions(ws, [_spec()])
    filler = tmpfs / "filler"
    with filler.open("wb") as handle, pytest.raises(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    start = time.monotonic()
    with pytest.raises(DiskFullError, match="is full"):
        for index in range(5000):  # the journal or the WAL hits the wall within a few writes
            register_versions(ws, [_spec()])
            ws.catalog.write("INSERT INTO datasets (name) VALUES (?)", [f"d{index}"])
    assert time.monotonic() - start < 30  # not a minute of "stayed locked"
    with pytest.raises(DiskFullError, match="is full"):
        ws.artifacts.put_bytes(os.urandom(200_000))  # a blob too
    assert not list((ws.state_dir / "artifacts" / "tmp").glob("*.part"))  # no half blob left
    filler.unlink()
    leases.release_all()
    # What was acknowledged is there, numbered without gaps.
    versions = [
        r[0]
        for r in open_workspace(ws.root).catalog.read(
            "SELECT version FROM model_versions ORDER BY version"
        )
    ]
    assert versions == list(range(1, len(versions) + 1))


def test_a_truncated_catalog_is_reported_in_one_line_everywhere(workspace: Workspace) -> None:
    for index in range(300):
        workspace.catalog.write(
            "INSERT INTO runs (id, pipeline, status) VALUES (?, 'p', 'ok')", [f"r{index}"]
        )
    leases.release_all()
    path = workspace.catalog_path
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 5)

    with pytest.raises(CatalogDamagedError, match="damaged") as info:
        open_workspace(workspace.root).catalog.read("SELECT count(*) FROM runs")
    assert "init --repair" in str(info.value)
    for command in (["status"], ["runs", "list"]):
        done = _cli(workspace.root, *command, "--json")
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert json.loads(done.stdout)["error"]["type"] == "CatalogDamagedError"
    plain = _cli(workspace.root, "status")
    assert plain.stderr.strip().count("\n") == 0 and "damaged" in plain.stderr


def test_a_catalog_truncated_past_its_blocks_is_refused_even_if_it_still_opens(
    workspace: Workspace,
) -> None:
    for index in range(300):
        workspace.catalog.write(
            "INSERT INTO runs (id, pipeline, status) VALUES (?, 'p', 'ok')", [f"r{index}"]
        )
    leases.release_all()
    path = workspace.catalog_path
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size * 2 // 3)  # DuckDB itself still opens this
    with pytest.raises(CatalogDamagedError, match="truncated"):
        open_workspace(workspace.root).catalog.read("SELECT count(*) FROM artifacts")


def test_a_missing_catalog_beside_artifacts_is_refused_then_repaired(workspace: Workspace) -> None:
    workspace.artifacts.put_bytes(b"precious")
    workspace.artifacts.put_bytes(b"PAR1 looks like parquet")
    leases.release_all()
    workspace.catalog_path.unlink()

    with pytest.raises(CatalogMissingError, match="2 stored artifact"):
        open_workspace(workspace.root).catalog.read("SELECT 1")
    assert not workspace.catalog_path.exists()  # not silently recreated empty
    done = _cli(workspace.root, "status", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["type"] == "CatalogMissingError"

    repaired = _cli(workspace.root, "init", "--repair", "--json")
    assert repaired.returncode == 0, repaired.stderr
    assert json.loads(repaired.stdout)["repair"]["artifacts_kept"] == 2
    status = json.loads(_cli(workspace.root, "status", "--json").stdout)
    assert status["counts"]["artifacts"] == 2


def test_repair_moves_a_damaged_catalog_aside_and_keeps_it(workspace: Workspace) -> None:
    workspace.artifacts.put_bytes(b"kept")
    leases.release_all()
    path = workspace.catalog_path
    original = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(original // 5)
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(workspace.root), "--repair"])
    assert result.exit_code == 0, result.output
    assert "Moved aside" in result.output
    aside = [p for p in path.parent.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].stat().st_size == original // 5
    assert open_workspace(workspace.root).catalog.read_value("SELECT count(*) FROM artifacts") == 1
    # A healthy catalog is left alone.
    again = runner.invoke(cli, ["init", str(workspace.root), "--repair"])
    assert "nothing to repair" in again.output


def test_an_empty_workspace_still_gets_a_new_catalog(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    leases.release_all()
    shutil.rmtree(ws.state_dir)
    (ws.state_dir).mkdir()
    assert open_workspace(ws.root).catalog.read_value("SELECT count(*) FROM runs") == 0


def test_a_catalog_restored_while_this_process_holds_it_is_reopened_not_overwritten(
    workspace: Workspace,
) -> None:
    insert = "INSERT INTO runs (id, pipeline, status) VALUES (?, 'p', 'ok')"
    workspace.catalog.write(insert, ["before the backup"])
    leases.release_all()
    backup = workspace.catalog_path.read_bytes()
    workspace.catalog.write(insert, ["after the backup"])  # held: in this process's WAL
    with workspace.catalog_path.open("r+b") as handle:  # restore in place (same inode)
        handle.write(backup)
        handle.truncate()

    assert workspace.catalog.read("SELECT id FROM runs") == [("before the backup",)]
    leases.release_all()
    assert open_workspace(workspace.root).catalog.read("SELECT id FROM runs") == [
        ("before the backup",)
    ]
    assert list(workspace.state_dir.glob("catalog.duckdb.wal.abandoned-*"))
