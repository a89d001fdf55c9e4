"""The monitoring loop end to end on the demo workspace (`make demo-loop` after `make demo`).

1. serve churn@champion on loopback;
2. send predictions for customers whose behaviour shifted (they went quiet:
   45 more days since their last purchase than in the training data);
   then `mlops-lab slo --once` judges the server against the project's serving SLO;
3. stop the server (its prediction log is flushed);
4. record the outcomes that "arrived" (a dataset of labels by customer);
5. `mlops-lab monitor` finds the drift, measures live metrics, appends the served requests
   with their outcomes (features as served) to the dataset `served_outcomes` and opens
   alerts;
6. `mlops-lab ct churn` retrains because of the alerts, on a new version of the training
   frame: the features stage appends the collected rows; the evaluate stage promotes the
   new version only if it passes the gate against the champion;
7. a progressive rollout of the gate's pick: a server serves `churn@production` (what
   takes live traffic; set to the champion from before the loop the first time) with
   `churn@champion` as challenger, and `mlops-lab rollout churn --to champion` moves the
   split 20%, 50%, 100% (2 s a step, under load), judging each step, then moves
   `production`; its decisions are printed with their numbers;
8. `mlops-lab status --lifecycle`: the project and the loops that fired.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from mlops_lab import Workspace, open_workspace
from mlops_lab.datasets import load_dataset, save_dataset
from mlops_lab.errors import NotFoundError
from mlops_lab.models import get_model_version, promote
from mlops_lab.serving.served_rows import new_training_data

OFFLINE = [
    "days_since_last",
    "tenure_days",
    "segment_consumer",
    "segment_enterprise",
    "segment_smb",
]


def _cli(root: Path, *args: str) -> None:
    print("$ mlops-lab " + " ".join(args), flush=True)
    subprocess.run(
        [sys.executable, "-m", "mlops_lab", "--workspace", str(root), *args], check=False
    )


def _serve(root: Path, *refs: str) -> tuple[subprocess.Popen[bytes], int]:
    """`mlops-lab serve REFS` on a free loopback port, once /health answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "mlops_lab", "--workspace", str(root), "serve", *refs]
    server = subprocess.Popen([*command, "--port", str(port)])
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    return server, port


def main(root: Path) -> None:
    ws = open_workspace(root)
    before = get_model_version(ws, "churn@champion").version
    server, port = _serve(root, "churn@champion")
    try:
        frame = load_dataset(ws, "training_frame")
        bought = set(load_dataset(ws, "transactions").customer_id)
        served = frame[frame.customer_id.isin(bought)].head(500)
        for row in served.itertuples():
            features = {c: float(getattr(row, c)) for c in OFFLINE}
            features["days_since_last"] += 45  # the injected shift
            body = json.dumps(
                {"entity": {"customer_id": row.customer_id}, "features": features}
            ).encode()
            request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=body)
            urllib.request.urlopen(request, timeout=5).read()
        print(f"sent {len(served)} predictions with the injected shift", flush=True)
        # CM of system health: the server's p99 and error rate against the project's SLO.
        _cli(root, "slo", "--url", f"http://127.0.0.1:{port}", "--once", "--every", "1s")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    save_dataset(ws, "outcomes", served[["customer_id", "churned"]])
    _cli(
        root,
        *("monitor", "churn@champion", "--outcomes", "outcomes", "--label", "churned"),
        *("--collect", "served_outcomes"),
    )
    _cli(root, "alerts", "list")
    _cli(root, "ct", "churn")
    _report(ws, before)
    _rollout(root, ws, before)
    _cli(root, "status", "--lifecycle")


def _rollout(root: Path, ws: Workspace, before: int | None) -> None:
    """Roll the gate's champion out to `churn@production` on a live server, under load."""
    try:
        production = get_model_version(ws, "churn@production").version
    except NotFoundError:
        production = before
        promote(
            ws,
            "churn",
            int(production or 0),
            alias="production",
            reason="the demo: what takes live traffic, moved by rollouts",
            by="demo-loop",
        )
    champion = get_model_version(ws, "churn@champion").version
    if champion == production:
        print(f"churn@production is already v{production}, the champion: nothing to roll out")
        return
    server, port = _serve(root, "churn@production", "--challenger", "churn@champion")
    stop = threading.Event()
    frame = load_dataset(ws, "training_frame").head(1000)

    def load() -> None:  # live traffic, bounded: one request at a time, 5 ms apart
        rows = frame.to_dict("records")
        while not stop.is_set():
            for row in rows:
                if stop.is_set():
                    break
                features = {c: float(row[c]) for c in OFFLINE}
                body = json.dumps(
                    {"entity": {"customer_id": row["customer_id"]}, "features": features}
                )
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/predict", data=body.encode()
                )
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(request, timeout=5).read()
                time.sleep(0.005)

    sender = threading.Thread(target=load, daemon=True)
    sender.start()
    try:
        _cli(
            root,
            *("rollout", "churn", "--to", "champion", "--steps", "20,50,100"),
            *("--interval", "2s", "--min-requests", "10"),
        )
    finally:
        stop.set()
        sender.join(10)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def _report(ws: Workspace, before: int | None) -> None:
    """What the CT run trained on, and what the gate decided."""
    latest = get_model_version(ws, "churn")
    learned = new_training_data(ws, latest.run_id) if latest.run_id else None
    if learned:
        print(
            f"churn/{latest.version} trained on {learned['dataset']}@{learned['version']}: "
            f"{learned['rows']} rows = {learned['previous']['rows'] if learned['previous'] else 0}"
            f" before + {learned['new']['rows']} served request(s) with outcomes "
            f"({learned['new']['from']} to {learned['new']['to']})"
        )
    else:
        print(f"churn/{latest.version} was not trained on served requests with outcomes")
    for decision, reason in ws.catalog.read(
        "SELECT decision, reason FROM comparisons WHERE model = 'churn' AND candidate = ? "
        "ORDER BY created_at DESC LIMIT 1",
        [latest.version],
    ):
        print(f"gate: {decision}: {reason}")
    after = get_model_version(ws, "churn@champion").version
    print(
        f"champion: version {before} before the loop, version {after} after "
        f"({'promoted by the gate' if after != before else 'kept: the gate did not pass'})"
    )


def _looped(root: Path) -> bool:
    """Whether a CT run already answered this workspace's alerts (the loop ran once)."""
    ws = open_workspace(root)
    return bool(ws.catalog.read_value("SELECT count(*) FROM runs WHERE trigger = 'ct'"))


if __name__ == "__main__":
    # --first: run the loop only on a workspace where it never ran (`make demo` uses it,
    # so a second `make demo` finds everything done instead of serving and retraining again).
    args = [a for a in sys.argv[1:] if a != "--first"]
    folder = Path(args[0] if args else "demo-workspace").resolve()
    if "--first" in sys.argv and _looped(folder):
        print(
            "the monitoring loop already ran in this workspace: see `mlops-lab status --lifecycle`"
        )
    else:
        main(folder)
