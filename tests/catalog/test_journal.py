"""The catalog journal: small writes durable at the cost of an fsync, seen by every reader."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from mlops_lab import open_workspace
from mlops_lab.catalog import Catalog
from mlops_lab.catalog import lease as leases
from mlops_lab.catalog.journal import Journal
from mlops_lab.datasets import save_dataset
from mlops_lab.models.aliases import alias_history, promote
from mlops_lab.models.lookup import get_model_version
from mlops_lab.models.registry import VersionSpec, insert_versions, register_versions
from mlops_lab.workspace import Workspace
from tests.paths import REPO

WRITERS = 8
EACH = 10


def _spec(name: str = "m", **fields: object) -> VersionSpec:
    return VersionSpec(
        name=name,
        flavor="skops",
        artifact_hash="b" * 64,
        size=1,
        trusted=False,
        signature=None,
        **fields,  # type: ignore[arg-type]
    )


def _journal(workspace: Workspace) -> Path:
    return Path(f"{workspace.catalog_path}.journal")


def test_a_registration_is_journaled_and_every_reader_sees_it(workspace: Workspace) -> None:
    version = register_versions(workspace, [_spec()])[0]
    assert version.version == 1
    assert _journal(workspace).stat().st_size > 0  # durable, not yet run
    # A reader in this process sees it (the journal runs first) ...
    assert get_model_version(workspace, "m").version == 1
    assert _journal(workspace).stat().st_size == 0
    register_versions(workspace, [_spec()])
    # ... and so does one in another process (the holder runs it before handing over).
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        assert pool.apply(_latest, (str(workspace.root),)) == 2


def _latest(root: str) -> int:
    return get_model_version(open_workspace(root), "m").version


def test_a_journaled_write_survives_its_process_being_killed(workspace: Workspace) -> None:
    script = (
        "import os, signal, sys\n"
        "from mlops_lab import open_workspace\n"
        "from mlops_lab.models.registry import VersionSpec, register_versions\n"
        "ws = open_workspace(sys.argv[1])\n"
        "spec = VersionSpec(name='killed', flavor='skops', artifact_hash='c' * 64, size=1,\n"
        "                   trusted=False, signature=None)\n"
        "print(register_versions(ws, [spec])[0].version, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    leases.release_all()
    done = subprocess.run(
        [sys.executable, "-c", script, str(workspace.root)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.strip() == "1"  # acknowledged before the kill
    assert _journal(workspace).stat().st_size > 0  # never applied by the dead process
    assert get_model_version(open_workspace(workspace.root), "killed").version == 1


def test_a_torn_last_record_is_dropped_and_the_rest_applied(workspace: Workspace) -> None:
    register_versions(workspace, [_spec()])
    leases.release_all()  # applies it
    register_versions(workspace, [_spec()])
    lease = leases.lease_for(workspace.catalog_path)
    with lease.mutex:  # simulate a crash: the process dies without applying ...
        lease.journal.close()
        lease.con = None
        os.close(lease.lock_fd or -1)
        lease.lock_fd = None
    with _journal(workspace).open("ab") as handle:  # ... and a writer killed mid-append
        handle.write(b'{"id":"torn","s":[["INSERT INTO datasets (name) VAL')
    assert open_workspace(workspace.root).catalog.read(
        "SELECT version FROM model_versions ORDER BY version"
    ) == [(1,), (2,)]
    assert workspace.catalog.read_value("SELECT count(*) FROM datasets") == 0


def test_records_are_not_applied_twice_after_a_crash_before_the_journal_was_emptied(
    tmp_path: Path,
) -> None:
    catalog = Catalog(tmp_path / "c.duckdb")
    catalog.ensure_schema()
    journal = Journal(catalog.path)
    journal.append([("INSERT INTO datasets (name) VALUES (?)", ["once"])])
    saved = journal.path.read_bytes()
    with catalog.connection() as con:
        journal.apply(con)
        journal.path.write_bytes(saved)  # the crash: committed, journal still full
        journal.close()
        assert journal.apply(con) == 1
    assert catalog.read("SELECT name FROM datasets") == [("once",)]


def test_a_record_that_cannot_apply_is_set_aside_without_blocking_the_catalog(
    tmp_path: Path,
) -> None:
    catalog = Catalog(tmp_path / "c.duckdb")
    catalog.ensure_schema()
    journal = Journal(catalog.path)
    journal.append([("INSERT INTO datasets (name) VALUES (?)", ["good"])])
    journal.append([("INSERT INTO no_such_table VALUES (?)", [1])])
    journal.append([("INSERT INTO datasets (name) VALUES (?)", ["also good"])])
    journal.close()
    assert catalog.read("SELECT name FROM datasets ORDER BY name") == [("also good",), ("good",)]
    rejected = [json.loads(line) for line in journal.rejected.read_text().splitlines()]
    assert len(rejected) == 1 and "no_such_table" in rejected[0]["error"]


def test_versions_continue_across_journaled_and_batched_writes(workspace: Workspace) -> None:
    assert register_versions(workspace, [_spec()])[0].version == 1
    assert [v.version for v in register_versions(workspace, [_spec(), _spec()])] == [2, 3]
    assert register_versions(workspace, [_spec()])[0].version == 4
    # Any ordinary write transaction (here: the one a pipeline stage commits) is seen too.
    workspace.catalog.transaction(lambda con: insert_versions(con, [_spec()]))
    assert register_versions(workspace, [_spec()])[0].version == 6


def test_alias_moves_through_the_journal_keep_history_and_refuse_unknown_versions(
    workspace: Workspace,
) -> None:
    register_versions(workspace, [_spec()])
    register_versions(workspace, [_spec()])
    assert promote(workspace, "m", 1, alias="champion", reason="first")["from"] is None
    assert promote(workspace, "m", 2, alias="champion", reason="better")["from"] == 1
    with pytest.raises(Exception, match="no version 3"):
        promote(workspace, "m", 3, alias="champion", reason="nope")
    assert get_model_version(workspace, "m@champion").version == 2
    history = alias_history(workspace, "m")
    assert [(h["from_version"], h["to_version"]) for h in history] == [(None, 1), (1, 2)]
    assert history[0]["changed_at"] < history[1]["changed_at"]


def test_dataset_saves_number_versions_and_reuse_identical_content(workspace: Workspace) -> None:
    first = save_dataset(workspace, "d", pd.DataFrame({"x": [1, 2]}))
    second = save_dataset(workspace, "d", pd.DataFrame({"x": [3]}))
    again = save_dataset(workspace, "d", pd.DataFrame({"x": [1, 2]}))
    assert (first.version, second.version, again.version) == (1, 2, 1)
    rows = workspace.catalog.read(
        "SELECT version, row_count FROM dataset_versions WHERE name = 'd' ORDER BY version"
    )
    assert rows == [(1, 2), (2, 1)]
    assert workspace.artifacts.info(first.artifact_hash).media_type.endswith("parquet")


def test_eight_writer_processes_lose_nothing_and_number_without_gaps(
    workspace: Workspace,
) -> None:
    leases.release_all()
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 3
    with ctx.Pool(WRITERS) as pool:
        results = pool.starmap(
            _register_many, [(str(workspace.root), w, start_at) for w in range(WRITERS)]
        )
    versions = sorted(v for result in results for v in result)
    assert versions == list(range(1, WRITERS * EACH + 1))
    stored = workspace.catalog.read("SELECT version FROM model_versions ORDER BY version")
    assert [r[0] for r in stored] == versions
    assert len(alias_history(workspace, "m")) == WRITERS * EACH
    datasets = workspace.catalog.read_value("SELECT count(*) FROM dataset_versions")
    assert datasets == WRITERS * EACH


def _register_many(root: str, worker: int, start_at: float) -> list[int]:
    ws = open_workspace(root)
    while time.time() < start_at:
        time.sleep(0.005)
    got = []
    for index in range(EACH):
        version = register_versions(ws, [_spec()])[0].version
        promote(ws, "m", version, alias=f"w{worker}", reason="test")
        save_dataset(ws, f"d{worker}", pd.DataFrame({"i": [index]}))
        got.append(version)
    return got
