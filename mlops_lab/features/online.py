"""The online store: what serving needs to answer feature lookups fast.

For a plain view: the latest feature values per entity. For a window view: the
entity's events since the store's *horizon* (the events of the widest window
before the time materialized up to), from which each window is computed as of
the request time (see :mod:`mlops_lab.features.windows`); an entity whose
windows emptied reads count 0 / null without any write.

Two backends behind one small interface:

- embedded (default): a DuckDB file ``.mlops_lab/online.duckdb``, one table per
  view version; readers load it into an in-memory index (a dict from entity
  key to row, or to its events per column) that is reloaded when a
  materialization bumps the generation file, because one SQL query per lookup
  costs far more than 0.1 ms;
- Redis (``online_store: redis://host:port/db`` in mlops_lab.yaml): one hash per
  entity and plain view version; one value per entity and window view version
  holding its events (read for a whole batch with one MGET).

Materialization streams record batches from the view's Parquet table (it
never loads the table into memory). A plain row is only written when it is
newer than what the store holds, so backfills cannot move a value back in
time; an event is written once (keyed by its ``__seq``), so repeating a
materialization changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from mlops_lab.features.online_base import EntityEvents, OnlineStore
from mlops_lab.features.online_embedded import EmbeddedOnlineStore
from mlops_lab.features.online_redis import RedisOnlineStore

__all__ = [
    "EmbeddedOnlineStore",
    "EntityEvents",
    "OnlineStore",
    "RedisOnlineStore",
    "open_online_store",
]


def open_online_store(url: str | None, state_dir: Path) -> EmbeddedOnlineStore | RedisOnlineStore:
    if not url or url == "embedded":
        return EmbeddedOnlineStore(state_dir / "online.duckdb")
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisOnlineStore(url)
    from mlops_lab.errors import InvalidInputError

    raise InvalidInputError(
        f"Unknown online_store {url!r}: use 'embedded' (default) or a redis:// URL."
    )
