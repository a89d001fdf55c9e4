from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import duckdb
import pytest

from mlops_lab.catalog import MIGRATIONS, Catalog, RetryPolicy
from mlops_lab.catalog import lease as leases
from mlops_lab.errors import CatalogBusyError, NotACatalogError, SchemaVersionError
from mlops_lab.workspace import Workspace

WRITERS = 4
WRITES_EACH = 40


def test_new_catalog_is_at_the_latest_version_with_history(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.duckdb")
    assert catalog.ensure_schema() == MIGRATIONS[-1].version
    history = catalog.read("SELECT version, description FROM schema_version ORDER BY version")
    assert [v for v, _ in history] == [m.version for m in MIGRATIONS]
    assert all(description for _, description in history)


def test_older_catalog_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    Catalog(path, migrations=MIGRATIONS[:1]).write(
        "INSERT INTO artifacts (hash, size, media_type) VALUES ('a', 1, 'text/plain')"
    )
    upgraded = Catalog(path)
    assert upgraded.schema_version() == MIGRATIONS[-1].version
    assert upgraded.read("SELECT hash, size FROM artifacts") == [("a", 1)]
    assert upgraded.read_value("SELECT count(*) FROM models") == 0


def test_newer_catalog_is_refused_and_not_modified(tmp_path: Path) -> None:
    path = tmp_path / "c.duckdb"
    Catalog(path).ensure_schema()
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO schema_version (version, description) VALUES (99, 'future')")
    before = path.read_bytes()
    with pytest.raises(SchemaVersionError) as info:
        Catalog(path).ensure_schema()
    message = str(info.value)
    assert "schema version 99" in message
    assert f"up to {MIGRATIONS[-1].version}" in message
    assert "upgrade" in message
    assert info.value.http_status == 409
    assert path.read_bytes() == before


def test_a_file_that_is_not_duckdb_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "catalog.duckdb"
    path.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(NotACatalogError, match="is not a DuckDB catalog") as info:
        Catalog(path).ensure_schema()
    assert "left untouched" in str(info.value)
    assert path.read_bytes() == before


def test_failed_transaction_leaves_nothing(workspace: Workspace) -> None:
    def work(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("INSERT INTO models (name) VALUES ('churn')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        workspace.catalog.transaction(work)
    assert workspace.catalog.read_value("SELECT count(*) FROM models") == 0


def test_an_idle_holder_hands_the_catalog_over_to_another_process(workspace: Workspace) -> None:
    # This process keeps its connection after the call (the lease) ...
    workspace.catalog.read("SELECT 1")
    assert leases.lease_for(workspace.catalog_path).con is not None
    # ... yet another mlops-lab process gets the catalog as soon as it asks.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        count, waited = pool.apply(_count_models_through_catalog, (str(workspace.catalog_path),))
    assert count == 0
    assert waited < leases.HOLD_SECONDS / 2
    assert leases.lease_for(workspace.catalog_path).con is None


def test_an_outside_tool_can_open_the_catalog_once_the_lease_is_given_back(
    workspace: Workspace,
) -> None:
    workspace.catalog.write("INSERT INTO runs (id, pipeline, status) VALUES ('r', 'p', 'ok')")
    leases.release_all()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        assert pool.apply(_count_runs_raw, (str(workspace.catalog_path),)) == 1


def test_an_idle_lease_is_given_back_after_the_hold_time(workspace: Workspace) -> None:
    workspace.catalog.read("SELECT 1")
    lease = leases.lease_for(workspace.catalog_path)
    deadline = time.monotonic() + leases.HOLD_SECONDS + 5
    while lease.con is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lease.con is None


def _count_models_through_catalog(path: str) -> tuple[int, float]:
    catalog = Catalog(path)
    start = time.monotonic()
    count = catalog.read_value("SELECT count(*) FROM models")
    return int(count), time.monotonic() - start


def _count_runs_raw(path: str) -> int:
    with duckdb.connect(path) as con:
        row = con.execute("SELECT count(*) FROM runs").fetchone()
        assert row is not None
        return int(row[0])


def _writer(path: str, worker: int, start_at: float) -> int:
    catalog = Catalog(path)
    while time.time() < start_at:  # start together to maximise contention
        time.sleep(0.001)
    for index in range(WRITES_EACH):
        catalog.write(
            "INSERT INTO runs (id, pipeline, status) VALUES (?, ?, 'succeeded')",
            [f"w{worker}-{index}", f"writer-{worker}"],
        )
        catalog.read_value("SELECT count(*) FROM runs")
    return WRITES_EACH


def test_concurrent_writers_lose_nothing_and_see_no_lock_error(workspace: Workspace) -> None:
    path = str(workspace.catalog_path)
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 2.0
    with ctx.Pool(WRITERS) as pool:
        results = [pool.apply_async(_writer, (path, w, start_at)) for w in range(WRITERS)]
        # .get() re-raises any exception a writer saw, lock errors included.
        assert [r.get(timeout=240) for r in results] == [WRITES_EACH] * WRITERS
    rows = workspace.catalog.read("SELECT pipeline, count(*) FROM runs GROUP BY 1 ORDER BY 1")
    assert rows == [(f"writer-{w}", WRITES_EACH) for w in range(WRITERS)]
    ids = workspace.catalog.read_value("SELECT count(DISTINCT id) FROM runs")
    assert ids == WRITERS * WRITES_EACH


def _hold_open(path: str, seconds: float, ready: object) -> None:
    with duckdb.connect(path):
        ready.set()  # type: ignore[attr-defined]
        time.sleep(seconds)


def test_lock_held_past_the_deadline_gives_a_clear_busy_error(workspace: Workspace) -> None:
    leases.release_all()  # let the outside tool (raw DuckDB) in
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_open, args=(str(workspace.catalog_path), 3.0, ready))
    holder.start()
    try:
        assert ready.wait(30)
        impatient = Catalog(workspace.catalog_path, retry=RetryPolicy(timeout=0.5))
        with pytest.raises(CatalogBusyError, match="stayed locked by another process") as info:
            impatient.read("SELECT 1")
        assert info.value.http_status == 503
        assert "Nothing was written" in str(info.value)
        # A patient caller simply waits its turn.
        patient = Catalog(workspace.catalog_path, retry=RetryPolicy(timeout=30))
        assert patient.read_value("SELECT count(*) FROM runs") == 0
    finally:
        holder.join(30)


def test_generation_counts_writes_not_reads_and_sessions_reuse_one_connection(
    tmp_path: Path,
) -> None:
    catalog = Catalog(tmp_path / "catalog.duckdb")
    catalog.ensure_schema()
    before = catalog.generation()
    catalog.read("SELECT count(*) FROM artifacts")
    assert catalog.generation() == before
    catalog.write("INSERT INTO datasets (name) VALUES ('a')")
    assert catalog.generation() == before + 1
    # Another process's write is seen too (the counter is a file beside the catalog).
    other = Catalog(tmp_path / "catalog.duckdb")
    other.write("INSERT INTO datasets (name) VALUES ('b')")
    assert catalog.generation() == before + 2
    with catalog.session():
        for name in "cdef":
            catalog.write("INSERT INTO datasets (name) VALUES (?)", [name])
        assert catalog.read_value("SELECT count(*) FROM datasets") == 6
    assert catalog.generation() == before + 6
    assert other.read_value("SELECT count(*) FROM datasets") == 6
