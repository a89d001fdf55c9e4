"""The model store: versions, aliases with an append-only history, and loading by reference.

References: ``"churn"`` (latest version), ``"churn/3"`` (a version) or
``"churn@champion"`` (an alias).
"""

from __future__ import annotations

import difflib
import getpass
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from mlops_lab.artifacts import register_artifact
from mlops_lab.datasets import validate_name
from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.models.formats import dump_model, load_model_bytes
from mlops_lab.models.signature import check_frame, infer_signature
from mlops_lab.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LoadedModel",
    "ModelVersion",
    "alias_history",
    "get_model_version",
    "list_models",
    "load_model",
    "promote",
    "register_model",
]

_COLUMNS = (
    "name, version, flavor, artifact_hash, trusted, signature, run_id, stage, training_dataset, "
    "feature_views, parameters, description, tags, created_at"
)
_REF = re.compile(r"^(?P<name>[A-Za-z_][\w.-]*)(?:(?P<sep>[@/])(?P<tail>[\w.-]+))?$")


@dataclass(frozen=True, kw_only=True)
class ModelVersion:
    name: str
    version: int
    flavor: str
    artifact_hash: str
    trusted: bool
    signature: dict[str, Any] | None
    run_id: str | None
    stage: str | None
    training_dataset: str | None
    feature_views: list[str]
    parameters: dict[str, Any]
    description: str
    tags: list[str]
    created_at: datetime
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["created_at"] = self.created_at.isoformat()
        data["aliases"] = list(self.aliases)
        return data


def _version(row: tuple[Any, ...], aliases: tuple[str, ...] = ()) -> ModelVersion:
    (name, version, flavor, digest, trusted, signature, run_id, stage, dataset, views, params,
     description, tags, created_at) = row  # fmt: skip
    return ModelVersion(
        name=name, version=int(version), flavor=flavor, artifact_hash=digest,
        trusted=bool(trusted), signature=json.loads(signature) if signature else None,
        run_id=run_id, stage=stage, training_dataset=dataset,
        feature_views=json.loads(views) if views else [],
        parameters=json.loads(params) if params else {}, description=description,
        tags=json.loads(tags), created_at=created_at, aliases=aliases,
    )  # fmt: skip


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


def register_model(
    workspace: Workspace,
    name: str,
    model: Any,
    *,
    X_sample: pd.DataFrame | None = None,
    training_dataset: str | None = None,
    feature_views: list[str] | None = None,
    parameters: dict[str, Any] | None = None,
    description: str = "",
    tags: list[str] | None = None,
    trusted: bool = False,
    run_id: str | None = None,
    stage: str | None = None,
) -> ModelVersion:
    """Store ``model`` (skops for scikit-learn; pickle only if ``trusted``) as version N+1."""
    validate_name(name, "model")
    flavor, data = dump_model(model, trusted=trusted)
    digest, size = workspace.artifacts.write_blob([data])
    signature = infer_signature(model, X_sample)
    signature_json = json.dumps(signature) if signature else None

    def write(con: duckdb.DuckDBPyConnection) -> ModelVersion:
        register_artifact(con, digest, size=size, media_type=f"application/x-{flavor}",
                          run_id=run_id)  # fmt: skip
        con.execute(
            "INSERT INTO models (name, description) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            [name, description],
        )
        row = con.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = ?", [name]
        ).fetchall()
        version = int(row[0][0])
        con.execute(
            f"INSERT INTO model_versions ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
            [
                name, version, flavor, digest, trusted, signature_json,
                run_id, stage, training_dataset, json.dumps(feature_views or []),
                json.dumps(parameters or {}, default=str), description, json.dumps(tags or []),
            ],
        )  # fmt: skip
        created = con.execute(
            f"SELECT {_COLUMNS} FROM model_versions WHERE name = ? AND version = ?",
            [name, version],
        ).fetchall()
        return _version(created[0])

    return workspace.catalog.transaction(write)


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


def get_model_version(workspace: Workspace, ref: str) -> ModelVersion:
    """Resolve ``name``, ``name/3`` or ``name@alias``; unknown parts list what exists."""
    name, sep, tail = _parse_ref(ref)

    def read(con: duckdb.DuckDBPyConnection) -> ModelVersion:
        if sep == "@":
            rows = con.execute(
                "SELECT version FROM model_aliases WHERE name = ? AND alias = ?", [name, tail]
            ).fetchall()
            if not rows:
                _raise_unknown(con, name, alias=tail)
            version: int | None = int(rows[0][0])
        else:
            version = int(tail) if sep == "/" and tail else None
        if version is None:
            found = con.execute(
                f"SELECT {_COLUMNS} FROM model_versions WHERE name = ? ORDER BY version DESC "
                "LIMIT 1",
                [name],
            ).fetchall()
        else:
            found = con.execute(
                f"SELECT {_COLUMNS} FROM model_versions WHERE name = ? AND version = ?",
                [name, version],
            ).fetchall()
        if not found:
            _raise_unknown(con, name, version=version)
        aliases = tuple(
            r[0]
            for r in con.execute(
                "SELECT alias FROM model_aliases WHERE name = ? AND version = ? ORDER BY alias",
                [name, found[0][1]],
            ).fetchall()
        )
        return _version(found[0], aliases)

    return workspace.catalog.transaction(read)


def _raise_unknown(
    con: duckdb.DuckDBPyConnection, name: str, *, version: int | None = None,
    alias: str | None = None,
) -> None:  # fmt: skip
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


def promote(
    workspace: Workspace, name: str, version: int, *, alias: str, reason: str,
    by: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Point ``alias`` at ``version``, appending to the alias history."""
    if not re.fullmatch(r"[A-Za-z_][\w-]{0,63}", alias or ""):
        raise InvalidInputError(f"Invalid alias {alias!r}: letters, digits, '_' or '-'.")
    if not reason or not reason.strip():
        raise InvalidInputError("Give a reason for moving the alias (it is kept in its history).")
    who = by or getpass.getuser()

    def write(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
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
            [name, alias, previous, version, who, reason.strip()],
        )
        return {"name": name, "alias": alias, "from": previous, "to": version, "by": who}

    return workspace.catalog.transaction(write)


def alias_history(workspace: Workspace, name: str) -> list[dict[str, Any]]:
    return workspace.catalog.read_dicts(
        "SELECT alias, from_version, to_version, changed_by, reason, "
        "strftime(changed_at, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS changed_at "
        "FROM alias_history WHERE name = ? ORDER BY changed_at, alias",
        [name],
    )


def list_models(workspace: Workspace) -> list[dict[str, Any]]:
    """Every model with its latest version, version count and aliases."""
    return workspace.catalog.read_dicts(
        "SELECT m.name, max(v.version) AS latest, count(v.version) AS versions, "
        "(SELECT list(a.alias || '=' || a.version ORDER BY a.alias) FROM model_aliases a "
        "WHERE a.name = m.name) AS aliases "
        "FROM models m JOIN model_versions v ON v.name = m.name GROUP BY m.name ORDER BY m.name"
    )
