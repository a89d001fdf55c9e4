"""What benchmarks/streaming.py runs in its own process: the benchmark's
workspace (a transactions dataset and the window view ``spend``, materialized), the
backlog drain (one consumer alone) and ``--profile``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _brokers import Broker, NatsBroker, RedisBroker
from _stream_roles import VIEW, payloads

from mlops_lab import Workspace, init_workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.features.serving import materialize
from mlops_lab.streaming import IngestOptions, Ingestor, open_source
from mlops_lab.streaming.consumer_process import tune_collector

FUNCTIONS = ["avg", "max", "min", "sum", "count"]
WINDOWS = ["1h", "1d", "7d"]
STREAM = "transactions"


def setup_workspace(root: Path, customers: int, online: str | None) -> Workspace:
    """A fresh workspace: the transactions dataset and the window view, materialized;
    ``online``: the online store's URL (None: the embedded store)."""
    ws = init_workspace(root)
    if online:
        config = ws.root / "mlops_lab.yaml"
        config.write_text(config.read_text() + f"\nonline_store: {online}\n")
        ws = Workspace(root)
    rng = np.random.default_rng(1)
    n = customers * 5
    now = pd.Timestamp.now(tz="UTC")
    history = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(customers) for _ in range(5)],
            "event_at": now - pd.to_timedelta(rng.integers(7200, 7 * 86400, n), unit="s"),
            "amount": np.round(rng.gamma(2.0, 20.0, n), 2),
            "tx_id": [f"h{i}" for i in range(n)],
        }
    )
    save_dataset(ws, "transactions", history)
    ws.features.register_entity("customer", ["customer_id"])
    ws.features.register_feature_view(
        VIEW,
        entity="customer",
        source="transactions",
        timestamp="event_at",
        aggregations=[{"column": "amount", "functions": FUNCTIONS, "windows": WINDOWS}],
    )
    materialize(ws, VIEW)
    return ws


def _backlog(
    url: str, root: Path, args: argparse.Namespace, events: int, consumer: str
) -> Ingestor:
    """A fresh workspace, ``events`` published to ``url`` first, and the consumer that will
    apply them (the collector set as mlops-lab ingest sets it)."""
    ws = setup_workspace(root / "ws", args.customers, args.online_url)
    source = open_source(url, view=VIEW, consumer="bench-publisher")
    source.open()
    for start in range(0, events, args.chunk):
        source.publish(payloads(start, min(args.chunk, events - start), args.customers))
    source.close()
    ingestor = Ingestor(
        ws,
        VIEW,
        source=url,
        id_column="tx_id",
        consumer=consumer,
        options=IngestOptions(batch=args.batch, flush_every=None),
    )
    tune_collector()
    return ingestor


def drain(broker: Broker, root: Path, args: argparse.Namespace, events: int) -> tuple[int, float]:
    """``events`` published first, then one Ingestor (in this process) applies them all:
    the consumer's own rate, without a publisher on the same 2 cores. Applied, seconds."""
    ingestor = _backlog(broker.url("drain"), root, args, events, "bench-drain")
    began = time.perf_counter()
    stats = ingestor.run(max_events=events, idle_exit=5.0)
    return stats.applied, time.perf_counter() - began


def profile(root: Path, args: argparse.Namespace) -> None:
    """Top 25 by cumulative time of one Ingestor.run over ``--profile`` events."""
    import cProfile
    import pstats

    broker: Broker = NatsBroker(root / "nats") if args.no_redis else RedisBroker(root / "redis")
    broker.start()
    try:
        ingestor = _backlog(broker.url(STREAM), root, args, args.profile, "bench-profile")
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        stats = ingestor.run(max_events=args.profile, idle_exit=1.0)
        profiler.disable()
        took = time.perf_counter() - began
        print(
            f"{stats.applied:,} events applied in {took:.1f} s ({stats.applied / took:,.0f}/s), "
            f"{stats.batches} batches of up to {args.batch}, {stats.parts} parts\n"
        )
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    finally:
        broker.stop()
