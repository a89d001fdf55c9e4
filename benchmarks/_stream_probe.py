"""What benchmarks/streaming.py measures with: its child processes (the publisher and the
consumers, see _stream_roles.py), the freshness probe, and the counts of events lost and
applied twice, offline (Parquet parts) and online (each customer's 1h count)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from _stream_roles import _MIX, VIEW

from mlops_lab import Workspace
from mlops_lab.features.serving import OnlineFeatureReader
from mlops_lab.streaming import open_source

ROLES = str(Path(__file__).with_name("_stream_roles.py"))
COUNT = "amount_count_1h"
POLL_SECONDS = 0.01


class Child:
    """A role process; its JSON lines are kept (the last one and the first 'ready')."""

    def __init__(self, role: str, settings: dict[str, Any], log: Path) -> None:
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, ROLES, role, json.dumps(settings)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.ready = threading.Event()
        self.last: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            data = json.loads(line)
            if data.get("ready"):
                self.ready.set()
            else:
                self.last = data

    def wait(self, timeout: float) -> int | None:
        """Its exit code; None when it was still running at ``timeout`` (then stopped)."""
        code: int | None
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)
            code = None
        self.thread.join(5)
        self.log.close()
        return code


class Probe:
    """Marker events for the customer 'probe': publish -> counted by an online read."""

    def __init__(self, ws: Workspace, url: str) -> None:
        self.source = open_source(url, view=VIEW, consumer="bench-probe")
        self.source.open()
        self.reader = OnlineFeatureReader(ws, [f"{VIEW}:{COUNT}"])
        self.samples: list[tuple[float, float]] = []  # (published at, seconds to visible)
        self.sent = 0

    def _count(self) -> int:
        return int(self.reader.get({"customer_id": "probe"})[COUNT] or 0)

    def run(self, running: Callable[[], bool], *, every: float = 0.1) -> None:
        """A marker every ``every`` seconds (0: none, only wait) while ``running()``."""
        while running() and not every:
            time.sleep(0.05)
        while running():
            tick = time.time()
            event = {
                "tx_id": f"q{self.sent}",
                "customer_id": "probe",
                "event_at": datetime.now(UTC).isoformat(),
                "amount": float(self.sent + 1),
            }
            self.source.publish([json.dumps(event).encode()])
            self.sent += 1
            while self._count() < self.sent:
                if time.time() - tick > 60:
                    break
                # Each read costs this process CPU the consumer could use; 10 ms apart, a
                # marker is seen at most 10 ms late (a 1 s goal).
                time.sleep(POLL_SECONDS)
            self.samples.append((tick, time.time() - tick))
            time.sleep(max(0.0, tick + every - time.time()))
        self.source.close()

    def percentiles(self, lo: float, hi: float) -> tuple[str, str]:
        """p50 and p99 (ms) of the markers that became readable in [lo, hi): a marker
        pending when a consumer is killed counts for the one that applies it."""
        values = sorted(s for t, s in self.samples if lo <= t + s < hi)
        if not values:
            return "-", "-"
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        return f"{values[len(values) // 2] * 1e3:.0f}", f"{p99 * 1e3:.0f}"


def offline_counts(ws: Workspace, published: int, probes: int, kill: float) -> dict[str, Any]:
    """What the offline parts and the ledger hold (lost, twice, applied over time)."""
    folder = ws.state_dir / "streams" / VIEW
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE TABLE got AS SELECT __event_id AS id, epoch_us(__ingested_at) / 1e6 AS ts, "
        f"filename AS part FROM read_parquet('{folder}/parts/*.parquet', filename = true)"
    )
    rows, distinct, last, parts = con.execute(
        "SELECT count(*), count(DISTINCT id), max(ts), count(DISTINCT part) FROM got"
    ).fetchone()  # type: ignore[misc]
    lost = con.execute(
        "SELECT count(*) FROM (SELECT 'p' || range AS id FROM range(?) UNION ALL "
        "SELECT 'q' || range FROM range(?)) e ANTI JOIN got USING (id)",
        [published, probes],
    ).fetchone()[0]  # type: ignore[index]
    before, parts_before = con.execute(
        "SELECT count(*), count(DISTINCT part) FROM got WHERE ts <= ?", [kill]
    ).fetchone()  # type: ignore[misc]
    con.close()
    ledger = sqlite3.connect(folder / "ledger.sqlite")
    ids = ledger.execute("SELECT coalesce(sum(rows), 0) FROM parts").fetchone()[0]
    ledger.close()
    return {
        "rows": rows,
        "twice": rows - distinct,
        "lost": lost,
        "last": last,
        "parts": parts,
        "before": before,
        "parts_before": parts_before,
        "ledger": ids,
    }


def online_counts(ws: Workspace, published: int, probes: int, customers: int) -> tuple[int, int]:
    """Each customer's 1h count (online, now) against the events published for it:
    (counted too few, counted too many), summed over customers."""
    index = np.arange(published, dtype=np.uint64)
    expected = np.bincount(
        ((index * np.uint64(_MIX)) % np.uint64(1 << 32) % np.uint64(customers)).astype(np.int64),
        minlength=customers,
    ).tolist()
    names = [f"c{i}" for i in range(customers)] + ["probe"]
    expected.append(probes)
    reader = OnlineFeatureReader(ws, [f"{VIEW}:{COUNT}"])
    rows = reader.get_many([{"customer_id": n} for n in names])
    got = [int(r[COUNT] or 0) for r in rows]
    few = sum(max(0, e - g) for e, g in zip(expected, got, strict=True))
    many = sum(max(0, g - e) for e, g in zip(expected, got, strict=True))
    return few, many
