"""Workspaces: the folder holding ``mlops_lab.yaml`` and the ``.mlops_lab/`` state.

A workspace is found by, in order: an explicit path, the ``MLOPS_LAB_HOME``
environment variable, or walking up from the current directory to the first
folder holding ``mlops_lab.yaml``.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mlops_lab.artifacts import PARQUET, ArtifactStore, BlobLocation, register_artifact
from mlops_lab.artifacts.records import OCTET_STREAM
from mlops_lab.catalog import Catalog
from mlops_lab.catalog.lease import release
from mlops_lab.checkspec import ChecksSpecError, DatasetChecks, parse_dataset_checks
from mlops_lab.errors import (
    CatalogDamagedError,
    CatalogMissingError,
    NotACatalogError,
    WorkspaceConfigError,
    WorkspaceNotFoundError,
)
from mlops_lab.project import ProjectDefinition, ProjectError, parse_project

if TYPE_CHECKING:
    from mlops_lab.features import FeatureStore

__all__ = [
    "CONFIG_FILE",
    "ENV_HOME",
    "STATE_DIR",
    "Workspace",
    "WorkspaceConfig",
    "find_workspace",
    "init_workspace",
    "open_workspace",
    "repair_catalog",
    "write_config",
]

CONFIG_FILE = "mlops_lab.yaml"
STATE_DIR = ".mlops_lab"
ENV_HOME = "MLOPS_LAB_HOME"
CONFIG_VERSION = 1

_TEMPLATE = """\
# mlops-lab workspace. Docs: README.md of the mlops_lab package.
version: {version}
name: {name}
# Settings shared by every notebook, stage and panel of this workspace.
settings: {{}}
{project}# Pipelines of papermill stages (see `mlops-lab run --help`).
{pipelines}"""

_STATE_GITIGNORE = "# mlops-lab state: catalog and artifacts are not versioned by git\n*\n"


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True, kw_only=True)
class WorkspaceConfig:
    """The parsed contents of ``mlops_lab.yaml``."""

    version: int
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    pipelines: dict[str, Any] = field(default_factory=dict)
    # What `mlops-lab ci` checks besides the stages: {lint: {select, fail}}
    # (validated by mlops_lab.pipelines.lint when ci runs).
    ci: dict[str, Any] = field(default_factory=dict)
    online_store: str | None = None  # None: the embedded DuckDB store; else a redis:// URL
    # Streamed feature views: view -> {source: URL, id: column, max_future: duration}
    # (a bare URL string stands for {source: URL}); see mlops_lab.streaming.
    streams: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What the project is for (mlops_lab.project): None when the file has no project:.
    project: ProjectDefinition | None = None
    # Data checks of each dataset's versions (mlops_lab.checkspec): dataset -> its checks.
    datasets: dict[str, DatasetChecks] = field(default_factory=dict)


def _load_config(path: Path) -> WorkspaceConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkspaceConfigError(path, f"cannot be read ({exc.strerror})") from exc
    return _parse_config(path, text)


def _parse_config(path: Path, text: str) -> WorkspaceConfig:
    """``text`` as the workspace file ``path`` (named in every error)."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise WorkspaceConfigError(path, f"malformed YAML{where}: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WorkspaceConfigError(
            path, f"expected a mapping at the top, got {type(data).__name__}"
        )
    version = data.get("version", CONFIG_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise WorkspaceConfigError(path, f"'version' must be an integer, got {version!r}")
    if version > CONFIG_VERSION:
        raise WorkspaceConfigError(
            path,
            f"'version: {version}' is newer than this mlops-lab understands ({CONFIG_VERSION}); "
            "upgrade mlops_lab",
        )
    name = data.get("name", path.parent.name)
    if not isinstance(name, str) or not name:
        raise WorkspaceConfigError(path, f"'name' must be a non-empty string, got {name!r}")
    sections: dict[str, dict[str, Any]] = {}
    for key in ("settings", "pipelines", "ci"):
        value = data.get(key) or {}
        if not isinstance(value, dict):
            raise WorkspaceConfigError(
                path, f"'{key}' must be a mapping, got {type(value).__name__}"
            )
        sections[key] = value
    online = data.get("online_store", sections["settings"].get("online_store"))
    if online is not None and not isinstance(online, str):
        raise WorkspaceConfigError(path, f"'online_store' must be a URL string, got {online!r}")
    streams = _streams(path, data.get("streams") or {})
    project = None
    if data.get("project") is not None:
        try:
            project = parse_project(data["project"])
        except ProjectError as exc:
            raise WorkspaceConfigError(path, str(exc)) from exc
    try:
        datasets = parse_dataset_checks(data.get("datasets"))
    except ChecksSpecError as exc:
        raise WorkspaceConfigError(path, str(exc)) from exc
    return WorkspaceConfig(
        version=version,
        name=name,
        online_store=online,
        streams=streams,
        project=project,
        datasets=datasets,
        **sections,
    )


_STREAM_KEYS = ("source", "stream", "id", "max_future")  # stream: another name for source


def _streams(path: Path, value: Any) -> dict[str, dict[str, Any]]:
    """The ``streams:`` section, each entry as a mapping (its URL is checked on use)."""
    if not isinstance(value, dict):
        raise WorkspaceConfigError(path, f"'streams' must be a mapping, got {type(value).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for view, entry in value.items():
        spec = {"source": entry} if isinstance(entry, str) else entry
        if isinstance(spec, dict) and "stream" in spec and "source" not in spec:
            spec = {**{k: v for k, v in spec.items() if k != "stream"}, "source": spec["stream"]}
        if not isinstance(spec, dict) or not isinstance(spec.get("source"), str):
            raise WorkspaceConfigError(
                path, f"streams.{view} needs a source URL (source: redis://...?stream=NAME)"
            )
        unknown = sorted(set(spec) - set(_STREAM_KEYS))
        if unknown:
            raise WorkspaceConfigError(
                path,
                f"streams.{view} has unknown key(s) {', '.join(unknown)} "
                f"(known: {', '.join(_STREAM_KEYS)})",
            )
        out[str(view)] = dict(spec)
    return out


class Workspace:
    """An opened workspace: its folder, configuration, catalog and artifact store.

    Opening is cheap: the catalog file is only touched by the first service
    call, and no connection is held between calls.
    """

    def __init__(self, root: Path | str, *, config: WorkspaceConfig | None = None) -> None:
        """``config`` stands in for the file's (to check a change before it is written)."""
        self.root = Path(root).resolve()
        self.config = config if config is not None else _load_config(self.root / CONFIG_FILE)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def catalog_path(self) -> Path:
        return self.state_dir / "catalog.duckdb"

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.catalog_path, on_missing=self._refuse_missing_catalog)

    def _refuse_missing_catalog(self, path: Path) -> None:
        """A workspace whose catalog vanished while its artifacts remain is not silently emptied."""
        blobs = sum(1 for _ in self.blob_location().blob_keys())
        if blobs:
            raise CatalogMissingError(path, blobs)

    @cached_property
    def features(self) -> FeatureStore:
        """This workspace's feature store, built on first use.

        The feature store is a layer above the workspace (it loads pandas and
        pyarrow), so it is loaded here by name, like the stage-output kinds of
        :mod:`mlops_lab.manifest`: the workspace never imports it statically.
        """
        store: FeatureStore = import_module("mlops_lab.features").FeatureStore(self)
        return store

    @cached_property
    def artifacts(self) -> ArtifactStore:
        return ArtifactStore.opened(self.blob_location(), self.catalog)  # sweeps stale temps

    def blob_location(self) -> BlobLocation:
        """Where the workspace's blobs live (setting ``artifact_store``, else a local folder)."""
        url = self.config.settings.get("artifact_store") or str(self.state_dir / "artifacts")
        return BlobLocation(str(url))


def write_config(
    root: Path | str, text: str, *, check: Callable[[Workspace], object] | None = None
) -> None:
    """Replace the workspace's ``mlops_lab.yaml`` with ``text``, checked before it is replaced.

    ``text`` must parse with the loader every workspace uses, and pass ``check`` (given the
    workspace as it would be, e.g. to load a pipeline). It is written to a temporary file
    beside the old one, then moved over it at once (``os.replace``): a reader sees the old
    file or the new one, never half of it. A text that fails raises, leaving the file as it was.
    """
    path = Path(root).resolve() / CONFIG_FILE
    config = path.resolve()  # a symlinked file: its target is replaced
    candidate = _parse_config(path, text)
    if check is not None:
        check(Workspace(root, config=candidate))
    mode = stat.S_IMODE(config.stat().st_mode) if config.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{CONFIG_FILE}.", suffix=".tmp", dir=config.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, config)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _search_start(start: Path | str | None) -> tuple[Path, bool]:
    if start is not None:
        return Path(start).resolve(), False
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve(), True
    return Path.cwd().resolve(), False


def find_workspace(start: Path | str | None = None) -> Path:
    """Return the workspace root for ``start`` (see the module docstring for the order)."""
    origin, from_env = _search_start(start)
    if from_env:
        if (origin / CONFIG_FILE).is_file():
            return origin
        raise WorkspaceNotFoundError(origin, from_env=True)
    for folder in (origin, *origin.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise WorkspaceNotFoundError(origin)


def open_workspace(start: Path | str | None = None) -> Workspace:
    """Find and open the workspace that holds ``start`` (default: the current one)."""
    return Workspace(find_workspace(start))


def init_workspace(
    directory: Path | str = ".",
    *,
    name: str | None = None,
    pipelines: str | None = None,
    project: str | None = None,
    repair: bool = False,
) -> Workspace:
    """Create (or complete) a workspace in ``directory`` and its catalog.

    ``pipelines`` is the YAML of a ``pipelines:`` section for a new configuration, and
    ``project`` that of its ``project:`` section (see :mod:`mlops_lab.project`).
    An existing ``mlops_lab.yaml`` is never overwritten, so running this twice is safe.
    ``repair`` starts a new catalog for a workspace whose catalog is missing or
    damaged (see :func:`repair_catalog`).
    """
    root = Path(directory).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    config = root / CONFIG_FILE
    if not config.exists():
        workspace_name = name or root.name or "workspace"
        config.write_text(
            _TEMPLATE.format(
                version=CONFIG_VERSION,
                name=json.dumps(workspace_name),
                pipelines=pipelines or "pipelines: {}\n",
                project=project or "",
            ),
            encoding="utf-8",
        )
    state = root / STATE_DIR
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_STATE_GITIGNORE, encoding="utf-8")
    workspace = Workspace(root)
    if repair:
        repair_catalog(workspace)
    workspace.catalog.ensure_schema()
    return workspace


def repair_catalog(workspace: Workspace) -> dict[str, Any]:
    """Start a new catalog that keeps the workspace's stored artifacts.

    A damaged catalog (and its write-ahead log) is moved aside, never
    deleted. Every blob under the local artifact folder is registered again
    as an artifact (Parquet or bytes), so `mlops-lab gc` does not count it as
    an orphan; names and versions of what the old catalog held cannot be
    recovered from the blobs. A healthy catalog is left alone.
    """
    path = workspace.catalog_path
    moved: list[str] = []
    if path.exists():
        try:
            Catalog(path).ensure_schema()
            return {"repaired": False, "moved_aside": [], "artifacts_kept": 0}
        except (CatalogDamagedError, NotACatalogError):
            release(path)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for suffix in ("", ".wal"):
        old = Path(f"{path}{suffix}")
        if old.exists():
            aside = old.with_name(f"{old.name}.damaged-{stamp}")
            old.rename(aside)
            moved.append(str(aside))
    catalog = Catalog(path)
    catalog.ensure_schema()
    location = workspace.blob_location()
    blobs = []
    for key in sorted(location.blob_keys()):
        with location.open_read(key) as handle:
            media = PARQUET if handle.read(4) == b"PAR1" else OCTET_STREAM
        blobs.append((key.rsplit("/", 1)[-1], location.size(key), media))

    def adopt(con: Any) -> None:
        for digest, size, media in blobs:
            register_artifact(con, digest, size=size, media_type=media)

    catalog.transaction(adopt)
    return {"repaired": True, "moved_aside": moved, "artifacts_kept": len(blobs)}
