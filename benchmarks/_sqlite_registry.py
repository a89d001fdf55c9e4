"""A hand-written model registry on SQLite: the baseline for everyday catalog writes.

It does what a registry on SQLite does per call: one connection kept open,
one transaction and one commit per call, SQLite's default journal and
``synchronous`` settings (durable on commit), a busy timeout so several
processes can share the file.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS registered_models (name TEXT PRIMARY KEY, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS model_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, source TEXT NOT NULL, run_id TEXT,
    tags TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS aliases (
    name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL, updated TEXT NOT NULL,
    PRIMARY KEY (name, alias));
CREATE TABLE IF NOT EXISTS alias_history (
    name TEXT, alias TEXT, from_version INTEGER, to_version INTEGER, reason TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS artifacts (hash TEXT PRIMARY KEY, size INTEGER, media_type TEXT);
CREATE TABLE IF NOT EXISTS datasets (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS dataset_versions (
    name TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL, row_count INTEGER,
    columns TEXT, created TEXT NOT NULL, PRIMARY KEY (name, version));
"""


class SqliteRegistry:
    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.con.executescript(_SCHEMA)

    def close(self) -> None:
        self.con.close()

    def _now(self) -> str:
        return datetime.now(UTC).isoformat()

    def create_version(self, name: str, source: str, run_id: str | None = None) -> int:
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute(
                "INSERT OR IGNORE INTO registered_models VALUES (?, ?)", [name, self._now()]
            )
            con.execute(
                "INSERT OR IGNORE INTO artifacts VALUES (?, 1, 'application/x-skops')", [source]
            )
            row = con.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = ?", [name]
            ).fetchone()
            con.execute(
                "INSERT INTO model_versions VALUES (?, ?, ?, ?, ?, ?)",
                [name, row[0], source, run_id, json.dumps([]), self._now()],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return int(row[0])

    def set_alias(self, name: str, alias: str, version: int, reason: str) -> None:
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            if not con.execute(
                "SELECT 1 FROM model_versions WHERE name = ? AND version = ?", [name, version]
            ).fetchone():
                raise KeyError(f"{name} v{version}")
            before = con.execute(
                "SELECT version FROM aliases WHERE name = ? AND alias = ?", [name, alias]
            ).fetchone()
            now = self._now()
            con.execute(
                "INSERT OR REPLACE INTO aliases VALUES (?, ?, ?, ?)", [name, alias, version, now]
            )
            previous = before[0] if before else None
            con.execute(
                "INSERT INTO alias_history VALUES (?, ?, ?, ?, ?, ?)",
                [name, alias, previous, version, reason, now],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def save_dataset(self, name: str, digest: str, row_count: int, columns: list[dict]) -> int:
        con = self.con
        con.execute("BEGIN IMMEDIATE")
        try:
            same = con.execute(
                "SELECT min(version) FROM dataset_versions WHERE name = ? AND hash = ?",
                [name, digest],
            ).fetchone()
            if same and same[0] is not None:
                con.execute("COMMIT")
                return int(same[0])
            con.execute(
                "INSERT OR IGNORE INTO artifacts VALUES (?, 1, 'application/parquet')", [digest]
            )
            con.execute("INSERT OR IGNORE INTO datasets VALUES (?)", [name])
            row = con.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM dataset_versions WHERE name = ?",
                [name],
            ).fetchone()
            values = [name, row[0], digest, row_count, json.dumps(columns), self._now()]
            con.execute("INSERT INTO dataset_versions VALUES (?, ?, ?, ?, ?, ?)", values)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return int(row[0])
