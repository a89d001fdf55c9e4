"""The ingest loop on NATS JetStream, with the real broker: each event applied once
(offline and online) whatever the duplicates and the order; a consumer SIGKILLed in the
middle of the stream loses nothing and counts nothing twice; two processes on one durable
consumer share the events."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
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
from mlops_lab.streaming import IngestOptions, Ingestor, open_source
from mlops_lab.workspace import Workspace

pytestmark = pytest.mark.timeout(120)

VIEW = "spend"
WINDOWS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}
FUNCTIONS = ["sum", "count", "max", "last"]
FEATURES = [f"{VIEW}:amount_{f}_{w}" for w in WINDOWS for f in FUNCTIONS]
CUSTOMERS = 12
REPO = Path(__file__).resolve().parents[2]


def _view(workspace: Workspace, now: datetime) -> pd.DataFrame:
    """The window view ``spend`` over a transactions dataset of 2 events per customer."""
    history = pd.DataFrame(
        {
            "tx_id": [f"h{i}-{k}" for i in range(CUSTOMERS) for k in range(2)],
            "customer_id": [f"c{i}" for i in range(CUSTOMERS) for _ in range(2)],
            "event_at": [
                now - timedelta(days=d, seconds=i) for i in range(CUSTOMERS) for d in (3, 10)
            ],
            "amount": [float(i + k) for i in range(CUSTOMERS) for k in range(2)],
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
        aggregations=[{"column": "amount", "functions": FUNCTIONS, "windows": list(WINDOWS)}],
    )
    return history


def _events(n: int, now: datetime, *, seed: int = 3) -> list[dict[str, Any]]:
    """``n`` events with unique ids over the last 2 days, in random (not time) order."""
    rng = random.Random(seed)
    return [
        {
            "tx_id": f"e{i}",
            "customer_id": f"c{rng.randrange(CUSTOMERS)}",
            "event_at": (now - timedelta(seconds=rng.uniform(1, 2 * 86400))).isoformat(),
            "amount": float(rng.randint(1, 500)),
        }
        for i in range(n)
    ]


def _publish(url: str, events: list[dict[str, Any]]) -> None:
    source = open_source(url, view=VIEW)
    try:
        source.publish([json.dumps(e).encode() for e in events])
    finally:
        source.close()


def _reference(
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
            stamp = datetime.fromisoformat(event["event_at"])
            rows.append((stamp, event_seq(event["tx_id"]), event["amount"]))
    rows.sort()
    out: dict[str, Any] = {}
    for label, width in WINDOWS.items():
        values = [r[2] for r in rows if at - width < r[0] <= at]
        out[f"amount_sum_{label}"] = sum(values) if values else None
        out[f"amount_count_{label}"] = len(values)
        out[f"amount_max_{label}"] = max(values) if values else None
        out[f"amount_last_{label}"] = values[-1] if values else None
    return out


def _offline_ids(workspace: Workspace) -> list[str]:
    """Every event id in the view's offline parts (repeats included)."""
    parts = sorted((workspace.state_dir / "streams" / VIEW / "parts").glob("*.parquet"))
    return [
        i for p in parts for i in pq.read_table(p, columns=["__event_id"]).column(0).to_pylist()
    ]


def _check_online(
    workspace: Workspace, history: pd.DataFrame, events: list[dict[str, Any]]
) -> None:
    at = datetime.now(UTC)
    reader = OnlineFeatureReader(workspace, FEATURES)
    for i in range(CUSTOMERS):
        got = reader.get({"customer_id": f"c{i}"}, as_of=at)
        expected = _reference(history, events, f"c{i}", at)
        assert {n: got[n] for n in expected} == pytest.approx(expected), f"c{i}"


def test_duplicates_and_out_of_order_events_are_applied_once_and_windows_equal_the_reference(
    workspace: Workspace, nats_url: str
) -> None:
    now = datetime.now(UTC)
    history = _view(workspace, now)
    events = _events(2_000, now)
    # republished: 200 exact copies, and 30 copies of an id with another amount (the first
    # one applied wins: an id is one event)
    copies = events[:200] + [{**e, "amount": 9999.0} for e in events[200:230]]
    published = events[:1_000] + copies + events[1_000:]
    url = f"{nats_url}?subject=tx"
    _publish(url, published)

    ingestor = Ingestor(
        workspace,
        VIEW,
        source=url,
        id_column="tx_id",
        options=IngestOptions(batch=500, flush_every=None),
    )
    stats = ingestor.run(idle_exit=0.5)

    assert (stats.received, stats.applied, stats.duplicates) == (len(published), 2_000, 230)
    assert stats.dead_letters == 0
    ids = _offline_ids(workspace)
    assert len(ids) == 2_000 and set(ids) == {e["tx_id"] for e in events}
    _check_online(workspace, history, published)
    lag = open_source(url, view=VIEW)
    try:
        assert lag.lag() == 0
    finally:
        lag.close()


