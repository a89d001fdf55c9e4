"""`mlops-lab serve` under load, from a second process on loopback (bounded in count and time).

Run: .venv/bin/python benchmarks/serving.py [--rate 500 --seconds 5 --connections 16]

Sets up the demo workspace (its pipeline trains and registers `churn`), starts
`mlops-lab serve churn@champion` as a child process, and drives `POST /predict`
for one entity per request (online features from the embedded store, the
rest in the body) over keep-alive connections:
- fixed rate (open loop: requests are sent on a schedule, latency counted from
  the scheduled time, so a slow server cannot hide queueing), and
- saturation (each connection sends its next request as soon as it has the answer),
with prediction logging on and off, after one unmeasured second of warm-up
at 200/s. Baseline side by side: the same model's
predict_proba called in this process on a prepared one-row frame (no HTTP, no
features lookup): the floor the service adds to. After SIGTERM the server's
count of logged predictions is compared with the 200 answers received.

At the edge (logging on): the p50 of one request at a time (the fast path)
before and after 100 poison bodies (valid but for one value: NaN, Infinity,
1e400 or a boolean for a number; each must be refused and change nothing),
`/health` latency while a 1,000-instance batch is predicted, and the time to
refuse a 250,000-instance body (413; `--skip-big` leaves it out, for servers
without the cap).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _table import print_table

from mlops_lab.datasets import load_dataset
from mlops_lab.demo import init_demo_workspace
from mlops_lab.models import load_model
from mlops_lab.pipelines import Runner, RunOptions, load_pipeline

OFFLINE = [
    "days_since_last",
    "tenure_days",
    "segment_consumer",
    "segment_enterprise",
    "segment_smb",
]


def _bodies(ws: Any, count: int) -> list[bytes]:
    frame = load_dataset(ws, "training_frame").set_index("customer_id")
    rng = random.Random(1)
    bought = set(load_dataset(ws, "transactions").customer_id)  # in the online store
    ids = [c for c in frame.index if c in bought]
    bodies = []
    for _ in range(count):
        customer = rng.choice(ids)
        row = frame.loc[customer]
        features = {c: (row[c].item() if hasattr(row[c], "item") else row[c]) for c in OFFLINE}
        bodies.append(
            json.dumps({"entity": {"customer_id": customer}, "features": features}).encode()
        )
    return bodies


def _request(port: int, body: bytes) -> bytes:
    return (
        f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"Content-Length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    await reader.readexactly(length)
    return status


async def _drive(
    port: int, bodies: list[bytes], *, rate: float | None, seconds: float, connections: int
) -> dict[str, Any]:
    """Open loop at ``rate`` (None: closed loop at saturation) for ``seconds``."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter() + 0.2
    total = int(rate * seconds) if rate else None
    counter = iter(range(10**9))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                index = next(counter)
                if total is not None:
                    if index >= total:
                        return
                    scheduled = start + index / rate  # type: ignore[operator]
                    delay = scheduled - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                else:
                    if time.perf_counter() - start > seconds:
                        return
                    scheduled = time.perf_counter()
                writer.write(_request(port, bodies[index % len(bodies)]))
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - scheduled)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - max(began, start)
    latencies.sort()
    return {
        "requests": len(latencies),
        "statuses": statuses,
        "rate": len(latencies) / elapsed,
        "p50": 1000 * latencies[len(latencies) // 2],
        "p99": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def _poison(bodies: list[bytes]) -> list[bytes]:
    """Valid bodies but for one value: NaN, Infinity, 1e400 or a boolean for a number."""
    out = []
    for index, literal in enumerate([b"NaN", b"Infinity", b"-Infinity", b"1e400", b"true"]):
        body = json.loads(bodies[index])
        body["features"]["tenure_days"] = "@POISON@"
        out.append(json.dumps(body).encode().replace(b'"@POISON@"', literal))
    return out


def _post(port: int, path: str, body: bytes) -> tuple[int, float]:
    import urllib.error
    import urllib.request

    start = time.perf_counter()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body or None)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        status = exc.code
    except OSError:
        status = 0
    return status, time.perf_counter() - start


def _edge(port: int, bodies: list[bytes], *, big: bool) -> tuple[list[list[str]], int]:
    """Poison bodies, /health during a large batch, and the largest body refused; the rows,
    and the predictions answered 200 (to compare with the log)."""
    import threading

    answers = [0]

    def one_at_a_time(label: str) -> list[str]:
        result = asyncio.run(_drive(port, bodies, rate=None, seconds=3, connections=1))
        answers[0] += result["statuses"].get(200, 0)
        return [
            label,
            "1 connection, sequential",
            f"{result['rate']:.0f}/s",
            f"{result['p50']:.2f}",
            f"{result['p99']:.2f}",
            str(sum(v for k, v in result["statuses"].items() if k != 200)),
        ]

    rows = [one_at_a_time("fast path, before poison")]
    poison = asyncio.run(_drive(port, _poison(bodies), rate=1000, seconds=0.1, connections=1))
    refused = sum(v for k, v in poison["statuses"].items() if 400 <= k < 500)
    rows.append(
        [
            "100 poison bodies",
            f"{refused} refused 4xx",
            "-",
            "-",
            "-",
            str(poison["requests"] - refused),
        ]
    )
    rows.append(one_at_a_time("fast path, after poison"))
    batch = b'{"instances": [' + b", ".join(bodies[:1000]) + b"]}"
    done = threading.Event()
    answered: list[tuple[int, float]] = []

    def send() -> None:
        answered.append(_post(port, "/predict", batch))
        done.set()

    threading.Thread(target=send, daemon=True).start()
    time.sleep(0.05)
    health = []
    while not done.is_set():
        health.append(_post(port, "/health", b"")[1])
        time.sleep(0.005)
    health.sort()
    rows.append(
        [
            "/health during a 1,000-instance batch",
            f"batch {answered[0][1]:.2f} s",
            f"{len(health)} calls",
            f"{1000 * health[len(health) // 2]:.2f}" if health else "-",
            f"{1000 * health[-1]:.2f} (max)" if health else "-",
            str(answered[0][0]) if answered[0][0] != 200 else "0",
        ]
    )
    if big:
        huge = b'{"instances": [' + b", ".join(bodies[i % len(bodies)] for i in range(250_000))
        huge += b"]}"
        status, seconds = _post(port, "/predict", huge)
        rows.append(
            [
                f"250,000-instance body ({len(huge) / 1e6:.0f} MB)",
                f"answered {status}",
                "-",
                f"{1000 * seconds:.0f}",
                "-",
                "0" if status == 413 else "1",
            ]
        )
    answers[0] += 1000 if answered[0][0] == 200 else 0
    return rows, answers[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(root: Path, port: int, *, log: bool, stderr: Any) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "mlops_lab",
        "--workspace",
        str(root),
        "serve",
        "churn@champion",
        "--port",
        str(port),
        *([] if log else ["--no-log"]),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start; see its log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-big", action="store_true", help="No 250,000-instance body.")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mlops-bench-serving-")) / "demo"
    rows = []
    try:
        ws = init_demo_workspace(root)
        Runner(ws, load_pipeline(ws, "churn"), RunOptions(jobs=2)).run()
        bodies = _bodies(ws, 2000)
        model = load_model(ws, "churn@champion")
        columns = [c["name"] for c in model.version.signature["inputs"]]
        frame = load_dataset(ws, "training_frame")[columns].head(1)
        samples = []
        for _ in range(500):
            t = time.perf_counter()
            model.model.predict_proba(frame)
            samples.append(time.perf_counter() - t)
        samples.sort()
        rows.append(
            [
                "baseline: predict_proba in process, 1 row",
                "-",
                "-",
                f"{1000 * samples[250]:.2f}",
                f"{1000 * samples[494]:.2f}",
                "-",
            ]
        )
        for log in (True, False):
            port = _free_port()
            server_log = root.parent / f"server-{log}.log"
            with server_log.open("w") as handle:
                process = _serve(root, port, log=log, stderr=handle)
            ok = 0
            try:
                # Warm up (not measured): first calls import and allocate.
                warm = asyncio.run(_drive(port, bodies, rate=200, seconds=1, connections=4))
                ok += warm["statuses"].get(200, 0)
                for label, rate, connections in (
                    (f"fixed {args.rate:g}/s", args.rate, args.connections),
                    ("saturation", None, 8),
                ):
                    result = asyncio.run(
                        _drive(
                            port, bodies, rate=rate, seconds=args.seconds, connections=connections
                        )
                    )
                    ok += result["statuses"].get(200, 0)
                    errors = sum(v for k, v in result["statuses"].items() if k != 200)
                    rows.append(
                        [
                            f"mlops-lab serve, logging {'on' if log else 'off'}",
                            label,
                            f"{result['rate']:.0f}/s",
                            f"{result['p50']:.2f}",
                            f"{result['p99']:.2f}",
                            str(errors),
                        ]
                    )
                if log:
                    edge, answered = _edge(port, bodies, big=not args.skip_big)
                    rows += edge
                    ok += answered
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
            stderr = server_log.read_text()
            if log:
                found = re.search(r"Predictions logged: (\d+) of (\d+)", stderr)
                written = int(found.group(1)) if found else -1
                rows.append(
                    [
                        "prediction log after SIGTERM",
                        "200 answers vs records",
                        f"{ok} / {written}",
                        "-",
                        "-",
                        str(ok - written),
                    ]
                )
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)
    print_table(["server", "load", "throughput", "p50 ms", "p99 ms", "non-200 / lost"], rows)
    print(
        f"\n{os.cpu_count()} cores; load generator: this process, {args.connections} "
        "keep-alive connections on 127.0.0.1."
    )


if __name__ == "__main__":
    main()
