"""Finding and loading model versions by reference.

References: ``"churn"`` (latest version), ``"churn/3"`` (a version) or
``"churn@champion"`` (an alias).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, NoReturn

import duckdb
import pandas as pd

from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.models.formats import load_model_bytes
from mlops_lab.models.signature import check_frame
from mlops_lab.models.version import VERSION_COLUMNS, ModelVersion, version_from_row
from mlops_lab.workspace import Workspace

__all__ = [
    "LoadedModel",
    "get_model_version",
    "list_models",
    "load_model",
    "raise_unknown_model",
]

_REF = re.compile(r"^(?P<name>[A-Za-z_][\w.-]*)(?:(?P<sep>[@/])(?P<tail>[\w.-]+))?$")


class LoadedModel:
    """A model loaded from the store; ``predict`` checks the input against the signature."""

    def __init__(self, version: ModelVersion, model: Any) -> None:
        self.version = version
        self.model = model

    def __repr__(self) -> str:
        return f"LoadedModel({self.version.name}/{self.version.version}, {self.version.flavor})"

    def _checked(self, frame: pd.DataFrame) -> pd.DataFrame:
        check_frame(self.version.signature, frame)
        if self.version.signature is None:
            return frame
        return frame[[c["name"] for c in self.version.signature["inputs"]]]

    def predict(self, frame: pd.DataFrame) -> Any:
        return self.model.predict(self._checked(frame))

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        return self.model.predict_proba(self._checked(frame))


def _parse_ref(ref: str) -> tuple[str, str | None, str | None]:
    match = _REF.match(ref.strip()) if isinstance(ref, str) else None
    if match is None:
        raise InvalidInputError(
            f"Invalid model reference {ref!r}: use 'name', 'name/3' or 'name@alias'."
        )
    name, sep, tail = match.group("name"), match.group("sep"), match.group("tail")
    if sep == "/" and not (tail or "").isdigit():
        raise InvalidInputError(
            f"Invalid model reference {ref!r}: the version after '/' is a number."
        )
    return name, sep, tail


# Resolved references, valid while the catalog's write generation is unchanged.
_resolved: dict[tuple[str, str], tuple[int, ModelVersion]] = {}
_RESOLVED_MAX = 4096


def get_model_version(workspace: Workspace, ref: str) -> ModelVersion:
    """Resolve ``name``, ``name/3`` or ``name@alias``; unknown parts list what exists.

    Answers from an in-process cache while no process has written to the
    catalog since (checked through :meth:`Catalog.generation`, a file read).
    """
    key = (str(workspace.catalog.path), ref)
    generation = workspace.catalog.generation()
    hit = _resolved.get(key)
    if hit is not None and hit[0] == generation:
        return hit[1]
    found = _resolve(workspace, ref)
    if len(_resolved) >= _RESOLVED_MAX:
        _resolved.clear()
    _resolved[key] = (generation, found)
    return found


def _resolve(workspace: Workspace, ref: str) -> ModelVersion:
    name, sep, tail = _parse_ref(ref)

    def read(con: duckdb.DuckDBPyConnection) -> ModelVersion:
        if sep == "@":
            rows = con.execute(
                "SELECT version FROM model_aliases WHERE name = ? AND alias = ?", [name, tail]
            ).fetchall()
            if not rows:
                raise_unknown_model(con, name, alias=tail)
            version: int | None = int(rows[0][0])
        else:
            version = int(tail) if sep == "/" and tail else None
        if version is None:
            found = con.execute(
                f"SELECT {VERSION_COLUMNS} FROM model_versions WHERE name = ? "
                "ORDER BY version DESC LIMIT 1",
                [name],
            ).fetchall()
        else:
            found = con.execute(
                f"SELECT {VERSION_COLUMNS} FROM model_versions WHERE name = ? AND version = ?",
                [name, version],
            ).fetchall()
        if not found:
            raise_unknown_model(con, name, version=version)
        aliases = tuple(
            r[0]
            for r in con.execute(
                "SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias",
                [name, found[0][1]],
            ).fetchall()
        )
        return version_from_row(found[0], aliases)

    return workspace.catalog.transaction(read, write=False)


def raise_unknown_model(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    version: int | None = None,
    alias: str | None = None,
) -> NoReturn:
    models = [r[0] for r in con.execute("SELECT name FROM models ORDER BY name").fetchall()]
    if name not in models:
        close = difflib.get_close_matches(name, models, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise NotFoundError(
            f"No model {name!r}.{hint} (models: {', '.join(models) or 'none registered'})"
        )
    if alias is not None:
        known = con.execute(
            "SELECT alias || ' -> ' || version FROM model_aliases WHERE name = ? ORDER BY alias",
            [name],
        ).fetchall()
        raise NotFoundError(
            f"Model {name!r} has no alias {alias!r} "
            f"(aliases: {', '.join(r[0] for r in known) or 'none'})."
        )
    versions = con.execute(
        "SELECT version FROM model_versions WHERE name = ? ORDER BY version", [name]
    ).fetchall()
    raise NotFoundError(
        f"Model {name!r} has no version {version} "
        f"(versions: {', '.join(str(v[0]) for v in versions)})."
    )


def load_model(workspace: Workspace, ref: str) -> LoadedModel:
    """Load a model version (hash verified on read; safe formats only unless trusted)."""
    version = get_model_version(workspace, ref)
    data = workspace.artifacts.get_bytes(version.artifact_hash)
    return LoadedModel(version, load_model_bytes(version.flavor, data, trusted=version.trusted))


def list_models(workspace: Workspace) -> list[dict[str, Any]]:
    """Every model with its latest version, version count and aliases."""
    return workspace.catalog.read_dicts(
        "SELECT m.name, max(v.version) AS latest, count(v.version) AS versions, "
        "(SELECT list(a.alias || '=' || a.version ORDER BY a.alias) FROM model_aliases a "
        "WHERE a.name = m.name) AS aliases "
        "FROM models m JOIN model_versions v ON v.name = m.name GROUP BY m.name ORDER BY m.name"
    )
