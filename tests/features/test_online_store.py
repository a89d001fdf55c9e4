"""Online store: incremental materialization, lookups, freshness; embedded and real Redis."""

from __future__ import annotations

import socket

import pandas as pd
import pytest

from mlops_lab import Workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.errors import NotFoundError, OnlineStoreUnavailableError
from mlops_lab.features.online import RedisOnlineStore

T0 = pd.Timestamp("2026-03-01", tz="UTC")
H = pd.Timedelta(hours=1)


def _register(workspace: Workspace, events: pd.DataFrame) -> None:
    save_dataset(workspace, "tx", events)
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    store.register_feature_view(  # a plain view: the latest purchase
        "last_purchase",
        entity="customer",
        source="tx",
        timestamp="at",
        features=["amount"],
    )
    store.register_feature_view(  # a window view
        "spend",
        entity="customer",
        source="tx",
        timestamp="at",
        aggregations=[{"column": "amount", "functions": ["sum", "count"], "windows": ["1d"]}],
    )


EVENTS = pd.DataFrame(
    {
        "customer_id": ["a", "a", "b", "a", "b"],
        "at": [T0, T0 + H, T0 + H, T0 + 3 * H, T0 + 5 * H],
        "amount": [1.0, 2.0, 10.0, 4.0, 20.0],
    }
)
FEATURES = ["spend:amount_sum_1d", "spend:amount_count_1d"]
LATEST = ["last_purchase:amount"]


def test_materialize_then_read_latest_values(workspace: Workspace) -> None:
    _register(workspace, EVENTS)
    store = workspace.features
    with pytest.raises(NotFoundError, match="never materialized"):
        store.online_reader(LATEST)
    first = store.materialize("last_purchase", end=(T0 + 2 * H).to_pydatetime())
    assert first["rows_read"] == 3 and first["rows_written"] == 2
    reader = store.online_reader(LATEST)
    a, b, c = reader.get_many([{"customer_id": "a"}, {"customer_id": "b"}, {"customer_id": "zz"}])
    assert (a["amount"], b["amount"]) == (2.0, 10.0)
    assert c["amount"] is None and c["last_purchase__event_timestamp"] is None
    assert store.freshness() == {"last_purchase": (T0 + H).isoformat()}
    second = store.materialize("last_purchase")  # incremental: only what is new since the last
    assert second["rows_read"] == 2 and second["from"] == (T0 + H).isoformat()
    a, b = reader.get_many([{"customer_id": "a"}, {"customer_id": "b"}])  # the index refreshes
    assert a["amount"] == 4.0 and b["amount"] == 20.0
    assert store.freshness() == {"last_purchase": (T0 + 5 * H).isoformat()}
    # A backfill of old rows cannot move a value back in time.
    store.materialize("last_purchase", start=T0.to_pydatetime(), end=(T0 + H).to_pydatetime())
    assert reader.get({"customer_id": "a"})["amount"] == 4.0
    assert store.get_online_features([{"customer_id": "b"}], LATEST)[0]["amount"] == 20.0


def test_window_views_read_as_of_the_request_time(workspace: Workspace) -> None:
    _register(workspace, EVENTS)
    store = workspace.features
    first = store.materialize("spend", end=(T0 + 2 * H).to_pydatetime())
    assert first["rows_written"] == 3
    reader = store.online_reader(FEATURES)
    at = (T0 + 2 * H).to_pydatetime()
    a, b = reader.get_many([{"customer_id": "a"}, {"customer_id": "b"}], as_of=at)
    assert (a["amount_sum_1d"], a["amount_count_1d"], b["amount_sum_1d"]) == (3.0, 2, 10.0)
    assert a["spend__event_timestamp"] == at
    store.materialize("spend")  # the rest
    at = (T0 + 25 * H).to_pydatetime()  # a's first two purchases left the day
    a, b = reader.get_many([{"customer_id": "a"}, {"customer_id": "b"}], as_of=at)
    assert (a["amount_sum_1d"], a["amount_count_1d"], b["amount_sum_1d"]) == (4.0, 1, 20.0)
    # Now (the default): every window of this March data is empty, without any write.
    now = reader.get({"customer_id": "a"})
    assert (now["amount_sum_1d"], now["amount_count_1d"]) == (None, 0)


def test_redis_online_store(workspace: Workspace, redis_url: str) -> None:
    config = workspace.root / "mlops_lab.yaml"
    config.write_text(config.read_text() + f"online_store: {redis_url}\n")
    ws = Workspace(workspace.root)
    _register(ws, EVENTS)
    result = ws.features.materialize("last_purchase")
    assert result["store"] == redis_url and result["rows_written"] == 2
    a, b = ws.features.get_online_features([{"customer_id": "a"}, {"customer_id": "b"}], LATEST)
    assert (a["amount"], b["amount"]) == (4.0, 20.0)
    assert a["last_purchase__event_timestamp"] == (T0 + 3 * H).to_pydatetime()
    assert ws.features.freshness() == {"last_purchase": (T0 + 5 * H).isoformat()}
    assert ws.features.materialize("spend")["rows_written"] == 5
    reader = ws.features.online_reader(FEATURES)
    at = (T0 + 5 * H).to_pydatetime()
    a, b = reader.get_many([{"customer_id": "a"}, {"customer_id": "b"}], as_of=at)
    assert (a["amount_sum_1d"], b["amount_sum_1d"], b["amount_count_1d"]) == (7.0, 30.0, 2)
    assert reader.get({"customer_id": "a"})["amount_count_1d"] == 0  # as of now


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
