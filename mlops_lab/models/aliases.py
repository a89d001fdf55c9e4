"""Aliases (``champion``, ``challenger``, any name) with an append-only history."""

from __future__ import annotations

import getpass
import re
from typing import Any

import duckdb

from mlops_lab.catalog import iso_utc
from mlops_lab.errors import InvalidInputError
from mlops_lab.models.registry import _raise_unknown
from mlops_lab.workspace import Workspace

__all__ = ["alias_history", "apply_promotion", "check_promotion", "promote"]


def promote(
    workspace: Workspace, name: str, version: int, *, alias: str, reason: str,
    by: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Point ``alias`` at ``version``, appending to the alias history."""
    check_promotion(alias, reason)
    who = by or getpass.getuser()
    return workspace.catalog.transaction(
        lambda con: apply_promotion(con, name, version, alias=alias, reason=reason, by=who)
    )


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
        _raise_unknown(con, name, version=version)
    before = con.execute(
        "SELECT version FROM model_aliases WHERE name = ? AND alias = ?", [name, alias]
    ).fetchall()
    previous = int(before[0][0]) if before else None
    con.execute(
        "INSERT INTO model_aliases (name, alias, version) VALUES (?, ?, ?) "
        "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, "
        "updated_at = now()",
        [name, alias, version],
    )
    con.execute(
        "INSERT INTO alias_history (name, alias, from_version, to_version, changed_by, "
        "reason) VALUES (?, ?, ?, ?, ?, ?)",
        [name, alias, previous, version, by, reason.strip()],
    )
    return {"name": name, "alias": alias, "from": previous, "to": version, "by": by}


def alias_history(workspace: Workspace, name: str) -> list[dict[str, Any]]:
    return workspace.catalog.read_dicts(
        "SELECT alias, from_version, to_version, changed_by, reason, "
        f"{iso_utc('changed_at', 'changed_at')} "
        "FROM alias_history WHERE name = ? ORDER BY changed_at, alias",
        [name],
    )
