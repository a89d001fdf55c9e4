"""Streaming on the demo workspace (`make demo-stream` after `make demo`).

1. start redis-server on loopback (a throw-away folder) and declare it as the stream of
   the window view `customer_spend`;
2. start `mlops-lab ingest customer_spend` and `mlops-lab serve churn@champion`;
3. for a few customers: ask the server, publish a purchase into Redis, and ask again
   until the served windowed features include it; print how long that took;
4. stop both, and print `mlops-lab streams`.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlops_lab import open_workspace
from mlops_lab.datasets import load_dataset
from mlops_lab.features.serving import OnlineFeatureReader
from mlops_lab.streaming import open_source

VIEW = "customer_spend"
OFFLINE = [
    "days_since_last",
    "tenure_days",
    "segment_consumer",
    "segment_enterprise",
    "segment_smb",
]


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def _predict(port: int, customer: str, features: dict[str, float]) -> dict[str, Any]:
    body = json.dumps({"entity": {"customer_id": customer}, "features": features}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=body)
    answer: dict[str, Any] = json.loads(urllib.request.urlopen(request, timeout=5).read())
    return answer


def _mlops(root: Path, *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlops_lab", "--workspace", str(root), *args], **kwargs
    )


def main(root: Path) -> None:
    ws = open_workspace(root)
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise SystemExit("redis-server is not installed: make redis-server")
    folder = Path(tempfile.mkdtemp(prefix="mlops-lab-stream-"))
    redis_port, serve_port = _port(), _port()
    broker = subprocess.Popen(
        [
            redis_server,
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{redis_port}/0?stream=transactions"
    print(f"$ store.declare_stream({VIEW!r}, {url!r})", flush=True)
    ws.features.declare_stream(VIEW, url)
    ingest = _mlops(root, "ingest", VIEW, "--flush-every", "30s")
    server = _mlops(root, "serve", "churn@champion", "--port", str(serve_port))
    try:
        _wait_for(f"http://127.0.0.1:{serve_port}/health")
        source = open_source(url, view="demo-publisher")
        frame = load_dataset(ws, "training_frame")
        rng = random.Random(7)
        rows = frame.sample(5, random_state=7).itertuples()
        print(
            "\ncustomer   purchase   7d count before -> after   7d sum after   churn score "
            "before -> after   publish -> readable",
            flush=True,
        )
        reader = OnlineFeatureReader(ws, [f"{VIEW}:amount_count_7d", f"{VIEW}:amount_sum_7d"])
        for row in rows:
            features = {c: float(getattr(row, c)) for c in OFFLINE}
            entity = {"customer_id": row.customer_id}
            before = _predict(serve_port, row.customer_id, features)
            count = reader.get(entity)["amount_count_7d"]
            amount = round(rng.uniform(20, 400), 2)
            event = {
                "customer_id": row.customer_id,
                "event_at": datetime.now(UTC).isoformat(),
                "amount": amount,
            }
            published = time.perf_counter()
            source.publish([json.dumps(event).encode()])
            while (found := reader.get(entity))["amount_count_7d"] == count:
                if time.perf_counter() - published > 10:
                    raise SystemExit("the purchase did not reach the online store in 10 s")
                time.sleep(0.005)
            took = (time.perf_counter() - published) * 1000
            after = _predict(serve_port, row.customer_id, features)
            print(
                f"{row.customer_id:<10} {amount:>8.2f}   {count:>6} -> "
                f"{found['amount_count_7d']:<6}          {found['amount_sum_7d']:>10.2f}   "
                f"{before['score']:.3f} -> {after['score']:.3f}          {took:>6.0f} ms",
                flush=True,
            )
    finally:
        for process in (server, ingest):
            process.send_signal(signal.SIGTERM)
        for process in (server, ingest):
            process.wait(timeout=60)
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    print(flush=True)
    _mlops(root, "streams").wait()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "demo-workspace").resolve())
