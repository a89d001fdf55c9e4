"""``mlops-lab gc``: sweep killed writers' temp files, find (and remove) orphan blobs.

An *orphan* is a blob on disk that no catalog row (``artifacts``) records: left
by a process killed between writing a blob and committing its row, or by a
pipeline stage that failed after saving outputs. A blob written by a stage that
is still running is an orphan only until the stage commits, so removal spares
orphans newer than the oldest running run and younger than ``older_than``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from mlops_lab.artifacts.store import STALE_TEMP_SECONDS, ArtifactStore

__all__ = ["GcReport", "Orphan", "collect_garbage"]

_ACTIVE = "('running', 'queued', 'pending')"


@dataclass(frozen=True, kw_only=True)
class Orphan:
    hash: str
    size: int
    age_seconds: float
    removed: bool


@dataclass(frozen=True, kw_only=True)
class GcReport:
    temp_files_removed: int
    orphans: list[Orphan] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # catalog rows whose blob is gone
    stamps_removed: int = 0

    @property
    def orphan_bytes(self) -> int:
        return sum(o.size for o in self.orphans)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["orphan_bytes"] = self.orphan_bytes
        return data


def collect_garbage(
    store: ArtifactStore, *, remove_orphans: bool = False, older_than: float = STALE_TEMP_SECONDS
) -> GcReport:
    """Sweep stale temp files; report orphan blobs and, if asked, remove the old ones."""
    swept = store.clean_temp(older_than=older_than)
    known = {row[0] for row in store.catalog.read("SELECT hash FROM artifacts")}
    on_disk = {key.rsplit("/", 1)[1]: key for key in store.location.blob_keys()}
    active_since = _oldest_active_run(store)
    now = time.time()
    orphans = []
    for digest in sorted(set(on_disk) - known):
        size, modified = store.location.stat(on_disk[digest])
        age = max(0.0, now - modified)
        old = age >= older_than and (active_since is None or modified < active_since)
        # A row may have been committed since the listing: check again just before.
        removed = remove_orphans and old and not _registered(store, digest)
        if removed:
            store.location.remove(on_disk[digest])
        orphans.append(Orphan(hash=digest, size=size, age_seconds=round(age, 1), removed=removed))
    stamps = store.stamps
    stale_stamps = []
    if stamps is not None:
        removed_now = {o.hash for o in orphans if o.removed}
        stale_stamps = [d for d in stamps.stamped() if d not in on_disk or d in removed_now]
        stamps.forget(stale_stamps)
    return GcReport(
        temp_files_removed=swept,
        orphans=orphans,
        missing=sorted(known - set(on_disk)),
        stamps_removed=len(stale_stamps),
    )


def _registered(store: ArtifactStore, digest: str) -> bool:
    return bool(store.catalog.read_value("SELECT count(*) FROM artifacts WHERE hash = ?", [digest]))


def _oldest_active_run(store: ArtifactStore) -> float | None:
    sql = f"SELECT min(started_at) FROM runs WHERE status IN {_ACTIVE}"
    started = store.catalog.read_value(sql)
    return started.timestamp() if isinstance(started, datetime) else None
