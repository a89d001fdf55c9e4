"""Online store: incremental materialization, lookups, freshness; embedded and real Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from mlops_lab import Workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.errors import NotFoundError
from mlops_lab.features.online import OnlineStoreUnavailableError, RedisOnlineStore

T0 = pd.Timestamp("2026-03-01", tz="UTC")
H = pd.Timedelta(hours=1)


def _register(workspace: Workspace, events: pd.DataFrame) -> None:
    save_dataset(workspace, "tx", events)
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    store.register_feature_view(
        "spend", entity="customer", source="tx", timestamp="at",
        aggregations=[{"column": "amount", "functions": ["sum", "count"], "windows": ["1d"]}],
    )  # fmt: skip


EVENTS = pd.DataFrame({
    "customer_id": ["a", "a", "b", "a", "b"],
    "at": [T0, T0 + H, T0 + H, T0 + 3 * H, T0 + 5 * H],
    "amount": [1.0, 2.0, 10.0, 4.0, 20.0],
})  # fmt: skip
FEATURES = ["spend:amount_sum_1d", "spend:amount_count_1d"]


def test_materialize_then_read_latest_values(workspace: Workspace) -> None:
    _register(workspace, EVENTS)
    store = workspace.features
    with pytest.raises(NotFoundError, match="never materialized"):
        store.online_reader(FEATURES)
    first = store.materialize("spend", end=(T0 + 2 * H).to_pydatetime())
    assert first["rows_read"] == 3 and first["rows_written"] == 2
    reader = store.online_reader(FEATURES)
    a, b, c = reader.get_many([{"customer_id": "a"}, {"customer_id": "b"}, {"customer_id": "zz"}])
    assert (a["amount_sum_1d"], a["amount_count_1d"]) == (3.0, 2)
    assert b["amount_sum_1d"] == 10.0
    assert c["amount_sum_1d"] is None and c["spend__event_timestamp"] is None
    assert store.freshness() == {"spend": (T0 + H).isoformat()}
    second = store.materialize("spend")  # incremental: only what is new since the last run
    assert second["rows_read"] == 2 and second["from"] == (T0 + H).isoformat()
    a, b = reader.get_many([{"customer_id": "a"}, {"customer_id": "b"}])  # the index refreshes
    assert a["amount_sum_1d"] == 7.0 and b["amount_sum_1d"] == 30.0
    assert store.freshness() == {"spend": (T0 + 5 * H).isoformat()}
    # A backfill of old rows cannot move a value back in time.
    store.materialize("spend", start=T0.to_pydatetime(), end=(T0 + H).to_pydatetime())
    assert reader.get({"customer_id": "a"})["amount_sum_1d"] == 7.0
    assert store.get_online_features([{"customer_id": "b"}], FEATURES)[0]["amount_count_1d"] == 2


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def test_redis_online_store(workspace: Workspace, redis_url: str) -> None:
    config = workspace.root / "mlops_lab.yaml"
    config.write_text(config.read_text() + f"online_store: {redis_url}\n")
    ws = Workspace(workspace.root)
    _register(ws, EVENTS)
    result = ws.features.materialize("spend")
    assert result["store"] == redis_url and result["rows_written"] == 2
    a, b = ws.features.get_online_features([{"customer_id": "a"}, {"customer_id": "b"}], FEATURES)
    assert (a["amount_sum_1d"], b["amount_sum_1d"]) == (7.0, 30.0)
    assert a["spend__event_timestamp"] == (T0 + 3 * H).to_pydatetime()
    assert ws.features.freshness() == {"spend": (T0 + 5 * H).isoformat()}


def test_unreachable_redis_is_a_clear_error_and_offline_still_works(workspace: Workspace) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here
    config = workspace.root / "mlops_lab.yaml"
    config.write_text(config.read_text() + f"online_store: redis://127.0.0.1:{port}/0\n")
    ws = Workspace(workspace.root)
    _register(ws, EVENTS)
    with pytest.raises(OnlineStoreUnavailableError, match=f"redis://127.0.0.1:{port}/0"):
        ws.features.materialize("spend")
    assert ws.catalog.read_value("SELECT count(*) FROM materializations") == 0
    entity = pd.DataFrame({"customer_id": ["a"], "event_timestamp": [T0 + 4 * H]})
    frame = ws.features.get_training_frame(entity, FEATURES)
    assert frame.amount_sum_1d.tolist() == [7.0]
    assert isinstance(RedisOnlineStore(f"redis://127.0.0.1:{port}/0").url, str)
