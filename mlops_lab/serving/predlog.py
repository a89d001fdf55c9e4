"""Prediction logging off the request path: buffered in memory, flushed to Parquet in batches.

Each flush writes one part file ``<state>/predictions/<server>/part-<n>.parquet``
(time, request id, variant, model, version, entity, features, prediction, and the
online feature values served with the time they were computed as of: ``online``
maps ``view@version:feature`` to the value, ``features_at`` is the request time
the windows were computed as of; the consistency check recomputes them offline).
``close()`` flushes what is left, so a clean shutdown loses nothing; the
counts written are kept to prove it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["PredictionLog", "Record", "make_record", "read_predictions"]

log = logging.getLogger("mlops_lab.serving")

_COLUMNS = (
    "logged_at",
    "request_id",
    "variant",
    "model",
    "version",
    "entity",
    "features",
    "prediction",
    "online",
    "features_at",
)


Record = tuple[Any, ...]  # one row, in the order of _COLUMNS


def make_record(
    request_id: str,
    variant: str,
    model: str,
    version: int,
    entity: dict[str, Any],
    features: dict[str, Any],
    prediction: Any,
    *,
    online: dict[str, Any] | None = None,
    features_at: datetime | None = None,
) -> Record:
    """One prediction's row, built while the request is answered and logged once it is."""
    return (
        time.time(),
        request_id,
        variant,
        model,
        version,
        entity,
        features,
        prediction,
        online,
        features_at,
    )


class PredictionLog:
    def __init__(self, folder: Path, *, batch: int = 2000, interval: float = 0.25) -> None:
        import pyarrow.parquet  # noqa: F401 - imported now, not in the first flush's GIL time

        self.folder = folder  # created with the first part written: no empty folders
        self.batch = batch
        self.interval = interval
        self.appended = 0
        self.written = 0
        self.files = 0
        self._buffer: list[Record] = []
        self._closed = False
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlops-lab-predlog", daemon=True)
        self._thread.start()

    def append(
        self,
        request_id: str,
        variant: str,
        model: str,
        version: int,
        entity: dict[str, Any],
        features: dict[str, Any],
        prediction: Any,
        *,
        online: dict[str, Any] | None = None,
        features_at: datetime | None = None,
    ) -> None:
        """O(1) on the request path: a tuple into a list under a lock."""
        self.extend(
            [
                make_record(
                    request_id,
                    variant,
                    model,
                    version,
                    entity,
                    features,
                    prediction,
                    online=online,
                    features_at=features_at,
                )
            ]
        )

    def extend(self, records: list[Record]) -> None:
        """Buffer answered predictions (a whole batch at once); refused once closed, so a
        count returned by :meth:`close` is final."""
        if not records:
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("The prediction log is closed.")
            self._buffer.extend(records)
            self.appended += len(records)
            full = len(self._buffer) >= self.batch
        if full:
            threading.Thread(target=self.flush, daemon=True).start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> int:
        with self._flush_lock:
            with self._lock:
                records, self._buffer = self._buffer, []
            if not records:
                return 0
            try:
                self._write(records)
            except Exception:
                log.exception("mlops-lab serve: writing %d prediction records failed", len(records))
                with self._lock:
                    self._buffer[:0] = records
                return 0
            self.written += len(records)
            return len(records)

    def _write(self, records: list[tuple[Any, ...]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = list(zip(*records, strict=True))
        table = pa.table(
            {
                "logged_at": pa.array([t * 1_000_000 for t in columns[0]], pa.int64()).cast(
                    pa.timestamp("us", tz="UTC")
                ),
                "request_id": pa.array(columns[1], pa.string()),
                "variant": pa.array(columns[2], pa.string()),
                "model": pa.array(columns[3], pa.string()),
                "version": pa.array(columns[4], pa.int32()),
                "entity": pa.array([json.dumps(e, default=str) for e in columns[5]], pa.string()),
                "features": pa.array([json.dumps(f, default=str) for f in columns[6]], pa.string()),
                "prediction": pa.array([float(p) for p in columns[7]], pa.float64()),
                "online": pa.array(
                    [None if o is None else json.dumps(o, default=str) for o in columns[8]],
                    pa.string(),
                ),
                "features_at": pa.array(columns[9], pa.timestamp("us", tz="UTC")),
            }
        )
        self.files += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"part-{time.time_ns()}-{self.files:06d}.parquet"
        temporary = target.with_suffix(".tmp")
        pq.write_table(table, temporary)
        temporary.rename(target)  # readers never see a half-written part

    def close(self) -> dict[str, int]:
        """Stop the flusher and write everything still buffered."""
        with self._lock:
            self._closed = True
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
        return {"appended": self.appended, "written": self.written, "files": self.files}


def read_predictions(folder: Path, since: float | None = None) -> Any:
    """Every logged prediction under ``folder`` (all servers) as a DataFrame, oldest first."""
    import duckdb
    import pandas as pd

    parts = sorted(folder.glob("**/part-*.parquet"))
    if not parts:
        return pd.DataFrame(columns=list(_COLUMNS))
    con = duckdb.connect()
    try:
        where = "WHERE logged_at >= to_timestamp(?)" if since is not None else ""
        frame: pd.DataFrame = con.execute(
            f"SELECT * FROM read_parquet(?, union_by_name = true) {where} ORDER BY logged_at",
            [[str(p) for p in parts], *([since] if since is not None else [])],
        ).df()
    finally:
        con.close()
    return frame
