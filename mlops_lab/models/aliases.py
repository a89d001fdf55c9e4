"""Aliases (``champion``, ``challenger``, any name) with an append-only history."""

from __future__ import annotations

import getpass
import re
from datetime import UTC, datetime
from typing import Any

import duckdb

from mlops_lab.catalog import iso_utc
from mlops_lab.catalog.journal import Memo, Recorder
from mlops_lab.errors import InvalidInputError
from mlops_lab.models.lookup import raise_unknown_model
from mlops_lab.models.registry import latest_version
from mlops_lab.workspace import Workspace

__all__ = ["alias_history", "apply_promotion", "check_promotion", "promote"]


def promote(
    workspace: Workspace,
    name: str,
    version: int,
    *,
    alias: str,
    reason: str,
    by: str | None = None,
) -> dict[str, Any]:
    """Point ``alias`` at ``version``, appending to the alias history (through the journal)."""
    check_promotion(alias, reason)
    who = by or getpass.getuser()

    def plan(memo: Memo, rec: Recorder) -> dict[str, Any]:
        latest = memo.get(("model_latest", name), lambda con: latest_version(con, name))
        if not 1 <= version <= latest:
            memo.read(lambda con: raise_unknown_model(con, name, version=version))
        previous = memo.get(("alias", name, alias), lambda con: _alias_version(con, name, alias))
        for sql, params in _promotion_statements(name, version, alias, reason, who, previous):
            rec.execute(sql, params)
        memo.set(("alias", name, alias), version)
        return {"name": name, "alias": alias, "from": previous, "to": version, "by": who}

    return workspace.catalog.journaled(plan)


def check_promotion(alias: str, reason: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][\w-]{0,63}", alias or ""):
        raise InvalidInputError(f"Invalid alias {alias!r}: letters, digits, '_' or '-'.")
    if not reason or not reason.strip():
        raise InvalidInputError("Give a reason for moving the alias (it is kept in its history).")


def apply_promotion(
    con: duckdb.DuckDBPyConnection, name: str, version: int, *, alias: str, reason: str, by: str
) -> dict[str, Any]:
    """Move the alias in the caller's transaction, appending to its history."""
    check_promotion(alias, reason)
    exists = con.execute(
        "SELECT 1 FROM model_versions WHERE name = ? AND version = ?", [name, version]
    ).fetchall()
    if not exists:
        raise_unknown_model(con, name, version=version)
    previous = _alias_version(con, name, alias)
    for sql, params in _promotion_statements(name, version, alias, reason, by, previous):
        con.execute(sql, params)
    return {"name": name, "alias": alias, "from": previous, "to": version, "by": by}


def _alias_version(con: duckdb.DuckDBPyConnection, name: str, alias: str) -> int | None:
    before = con.execute(
        "SELECT version FROM model_aliases WHERE name = ? AND alias = ?", [name, alias]
    ).fetchall()
    return int(before[0][0]) if before else None


def _promotion_statements(
    name: str, version: int, alias: str, reason: str, by: str, previous: int | None
) -> list[tuple[str, list[Any]]]:
    """The alias move's writes; the time is bound, so they mean the same when run later."""
    now = datetime.now(UTC)
    return [
        (
            "INSERT INTO model_aliases (name, alias, version, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, "
            "updated_at = excluded.updated_at",
            [name, alias, version, now],
        ),
        (
            "INSERT INTO alias_history (name, alias, from_version, to_version, changed_by, "
            "reason, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [name, alias, previous, version, by, reason.strip(), now],
        ),
    ]


def alias_history(workspace: Workspace, name: str) -> list[dict[str, Any]]:
    return workspace.catalog.read_dicts(
        "SELECT alias, from_version, to_version, changed_by, reason, "
        f"{iso_utc('changed_at', 'changed_at')} "
        "FROM alias_history WHERE name = ? ORDER BY changed_at, alias",
        [name],
    )
