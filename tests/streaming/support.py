"""Shared by the streaming tests: a window view over transactions, events to publish, a
Redis server that can be stopped and started again (its stream kept), the reference, a
catch-up consumer and the check of every customer's windows against the reference."""

from __future__ import annotations

import json
import random
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from mlops_lab.datasets import save_dataset
from mlops_lab.features.serving import OnlineFeatureReader
from mlops_lab.features.stream_events import event_seq
from mlops_lab.streaming import IngestOptions, Ingestor
from mlops_lab.workspace import Workspace

VIEW = "spend"
FEATURES = [
    f"{VIEW}:amount_{f}_{w}" for w in ("1h", "1d", "7d") for f in ("sum", "count", "max", "last")
]
# A catch-up run stops once it has received the events a test published (max_events); the
# idle exit is only a backstop, long enough for a slow fetch on a loaded CI machine.
IDLE = 30.0
WINDOWS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}


def make_view(workspace: Workspace, *, now: datetime, customers: int = 20) -> pd.DataFrame:
    """A transactions dataset (history: 2 events per customer, 3 and 10 days ago) and the
    window view ``spend`` over it; returns the history."""
    history = pd.DataFrame(
        {
            "tx_id": [f"h{i}-{k}" for i in range(customers) for k in range(2)],
            "customer_id": [f"c{i}" for i in range(customers) for _ in range(2)],
            "event_at": [
                now - timedelta(days=d, seconds=i) for i in range(customers) for d in (3, 10)
            ],
            "amount": [float(i + k) for i in range(customers) for k in range(2)],
            "channel": ["web"] * (2 * customers),
        }
    )
    save_dataset(workspace, "transactions", history)
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    store.register_feature_view(
        VIEW,
        entity="customer",
        source="transactions",
        timestamp="event_at",
        aggregations=[
            {
                "column": "amount",
                "functions": ["sum", "count", "max", "last"],
                "windows": list(WINDOWS),
            }
        ],
    )
    return history


def make_events(
    n: int, *, now: datetime, customers: int = 20, seed: int = 7, prefix: str = "e"
) -> list[dict[str, Any]]:
    """``n`` events with unique ids, times over the last 2 days in random (not time) order."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        at = now - timedelta(
            seconds=rng.randint(1, 2 * 86400), microseconds=rng.randint(0, 999_999)
        )
        events.append(
            {
                "tx_id": f"{prefix}{i}",
                "customer_id": f"c{rng.randrange(customers)}",
                "event_at": at.isoformat(),
                "amount": float(rng.randint(1, 500)),
                "channel": rng.choice(["web", "app"]),
            }
        )
    return events


def encode(events: list[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(e).encode() for e in events]


def reference(
    history: pd.DataFrame, events: list[dict[str, Any]], customer: str, at: datetime
) -> dict[str, Any]:
    """The window rule by hand (t - w < event_at <= t), each id once (the first wins);
    ``last`` by event time, then ``__seq`` (history rows before streamed events)."""
    rows: list[tuple[datetime, int, float]] = []
    for position, row in enumerate(history.sort_values("event_at").itertuples()):
        if row.customer_id == customer:
            rows.append((row.event_at.to_pydatetime(), position, row.amount))
    seen: set[str] = set()
    for event in events:
        if event["tx_id"] in seen:
            continue
        seen.add(event["tx_id"])
        if event["customer_id"] == customer:
            stamp = datetime.fromisoformat(event["event_at"]).astimezone(UTC)
            rows.append((stamp, event_seq(event["tx_id"]), event["amount"]))
    rows.sort()
    out: dict[str, Any] = {}
    for label, width in WINDOWS.items():
        inside = [r for r in rows if at - width < r[0] <= at]
        values = [r[2] for r in inside]
        out[f"amount_sum_{label}"] = sum(values) if values else None
        out[f"amount_count_{label}"] = len(values)
        out[f"amount_max_{label}"] = max(values) if values else None
        out[f"amount_last_{label}"] = values[-1] if values else None
    return out


def offline_ids(workspace: Workspace) -> list[str]:
    """Every event id in the view's offline parts (repeats included)."""
    parts = sorted((workspace.state_dir / "streams" / VIEW / "parts").glob("*.parquet"))
    return [
        i for p in parts for i in pq.read_table(p, columns=["__event_id"]).column(0).to_pylist()
    ]


class RedisServer:
    """redis-server on a free loopback port with an append-only file (fsync always), so
    it can be stopped and started again with its streams."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("redis-server")
        assert self.binary, "redis-server is not installed (apt-get install redis-server)"
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.binary is not None
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def applied_count(workspace: Workspace) -> int:
    """Events in the view's offline parts so far, from its ledger."""
    ledger = workspace.state_dir / "streams" / VIEW / "ledger.sqlite"
    if not ledger.exists():
        return 0
    try:
        with sqlite3.connect(ledger, timeout=30) as con:
            return int(con.execute("SELECT coalesce(sum(rows), 0) FROM parts").fetchone()[0])
    except sqlite3.OperationalError:  # its tables are being made
        return 0


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def ingestor(workspace: Workspace, url: str, **options: object) -> Ingestor:
    """A catch-up consumer of the view on ``url`` (batches of 400, no flush)."""
    return Ingestor(
        workspace,
        VIEW,
        source=url,
        id_column="tx_id",
        options=IngestOptions(**{"batch": 400, "flush_every": None, **options}),  # type: ignore[arg-type]
    )


def check_windows(
    workspace: Workspace, history: pd.DataFrame, events: list[dict], customers: int
) -> None:
    """Online windows as of now and the training frame as of the same time equal the
    reference, for every customer."""
    at = datetime.now(UTC)
    names = [f.split(":")[1] for f in FEATURES]
    reader = OnlineFeatureReader(workspace, FEATURES)
    rows = [{"customer_id": f"c{i}"} for i in range(customers)]
    online = reader.get_many(rows, as_of=at)
    frame = workspace.features.get_training_frame(
        pd.DataFrame(
            {
                "customer_id": [r["customer_id"] for r in rows],
                "event_timestamp": [pd.Timestamp(at)] * customers,
            }
        ),
        FEATURES,
    )
    for i, row in enumerate(rows):
        expected = reference(history, events, row["customer_id"], at)
        got_online = {n: online[i][n] for n in names}
        got_offline = {n: (None if pd.isna(frame.iloc[i][n]) else frame.iloc[i][n]) for n in names}
        assert got_online == pytest.approx(expected), row
        assert got_offline == pytest.approx(expected), row
