"""Streaming ingestion through real brokers: applied events/s, freshness, SIGKILL + restart.

Run: .venv/bin/python benchmarks/streaming.py [--seconds 60 --rate 60000 --customers 20000]
     [--no-nats] [--no-redis] [--kill-at 0.5] [--online redis] [--probe-every 0.1]
     [--profile 100000]

Per broker (redis-server, and nats-server -js when it and mlops_lab's NATS source are
there; started here on free loopback ports in a temporary folder), in a fresh workspace
with a transactions dataset (5 events per customer, 2 h to 7 d old) and the window view
``spend`` (avg/max/min/sum/count of amount over 1h/1d/7d):

- a publisher process sends JSON events with unique ``tx_id`` (event time now) at
  ``--rate`` events/s (0: as fast as it can) for ``--seconds``, through
  ``open_source(url).publish`` in chunks of ``--chunk``, two chunks in flight;
- a consumer process runs ``Ingestor(...).run()`` (what ``mlops-lab ingest`` runs, with its
  collector settings, see ``mlops_lab/streaming/consumer_process.py``); at
  ``--kill-at`` of the run it is SIGKILLed and a second one (another consumer name) takes
  over: its predecessor's pending events are claimed after ``claim_idle=1000`` ms;
- this process publishes a marker event for the customer ``probe`` every ~100 ms and polls
  ``OnlineFeatureReader.get`` every 10 ms until the marker is counted (so a figure is at
  most 10 ms late): publish -> readable online (in
  the row of the consumer that made it readable: one pending at the SIGKILL counts for the
  restart, whose row shows what the kill cost);
- afterwards: events lost (published ids in no offline part) and applied twice (ids in
  more than one part row), and online: each customer's 1h count against what was published;
- then a backlog drain: ``--drain`` events published first, then one consumer (in this
  process) applies them: its own rate, with no publisher competing for the 2 cores.

Baseline side by side, the broker's own ceiling for the same number of events, no
processing: Redis ``XADD`` (the same chunks, packed in one write as ``publish`` does) then
``XREADGROUP`` (same batch, the raw reply as the consumer reads it) + ``XACK``; NATS
JetStream publish (pipelined, as ``publish`` does) then the source's own pull fetch + ack.

``--profile N`` instead publishes N events to Redis (NATS with ``--no-redis``) and prints
the top 25 functions (cumulative time, then own time) of one ``Ingestor.run`` over them,
in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _brokers import Broker, NatsBroker, RedisBroker
from _stream_consumer import STREAM, drain, profile, setup_workspace
from _stream_probe import Child, Probe, offline_counts, online_counts
from _stream_roles import payloads, reference_payload
from _table import print_table

from mlops_lab.catalog.lease import release_all


def _own(stats: dict[str, Any]) -> str:
    p50, p99 = stats.get("freshness_p50_ms"), stats.get("freshness_p99_ms")
    return "-" if p50 is None or p99 is None else f"{p50:.0f}/{p99:.0f}"


def _rate(events: int, seconds: float) -> str:
    return f"{events / seconds:,.0f}" if seconds > 0 else "-"


def _run(broker: Broker, root: Path, args: argparse.Namespace) -> tuple[list[list[str]], dict]:
    """One broker: ingest with a SIGKILL + restart, then its ceiling; rows and numbers."""
    ws = setup_workspace(root / "ws", args.customers, args.online_url)
    url = broker.url(STREAM)
    consumer = {
        "workspace": str(ws.root),
        "url": url,
        "batch": args.batch,
        "flush_every": args.flush_every,
    }
    first = Child("consume", {**consumer, "consumer": "bench-1"}, root / "consumer-1.log")
    if not first.ready.wait(120):
        raise RuntimeError(f"the consumer did not start: see {root / 'consumer-1.log'}")
    probe = Probe(ws, url)
    publisher = Child(
        "publish",
        {
            "url": url,
            "rate": args.rate,
            "seconds": args.seconds,
            "chunk": args.chunk,
            "customers": args.customers,
        },
        root / "publisher.log",
    )
    if not publisher.ready.wait(120):
        raise RuntimeError(f"the publisher did not start: see {root / 'publisher.log'}")
    killed: dict[str, Any] = {}

    def kill_and_restart() -> None:
        first.process.send_signal(signal.SIGKILL)
        killed["at"] = time.time()
        killed["second"] = Child(
            "consume",
            {**consumer, "consumer": "bench-2", "idle_exit": 3.0},
            root / "consumer-2.log",
        )

    timer = threading.Timer(args.kill_at * args.seconds, kill_and_restart)
    timer.start()
    probe.run(lambda: publisher.process.poll() is None, every=args.probe_every)
    publisher.wait(60)
    timer.join()
    first.wait(10)
    second: Child = killed["second"]
    drain = max(120.0, 2 * args.seconds)
    code = second.wait(drain)
    if code is None:
        print(
            f"! the restarted consumer had not caught up {drain:.0f} s after the publisher "
            "stopped: it was stopped, and what it had not applied counts as lost below"
        )
    elif code != 0:
        raise RuntimeError(f"the second consumer failed ({code}): see {root / 'consumer-2.log'}")
    published = int(publisher.last["published"])
    began, ended = publisher.last["began"], publisher.last["ended"]
    kill = killed["at"]
    off = offline_counts(ws, published, probe.sent, kill)
    few, many = online_counts(ws, published, probe.sent, args.customers)
    events = published + probe.sent
    ceiling = broker.ceiling(
        published, lambda s, c: payloads(s, c, args.customers), chunk=args.chunk, batch=args.batch
    )
    both = ceiling["publish"] + ceiling["consume"]
    total_s = off["last"] - began
    after = off["rows"] - off["before"]
    rows = [
        [
            f"ceiling: publish ({'XADD' if broker.name == 'redis' else 'JetStream publish'})",
            f"{published:,}",
            f"{ceiling['publish']:.1f}",
            _rate(published, ceiling["publish"]),
            *["-"] * 5,
        ],
        [
            "ceiling: consume ("
            + ("XREADGROUP + XACK" if broker.name == "redis" else "pull fetch + ack")
            + ")",
            f"{int(ceiling['read']):,}",
            f"{ceiling['consume']:.1f}",
            _rate(int(ceiling["read"]), ceiling["consume"]),
            *["-"] * 5,
        ],
        [
            "ceiling: publish + consume",
            f"{published:,}",
            f"{both:.1f}",
            _rate(published, both),
            *["-"] * 5,
        ],
        [
            "ingest: consumer 1, until SIGKILL",
            f"{off['before']:,}",
            f"{kill - began:.1f}",
            _rate(off["before"], kill - began),
            *probe.percentiles(0, kill),
            str(off["parts_before"]),
            "-",
            "-",
        ],
        [
            "ingest: consumer 2, restart + catch-up",
            f"{after:,}",
            f"{off['last'] - kill:.1f}",
            _rate(after, off["last"] - kill),
            *probe.percentiles(kill, float("inf")),
            str(off["parts"] - off["parts_before"]),
            "-",
            "-",
        ],
        [
            "ingest: whole run (offline / online)",
            f"{off['rows']:,}",
            f"{total_s:.1f}",
            _rate(off["rows"], total_s),
            *probe.percentiles(0, float("inf")),
            str(off["parts"]),
            f"{off['lost']} / {few}",
            f"{off['twice']} / {many}",
        ],
    ]
    _p50, p99 = probe.percentiles(0, kill)
    numbers = {
        "ingest": off["rows"] / total_s,
        "ceiling": published / both,
        "p99": float(p99) if p99 != "-" else None,
        "lost": off["lost"] + few,
        "twice": off["twice"] + many,
        "events": events,
        "ledger": off["ledger"],
        "publisher": f"{published:,} events in {ended - began:.1f} s "
        f"({published / (ended - began):,.0f}/s, target {args.rate or 'max'}); "
        f"{probe.sent} probes; ledger ids {off['ledger']:,}; the consumers' own freshness "
        f"(publish -> applied, per batch, p50/p99 ms): {_own(first.last)}, {_own(second.last)}",
    }
    return rows, numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=60_000, help="events/s; 0: as fast as possible")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=1_000, help="events per publish call")
    parser.add_argument("--batch", type=int, default=20_000, help="events per fetch, at most")
    parser.add_argument("--flush-every", type=float, default=60.0, help="seconds per version")
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of --seconds")
    parser.add_argument(
        "--online",
        choices=["embedded", "redis"],
        default="embedded",
        help="online store: the embedded DuckDB file, or a redis-server started here",
    )
    parser.add_argument(
        "--probe-every", type=float, default=0.1, help="seconds between markers; 0: no probe"
    )
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--no-nats", action="store_true")
    parser.add_argument("--profile", type=int, help="profile the consumer over N events")
    parser.add_argument(
        "--drain", type=int, default=300_000, help="events for the backlog drain row"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    _check_payloads(args.customers)
    root = Path(tempfile.mkdtemp(prefix="mlops-lab-streaming-bench-"))
    online = RedisBroker(root / "online") if args.online == "redis" else None
    args.online_url = None
    if online is not None:
        online.start()
        args.online_url = f"redis://127.0.0.1:{online.port}/0"
    try:
        if args.profile:
            profile(root, args)
        else:
            _all(root, args)
    finally:
        if online is not None:
            online.stop()
        release_all()  # this process's leases on the workspace files, before removing them
        if args.keep:
            print(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _check_payloads(customers: int) -> None:
    """The publisher's fast payloads are the bytes json.dumps writes (or the run stops)."""
    for index in [0, 1, 499, 500, 12_345, 2_999_999, 10**9]:
        made = payloads(index, 1, customers)[0]
        stamp = json.loads(made)["event_at"]
        if made != reference_payload(index, customers, stamp):
            raise SystemExit(f"payloads({index}) differs from json.dumps: {made!r}")


