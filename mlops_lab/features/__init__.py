"""The feature store: entities, versioned feature views with window aggregations,
point-in-time training frames and an online store for serving.

Window features follow one rule everywhere (see :mod:`mlops_lab.features.windows`):
a window ``w`` as of time ``t`` covers the events with ``t - w < event_time <= t``.

Get one from a workspace: ``store = mlops_lab.open_workspace().features``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mlops_lab.datasets import DatasetVersion, save_dataset
from mlops_lab.features.definitions import Aggregation, Entity, FeatureViewDefinition
from mlops_lab.features.queries import consumers, get_view, list_views, view_versions
from mlops_lab.features.registry import rebuild_view, register_entity, register_view
from mlops_lab.features.serving import OnlineFeatureReader, freshness, materialize
from mlops_lab.features.training import get_training_frame
from mlops_lab.features.versions import FeatureViewVersion
from mlops_lab.lineage import record_feature_use

if TYPE_CHECKING:
    from datetime import datetime

    import pandas as pd

    from mlops_lab.workspace import Workspace

__all__ = [
    "Aggregation",
    "Entity",
    "FeatureStore",
    "FeatureViewDefinition",
    "FeatureViewVersion",
    "OnlineFeatureReader",
]


class FeatureStore:
    """Register, discover and serve features of one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.workspace.root)!r})"

    # -- registration -------------------------------------------------------------------

    def register_entity(
        self, name: str, join_keys: Sequence[str], *, description: str = ""
    ) -> Entity:
        keys = (join_keys,) if isinstance(join_keys, str) else tuple(join_keys)
        return register_entity(
            self.workspace, Entity(name=name, join_keys=keys, description=description)
        )

    def register_feature_view(
        self,
        name: str,
        *,
        entity: str,
        source: str,
        timestamp: str = "event_timestamp",
        aggregations: Sequence[Aggregation | dict[str, Any]] = (),
        run_id: str | None = None,
        stream: str | None = None,
        stream_id: str | None = None,
        **options: Any,
    ) -> FeatureViewVersion:
        """Register (or re-register) a view; see :class:`FeatureViewDefinition` for options.

        ``source`` is a dataset name, or ``"name@3"`` to pin a version. ``transform`` is
        SQL over the relation ``source``, or a Python function from the source DataFrame to
        a DataFrame (its source code is recorded with the version). ``stream`` declares a
        window view's stream as well (see :meth:`declare_stream`; ``stream_id`` is its id
        column): events that `mlops-lab ingest` applies next to the source's versions.
        """
        source_name, _, pinned = source.partition("@")
        aggs = tuple(
            a
            if isinstance(a, Aggregation)
            else Aggregation(
                column=a["column"], functions=tuple(a["functions"]), windows=tuple(a["windows"])
            )
            for a in aggregations
        )
        for key in ("tags", "features"):
            if options.get(key) is not None:
                options[key] = tuple(options[key])
        python_transform = None
        if callable(options.get("transform")):
            python_transform = options.pop("transform")
            options["python_transform"] = _source_of(python_transform)
        definition = FeatureViewDefinition(
            name=name,
            entity=entity,
            source=source_name,
            source_version=int(pinned) if pinned else None,
            timestamp=timestamp,
            aggregations=aggs,
            **options,
        )
        view = register_view(
            self.workspace, definition, run_id=run_id, python_transform=python_transform
        )
        if stream is not None:
            self.declare_stream(name, stream, id_column=stream_id)
        return view

    # -- discovery ------------------------------------------------------------------------

    def get_feature_view(self, name: str, version: int | None = None) -> FeatureViewVersion:
        return get_view(self.workspace, name, version)

    def versions(self, name: str) -> list[FeatureViewVersion]:
        return view_versions(self.workspace, name)

    def list_feature_views(self, **filters: Any) -> list[dict[str, Any]]:
        return list_views(self.workspace, **filters)[0]

    def search(self, query: str, **filters: Any) -> list[dict[str, Any]]:
        return list_views(self.workspace, query=query, **filters)[0]

    def consumers(self, view: str) -> list[dict[str, Any]]:
        return consumers(self.workspace, view)

    # -- training -------------------------------------------------------------------------

    def get_training_frame(
        self, entity_df: pd.DataFrame, features: Sequence[str], **options: Any
    ) -> pd.DataFrame:
        return get_training_frame(self.workspace, entity_df, features, **options)

    def save_training_frame(self, name: str, frame: pd.DataFrame) -> DatasetVersion:
        """Save a frame from :meth:`get_training_frame` as a dataset version, recording
        which feature view versions and features it consumed."""
        used = frame.attrs.get("mlops_lab_features")
        if not used:
            from mlops_lab.errors import InvalidInputError

            raise InvalidInputError(
                "This frame does not come from get_training_frame (no feature lineage); "
                "save it with mlops_lab.datasets.save_dataset instead."
            )
        version = save_dataset(self.workspace, name, frame)

        def write(con: Any) -> None:
            record_feature_use(con, used, f"{name}@{version.version}")

        self.workspace.catalog.transaction(write)
        return version

    # -- online -----------------------------------------------------------------------------

    def materialize(
        self, view: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> dict[str, Any]:
        """Copy what is new of ``view`` into the online store (see serving.materialize)."""
        return materialize(self.workspace, view, start=start, end=end)

    def freshness(self) -> dict[str, str | None]:
        return freshness(self.workspace)

    # -- streaming ----------------------------------------------------------------------

    def declare_stream(
        self,
        view: str,
        source: str,
        *,
        id_column: str | None = None,
        max_future: str | int = "5m",
    ) -> dict[str, Any]:
        """Declare that window view ``view`` is fed by the stream at ``source`` (e.g.
        ``redis://127.0.0.1:6379/0?stream=transactions``); ``mlops-lab ingest VIEW``
        consumes it. ``id_column`` identifies an event (default: the hash of its JSON)."""
        from mlops_lab.features.streams import declare_stream

        return declare_stream(
            self.workspace, view, source, id_column=id_column, max_future=max_future
        ).to_dict()

    def push(
        self,
        view: str,
        events: pd.DataFrame | Sequence[Mapping[str, Any]],
        *,
        id_column: str | None = None,
    ) -> dict[str, Any]:
        """Write events into window view ``view`` without a broker, as a stream consumer
        does: online at once, offline as a Parquet part, each event id once. ``events``: a
        DataFrame or dicts with the source dataset's columns (times with a zone). Refused
        events are returned with their reason, not written."""
        import pandas as pd

        from mlops_lab.features.stream_apply import StreamWriter
        from mlops_lab.features.streams import declared_streams

        declared = declared_streams(self.workspace).get(view)
        writer = StreamWriter(
            self.workspace,
            view,
            id_column=id_column or (declared.id_column if declared else None),
            max_future=declared.max_future if declared else "5m",
        )
        try:
            if isinstance(events, pd.DataFrame):
                return writer.push_frame(events).to_dict()
            return writer.push(list(events)).to_dict()
        finally:
            writer.close()

    def streams(self) -> list[dict[str, Any]]:
        """Streamed views with their consumers' progress (rate, lag, dead letters...)."""
        from mlops_lab.features.streams import stream_status

        return stream_status(self.workspace)

    def online_reader(self, features: Sequence[str]) -> OnlineFeatureReader:
        """Resolve ``features`` once for repeated fast lookups (serving)."""
        return OnlineFeatureReader(self.workspace, features)

    def get_online_features(
        self,
        entity_rows: Sequence[dict[str, Any]],
        features: Sequence[str],
        *,
        as_of: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Per entity row: plain features' latest values, window features as of ``as_of``
        (default now; a timezone-aware time). Resolves the features on every call: for
        many calls keep an :meth:`online_reader`."""
        return self.online_reader(features).get_many(entity_rows, as_of=as_of)

    def rebuild_feature_view(self, name: str, version: int | None = None) -> FeatureViewVersion:
        """Recompute a view version's table from its pinned source (see rebuild_view)."""
        return rebuild_view(self.workspace, name, version)


def _source_of(function: Any) -> str:
    import inspect
    import textwrap

    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        name = getattr(function, "__qualname__", repr(function))
        return f"# source not available: {name}"
