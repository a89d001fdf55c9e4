"""The Redis online store takes window events from several writers at once (two stream
consumers, or one and a materialization) without losing any."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from mlops_lab.features.online import RedisOnlineStore


def _batch(writer: int, start: int, n: int) -> pa.RecordBatch:
    base = datetime(2026, 12, 1, tzinfo=UTC)
    return pa.RecordBatch.from_pydict(
        {
            "customer_id": [f"c{i % 5}" for i in range(start, start + n)],
            "amount": [float(i) for i in range(start, start + n)],
            "event_timestamp": [base + timedelta(seconds=i) for i in range(start, start + n)],
            "__seq": [writer * 1_000_000 + i for i in range(start, start + n)],
        }
    )


def test_concurrent_writers_lose_no_event(redis_url: str) -> None:
    horizon = datetime(2026, 1, 1, tzinfo=UTC)

    def write(writer: int) -> None:
        store = RedisOnlineStore(redis_url)  # a client of its own, as another process has
        for start in range(0, 400, 20):  # 20 small batches over the same 5 entities
            batch = _batch(writer, start, 20)
            store.write_events("spend", 1, ["customer_id"], iter([batch]), batch.schema, horizon)

    threads = [threading.Thread(target=write, args=(w,)) for w in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store = RedisOnlineStore(redis_url)
    until = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp() * 1e6)
    _, found = store.read_events(
        "spend", 1, ["customer_id"], [(f"c{i}",) for i in range(5)], ["amount"], 0, until
    )
    for events in found:
        assert events is not None
        times, _ = events["amount"]
        assert len(times) == 3 * 80  # every writer's 80 events of this entity
        assert times == sorted(times)
    # The same batch again adds nothing.
    batch = _batch(1, 0, 20)
    again = store.write_events("spend", 1, ["customer_id"], iter([batch]), batch.schema, horizon)
    assert again == 0