def _all(root: Path, args: argparse.Namespace) -> None:
    """Each broker's table, then the goals."""
    kinds: list[type[RedisBroker] | type[NatsBroker]] = []
    kinds += [] if args.no_redis else [RedisBroker]
    kinds += [] if args.no_nats else [NatsBroker]
    header = [
        "run",
        "events",
        "seconds",
        "events/s",
        "fresh p50 ms",
        "fresh p99 ms",
        "parts",
        "lost",
        "applied twice",
    ]
    goals: list[str] = []
    for kind in kinds:
        missing = kind.missing()
        print(f"\n== {kind.name} ==")
        if missing:
            print_table(header, [[f"{kind.name}: not available ({missing})", *["-"] * 8]])
            goals.append(f"SKIP {kind.name}: not available")
            continue
        broker = kind(root / kind.name / "broker")
        broker.start()
        try:
            rows, numbers = _run(broker, root / kind.name, args)
            drained, took = drain(broker, root / kind.name / "drain", args, args.drain)
        finally:
            broker.stop()
        rows.append(
            [
                "ingest: backlog drain (published first)",
                f"{drained:,}",
                f"{took:.1f}",
                _rate(drained, took),
                "-",
                "-",
                "-",
                "-",
                "-",
            ]
        )
        print_table(header, rows)
        print(f"publisher: {numbers['publisher']}")
        # The run's ingest is held to what the publisher offers (60,000/s): against a fast
        # broker's ceiling that would fail a consumer that kept up with all of it. The
        # consumer's own capacity is the faster of the run and the drain.
        capacity = max(numbers["ingest"], drained / took)
        ratio = numbers["ceiling"] / capacity
        checks = [
            (numbers["ingest"] >= 50_000, f"ingest {numbers['ingest']:,.0f}/s >= 50,000/s"),
            (
                drained / took >= 50_000,
                f"backlog drain {drained / took:,.0f}/s >= 50,000/s (no publisher beside it)",
            ),
            (
                ratio <= 3,
                f"broker ceiling / ingest = {ratio:.2f}x <= 3x (ingest: the faster of the "
                f"run and the drain, {capacity:,.0f}/s)",
            ),
            (
                numbers["p99"] is not None and numbers["p99"] < 1000,
                "freshness p99 "
                + ("not measured" if numbers["p99"] is None else f"{numbers['p99']:.0f} ms")
                + " < 1 s (consumer 1)",
            ),
            (numbers["lost"] == 0, f"events lost {numbers['lost']} == 0 (offline + online)"),
            (
                numbers["twice"] == 0,
                f"applied twice {numbers['twice']} == 0 (offline + online)",
            ),
        ]
        goals += [f"{'PASS' if ok else 'FAIL'} {kind.name}: {text}" for ok, text in checks]
    print(
        f"\n{os.cpu_count()} cores; --rate {args.rate} --seconds {args.seconds:g} "
        f"--customers {args.customers} --chunk {args.chunk} --batch {args.batch} "
        f"--kill-at {args.kill_at} --online {args.online}"
    )
    for line in goals:
        print(line)


if __name__ == "__main__":
    main()