# -- processes ---------------------------------------------------------------------------

_CONSUMER = """
import signal, sys
from mlops_lab.streaming import IngestOptions, Ingestor
from mlops_lab.workspace import Workspace

root, url, batch = sys.argv[1:4]
ingestor = Ingestor(
    Workspace(root), "spend", source=url, id_column="tx_id",
    options=IngestOptions(batch=int(batch), flush_every=None, report_every=0.2),
)
signal.signal(signal.SIGTERM, lambda *_: ingestor.stop())
stats = ingestor.run()
print(stats.received, stats.applied, stats.duplicates, flush=True)
"""


def _consumer(workspace: Workspace, url: str, *, batch: int) -> subprocess.Popen[str]:
    """An ingest process: until SIGTERM (then it prints received, applied, duplicates)."""
    return subprocess.Popen(
        [sys.executable, "-c", _CONSUMER, str(workspace.root), url, str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _applied(workspace: Workspace) -> int:
    """Events in the offline parts so far, from the ledger."""
    ledger = workspace.state_dir / "streams" / VIEW / "ledger.sqlite"
    if not ledger.exists():
        return 0
    try:
        with sqlite3.connect(ledger, timeout=30) as con:
            return int(con.execute("SELECT coalesce(sum(rows), 0) FROM parts").fetchone()[0])
    except sqlite3.OperationalError:  # its tables are being made
        return 0


def _running(workspace: Workspace) -> int:
    """Consumers that are connected (from their progress in the catalog)."""
    rows = workspace.catalog.read_dicts(
        "SELECT count(*) AS n FROM stream_consumers WHERE status = 'running'"
    )
    return int(rows[0]["n"])


def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _stopped(process: subprocess.Popen[str]) -> tuple[int, int, int]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    received, applied, duplicates = (int(v) for v in out.split())
    return received, applied, duplicates


def test_a_consumer_killed_mid_stream_loses_nothing_and_counts_nothing_twice(
    workspace: Workspace, nats_url: str
) -> None:
    now = datetime.now(UTC)
    history = _view(workspace, now)
    events = _events(3_000, now, seed=11)
    url = f"{nats_url}?subject=tx&claim_idle=500"
    _publish(url, events)

    first = _consumer(workspace, url, batch=100)
    _wait(lambda: _applied(workspace) >= 600)
    os.kill(first.pid, signal.SIGKILL)  # between batches or in the middle of one
    first.wait(10)
    done_before = _applied(workspace)
    assert 600 <= done_before < 3_000

    second = _consumer(workspace, url, batch=500)
    _wait(lambda: _applied(workspace) >= 3_000)
    received, applied, _ = _stopped(second)

    assert applied == 3_000 - done_before  # each event once over both lives
    assert received >= applied  # (the killed one's unacknowledged batch came again)
    ids = _offline_ids(workspace)
    assert Counter(ids).most_common(1)[0][1] == 1
    assert set(ids) == {e["tx_id"] for e in events}
    _check_online(workspace, history, events)


def test_two_processes_on_one_durable_share_the_events(workspace: Workspace, nats_url: str) -> None:
    now = datetime.now(UTC)
    history = _view(workspace, now)
    events = _events(4_000, now, seed=5)
    url = f"{nats_url}?subject=tx"
    one = _consumer(workspace, url, batch=200)
    two = _consumer(workspace, url, batch=200)
    _wait(lambda: _running(workspace) == 2)  # both connected, waiting for events
    _publish(url, events)
    _wait(lambda: _applied(workspace) >= 4_000)

    (r1, a1, d1), (r2, a2, d2) = _stopped(one), _stopped(two)

    assert a1 > 0 and a2 > 0  # each got some
    assert a1 + a2 == 4_000 and d1 + d2 == 0 and r1 + r2 == 4_000  # together all, once
    ids = _offline_ids(workspace)
    assert len(ids) == 4_000 and set(ids) == {e["tx_id"] for e in events}
    _check_online(workspace, history, events)
