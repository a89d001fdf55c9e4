"""The catalog: one DuckDB file of metadata, migrated forward on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from mlops_lab.catalog.connection import (
    RetryPolicy,
    bump_generation,
    open_connection,
    read_generation,
    run_transaction,
    run_with_retry,
)
from mlops_lab.catalog.migrations import MIGRATIONS, Migration
from mlops_lab.errors import SchemaVersionError

__all__ = ["Catalog", "iso_utc"]

T = TypeVar("T")

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)
"""


class Catalog:
    """Metadata of a workspace in one DuckDB file.

    No connection is kept between calls: :meth:`read` and :meth:`write` each
    open the file, run one short transaction and close it, so other processes
    (kernels, the Jupyter server, the CLI, pipeline stages) get their turn.
    Use :meth:`transaction` to batch many statements in one transaction, and
    :meth:`session` to run many transactions on one open connection (bulk
    work; other processes wait meanwhile). :meth:`generation` counts committed
    writes, for in-process caches.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        retry: RetryPolicy | None = None,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        self.path = Path(path)
        self.retry = retry or RetryPolicy()
        self._migrations = tuple(migrations)
        self._checked = False
        self._lock = threading.Lock()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"Catalog({str(self.path)!r})"

    @property
    def supported_version(self) -> int:
        return self._migrations[-1].version if self._migrations else 0

    # -- schema ---------------------------------------------------------------

    def ensure_schema(self) -> int:
        """Create or upgrade the schema; return the catalog's schema version.

        A catalog written by a newer mlops-lab is refused and left untouched.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            version = self._migrate()
            self._checked = True
            return version

    def _migrate(self) -> int:
        with open_connection(self.path, self.retry) as con:
            con.execute(_VERSION_TABLE)
            current = _current_version(con)
            if current > self.supported_version:
                raise SchemaVersionError(self.path, current, self.supported_version)
            for migration in self._migrations:
                if migration.version <= current:
                    continue
                con.execute("BEGIN TRANSACTION")
                try:
                    for statement in migration.statements:
                        con.execute(statement)
                    con.execute(
                        "INSERT INTO schema_version (version, description) VALUES (?, ?)",
                        [migration.version, migration.description],
                    )
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                current = migration.version
            return current

    def schema_version(self) -> int:
        """The schema version recorded in the catalog file."""
        return self.read_value("SELECT coalesce(max(version), 0) FROM schema_version")  # type: ignore[no-any-return]

    # -- access ---------------------------------------------------------------

    def _ready(self) -> None:
        if not self._checked:
            self.ensure_schema()

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A raw connection for a short piece of work; closed on exit.

        Keep the block short: the whole catalog is locked for other processes
        while it runs.
        """
        self._ready()
        with open_connection(self.path, self.retry) as con:
            try:
                yield con
            finally:
                bump_generation(self.path)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep one connection open for this thread's transactions inside the block.

        Saves the ~20 ms of opening DuckDB per call when registering many
        things in a loop; other processes wait until the block ends, so keep
        it to bulk work. Nested sessions reuse the outer one.
        """
        if getattr(self._local, "con", None) is not None:
            yield
            return
        self._ready()
        with open_connection(self.path, self.retry) as con:
            self._local.con = con
            try:
                yield
            finally:
                self._local.con = None

    def transaction(
        self, work: Callable[[duckdb.DuckDBPyConnection], T], *, write: bool = True
    ) -> T:
        """Run ``work(con)`` in one transaction, retried whole on a write conflict.

        Pass ``write=False`` for reads, so caches keyed on :meth:`generation`
        stay valid.
        """
        held = getattr(self._local, "con", None)
        if held is not None:
            return run_transaction(held, self.path, work, write=write)
        self._ready()
        return run_with_retry(self.path, self.retry, work, write=write)

    def generation(self) -> int:
        """A counter bumped after every committed write to this catalog, by any process."""
        return read_generation(self.path)

    def read(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one query and return all rows."""
        return self.transaction(lambda con: con.execute(sql, params or []).fetchall(), write=False)

    def read_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Run one query and return rows as dictionaries keyed by column name."""

        def work(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
            cursor = con.execute(sql, params or [])
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return self.transaction(work, write=False)

    def read_value(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run one query and return the first column of its first row (or None)."""
        rows = self.read(sql, params)
        return rows[0][0] if rows else None

    def write(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement in its own transaction."""
        self.transaction(lambda con: con.execute(sql, params or []))


def _current_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def iso_utc(expression: str, name: str | None = None) -> str:
    """SQL rendering a TIMESTAMPTZ as ISO 8601 text in UTC, ``AS name`` when given."""
    sql = f"strftime({expression}, '%Y-%m-%dT%H:%M:%S.%f+00:00')"
    return f"{sql} AS {name}" if name else sql
