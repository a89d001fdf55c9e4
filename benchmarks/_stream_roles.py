"""The child processes of benchmarks/streaming.py: the publisher and the consumer.

Run: python _stream_roles.py publish|consume '<JSON settings>'

Each prints JSON lines on stdout: the consumer one per progress report (its stats), the
publisher one at the end (how many it published and when). Kept apart so the consumer is
a process of its own, like ``mlops-lab ingest``, that the benchmark can SIGKILL.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

VIEW = "spend"
IN_FLIGHT = 2  # the publisher's chunks sent before the first is stored
_MIX = 2654435761  # Knuth's multiplicative hash: event i's customer, recomputable


def customer_of(index: int, customers: int) -> int:
    return (index * _MIX) % (1 << 32) % customers


def amount_of(index: int) -> float:
    return float(index % 500 + 1)


def payloads(start: int, count: int, customers: int) -> list[bytes]:
    """Events ``p<start>``..: unique ``tx_id``, event time now (microseconds apart).

    The bytes ``json.dumps`` gives (:func:`reference_payload`, checked by the benchmark at
    start), formatted from a template: json.dumps cost the publisher 7.5 us an event, a
    third of a core at 50,000/s taken from the consumer it measures; this takes 1.1 us."""
    stamp = json.dumps(datetime.now(UTC).isoformat())
    template = ('{"tx_id":"p%d","customer_id":"c%d","event_at":' + stamp + ',"amount":%r}').encode()
    return [
        template % (index, customer_of(index, customers), amount_of(index))
        for index in range(start, start + count)
    ]


def reference_payload(index: int, customers: int, stamp: str) -> bytes:
    """Event ``index`` as ``json.dumps`` writes it (what :func:`payloads` must equal)."""
    return json.dumps(
        {
            "tx_id": f"p{index}",
            "customer_id": f"c{customer_of(index, customers)}",
            "event_at": stamp,
            "amount": amount_of(index),
        },
        separators=(",", ":"),
    ).encode()


def publish(settings: dict[str, Any]) -> None:
    """At ``rate`` events/s (0: as fast as possible) for ``seconds``, in chunks, up to
    ``IN_FLIGHT`` chunks at once (``publish`` returns once the broker has stored its chunk:
    one at a time, a loaded broker's round trip would hold the offered rate down, as many
    producers of a real app would not)."""
    from mlops_lab.streaming import open_source

    source = open_source(settings["url"], view=VIEW, consumer="bench-publisher")
    source.open()
    print(json.dumps({"t": time.time(), "ready": True}), flush=True)
    rate, seconds, chunk = settings["rate"], settings["seconds"], settings["chunk"]
    customers = settings["customers"]
    sent = 0
    began = time.time()
    start = time.monotonic()
    pending: deque[Future[list[Any]]] = deque()
    with ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="publish") as pool:
        while True:
            elapsed = time.monotonic() - start
            if elapsed >= seconds:
                break
            wait = sent / rate - elapsed if rate else 0.0
            if wait > 0:  # the next chunk is not due yet
                time.sleep(min(wait, 0.05))
                continue
            while len(pending) >= IN_FLIGHT:
                pending.popleft().result()  # a failed publish stops the benchmark
            pending.append(pool.submit(source.publish, payloads(sent, chunk, customers)))
            sent += chunk
        for future in pending:
            future.result()
    ended = time.time()
    source.close()
    print(json.dumps({"published": sent, "began": began, "ended": ended}), flush=True)


def consume(settings: dict[str, Any]) -> None:
    """An ``mlops-lab ingest`` equivalent on the view, until idle for ``idle_exit`` s."""
    from mlops_lab import Workspace
    from mlops_lab.streaming import IngestOptions, Ingestor
    from mlops_lab.streaming.consumer_process import tune_collector

    ingestor: Ingestor | None = None

    def say(_text: str) -> None:
        if ingestor is not None:
            stats = ingestor.stats.to_dict()
            print(json.dumps({"t": time.time(), **stats}), flush=True)

    ingestor = Ingestor(
        Workspace(settings["workspace"]),
        VIEW,
        source=settings["url"],
        id_column="tx_id",
        consumer=settings["consumer"],
        options=IngestOptions(
            batch=settings["batch"], flush_every=settings["flush_every"], block_ms=100
        ),
        say=say,
    )
    tune_collector()  # as mlops-lab ingest does
    print(json.dumps({"t": time.time(), "ready": True}), flush=True)
    stats = ingestor.run(idle_exit=settings.get("idle_exit"))
    print(json.dumps({"t": time.time(), "final": True, **stats.to_dict()}), flush=True)


if __name__ == "__main__":
    {"publish": publish, "consume": consume}[sys.argv[1]](json.loads(sys.argv[2]))
