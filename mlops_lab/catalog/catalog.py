"""The catalog: one DuckDB file of metadata, migrated forward on first use."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from mlops_lab.catalog.connection import (
    bump_generation,
    forget_memo,
    is_read_only,
    journaled_write,
    open_connection,
    read_generation,
    run_transaction,
    run_with_retry,
)
from mlops_lab.catalog.journal import Memo, Recorder
from mlops_lab.catalog.migrations import MIGRATIONS, Migration
from mlops_lab.catalog.retry import RetryPolicy
from mlops_lab.errors import ReadOnlyCatalogError, SchemaVersionError

__all__ = ["Catalog", "iso_utc"]

T = TypeVar("T")

CATALOG_THREADS = 1
"""DuckDB worker threads for the catalog: its statements are small, and one thread answers
them fastest (no task hand-offs between threads on a busy machine)."""

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    description VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
)
"""


class Catalog:
    """Metadata of a workspace in one DuckDB file.

    Each call (:meth:`read`, :meth:`write`, :meth:`transaction`) runs one
    short transaction on this process's lease of the file (see
    :mod:`mlops_lab.catalog.lease`): the connection stays open between
    calls while nobody else wants it and is handed over as soon as another
    process (kernels, the Jupyter server, the CLI, pipeline stages) asks.
    :meth:`journaled` makes a small write durable without running it yet;
    :meth:`session` keeps the file for a block of bulk work (other processes
    wait meanwhile). :meth:`generation` counts committed writes, for
    in-process caches.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        retry: RetryPolicy | None = None,
        migrations: Sequence[Migration] = MIGRATIONS,
        on_missing: Callable[[Path], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.retry = retry or RetryPolicy()
        self._on_missing = on_missing
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
        A missing file is created, unless ``on_missing`` (given by the
        workspace) refuses because the workspace still holds artifacts.
        """
        if not self.path.exists() and self._on_missing is not None:
            self._on_missing(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            raise ReadOnlyCatalogError(self.path, "its folder cannot be created") from exc
        with self._lock:
            version = self._migrate()
            self._checked = True
            return version

    def _migrate(self) -> int:
        with open_connection(self.path, self.retry, threads=CATALOG_THREADS) as con:
            if is_read_only(self.path):
                return self._check_read_only(con)
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

    def _check_read_only(self, con: duckdb.DuckDBPyConnection) -> int:
        """A catalog this process can only read: usable if its schema is the current one."""
        tables = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version'"
        ).fetchone()
        current = _current_version(con) if tables and tables[0] else 0
        if current > self.supported_version:
            raise SchemaVersionError(self.path, current, self.supported_version)
        if current < self.supported_version:
            raise ReadOnlyCatalogError(
                self.path,
                f"its schema (version {current}) needs an upgrade to version "
                f"{self.supported_version}, which needs write access; open it once with "
                "write access",
            )
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
        """A raw connection for a short piece of work (no transaction of its own).

        Keep the block short: the whole catalog is locked for other processes
        while it runs.
        """
        self._ready()
        with open_connection(self.path, self.retry, threads=CATALOG_THREADS) as con:
            try:
                yield con
            finally:
                forget_memo(self.path)
                bump_generation(self.path)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep one connection open for this thread's transactions inside the block.

        Other processes wait until the block ends (they are not handed the
        file between transactions), so keep it to bulk work. Nested sessions
        reuse the outer one.
        """
        if getattr(self._local, "con", None) is not None:
            yield
            return
        self._ready()
        with open_connection(self.path, self.retry, threads=CATALOG_THREADS) as con:
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
        return run_with_retry(self.path, self.retry, work, write=write, threads=CATALOG_THREADS)

    def journaled(self, plan: Callable[[Memo, Recorder], T]) -> T:
        """A small durable write at the cost of an fsync, its statements applied later.

        See :mod:`mlops_lab.catalog.journal` for what ``plan`` may do. Every
        reader (any process) sees the write: pending statements run before
        any other work on the catalog.
        """
        self._ready()
        return journaled_write(self.path, self.retry, plan, threads=CATALOG_THREADS)

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
