"""Redis Streams into a window view with the real broker: each event applied once (offline
and online) whatever the duplicates, the order, a crash or the broker going away; bad
events dead-lettered with their reasons; windows as of now equal the reference."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from mlops_lab.features.serving import OnlineFeatureReader
from mlops_lab.features.stream_apply import flush
from mlops_lab.streaming import IngestOptions, Ingestor, open_source
from mlops_lab.workspace import Workspace
from tests.cli_runner import run_cli
from tests.streaming.support import (
    IDLE,
    VIEW,
    RedisServer,
    applied_count,
    check_windows,
    encode,
    ingestor,
    make_events,
    make_view,
    offline_ids,
    wait_for,
)

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("online", ["embedded", "redis"])
def test_duplicates_and_out_of_order_events_are_applied_once_and_windows_equal_the_reference(
    workspace: Workspace, redis_url: str, online: str
) -> None:
    if online == "redis":  # the online store in another database of the same server
        config = workspace.root / "mlops_lab.yaml"
        config.write_text(config.read_text() + f"online_store: {redis_url[:-1]}1\n")
        workspace = Workspace(workspace.root)
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    events = make_events(3000, now=now)
    # republished: 300 exact copies, and 50 copies of an id with another amount (the
    # first one applied wins: an id is one event)
    copies = events[:300] + [{**e, "amount": 9999.0} for e in events[300:350]]
    published = events[:1500] + copies + events[1500:]
    url = f"{redis_url}?stream=tx"
    source = open_source(url, view=VIEW)
    source.open()
    source.publish(encode(published))

    stats = ingestor(workspace, url).run(max_events=len(published), idle_exit=IDLE)

    assert stats.received == len(published)
    assert stats.applied == 3000
    assert stats.duplicates == 350
    assert stats.dead_letters == 0
    ids = offline_ids(workspace)
    assert len(ids) == 3000 and set(ids) == {e["tx_id"] for e in events}
    assert source.lag() == 0
    check_windows(workspace, history, published, 20)

    # The same events again (a replay): nothing changes, offline or online.
    source.publish(encode(events[:1000]))
    again = ingestor(workspace, url).run(max_events=1000, idle_exit=IDLE)
    assert again.applied == 0 and again.duplicates == 1000
    assert len(offline_ids(workspace)) == 3000
    check_windows(workspace, history, published, 20)


def test_bad_events_go_to_the_dead_letter_stream_with_their_reasons(
    workspace: Workspace, redis_url: str
) -> None:
    now = datetime.now(UTC)
    make_view(workspace, now=now)
    good = make_events(5, now=now)
    base = dict(good[0], tx_id="bad")
    bad = [
        b"{not json",
        b"[1, 2]",
        json.dumps({k: v for k, v in base.items() if k != "customer_id"}).encode(),
        json.dumps(dict(base, amount="12.5")).encode(),
        json.dumps(dict(base, event_at="2026-11-30T10:00:00")).encode(),
        json.dumps(dict(base, event_at=(now + timedelta(days=2)).isoformat())).encode(),
        json.dumps(dict(base, customer_id=17)).encode(),
    ]
    url = f"{redis_url}?stream=tx"
    source = open_source(url, view=VIEW)
    source.open()
    source.publish(encode(good[:2]) + bad + encode(good[2:]))
    client = redis.Redis.from_url(redis_url)
    client.xadd("tx", {"something": "else"})  # an entry without an event field

    stats = ingestor(workspace, url).run(max_events=len(good) + len(bad) + 1, idle_exit=IDLE)

    assert stats.applied == 5
    assert stats.dead_letters == len(bad) + 1
    letters = client.xrange("tx:dead-letters")
    reasons = [fields[b"reason"].decode() for _, fields in letters]
    assert len(reasons) == len(bad) + 1
    expected = [
        "malformed JSON",
        "expected a JSON object, got list",
        "missing field 'customer_id'",
        "field 'amount': expected a number, got str",
        "has no zone",
        "in the future",
        "field 'customer_id': expected a string, got int",
        "malformed JSON",
    ]
    for reason, fragment in zip(reasons, expected, strict=True):
        assert fragment in reason
    assert letters[0][1][b"event"] == b"{not json"
    assert sorted(offline_ids(workspace)) == sorted(e["tx_id"] for e in good)
    assert client.xpending("tx", f"mlops-lab-{VIEW}")["pending"] == 0  # all acknowledged


def _consumer(workspace: Workspace, url: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlops_lab",
            "--workspace",
            str(workspace.root),
            "ingest",
            VIEW,
            "--source",
            url,
            "--id-column",
            "tx_id",
            "--flush-every",
            "never",
            "--quiet",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def test_a_consumer_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    workspace: Workspace, redis_url: str
) -> None:
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    events = make_events(20_000, now=now)
    url = f"{redis_url}?stream=tx&claim_idle=500"
    source = open_source(url, view=VIEW)
    source.open()
    source.publish(encode(events))

    first = _consumer(workspace, url, "--batch", "300")
    wait_for(lambda: applied_count(workspace) >= 3000)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    killed_at = applied_count(workspace)
    assert killed_at < 20_000

    second = _consumer(workspace, url, "--batch", "2000", "--idle-exit", "5")
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()

    ids = offline_ids(workspace)
    counts = Counter(ids)
    assert len(ids) == 20_000 and max(counts.values()) == 1  # none lost, none twice
    assert applied_count(workspace) == 20_000
    assert source.pending() == 0
    check_windows(workspace, history, events, 20)


def test_two_consumers_share_one_stream_each_event_once(
    workspace: Workspace, redis_url: str
) -> None:
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    events = make_events(20_000, now=now)
    url = f"{redis_url}?stream=tx"
    source = open_source(url, view=VIEW)
    source.open()
    consumers = [_consumer(workspace, url, "--batch", "500", "--idle-exit", "5") for _ in range(2)]
    time.sleep(1.0)  # both are reading before the events arrive
    for start in range(0, 20_000, 2000):
        source.publish(encode(events[start : start + 2000]))
    for process in consumers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()

    rows = workspace.catalog.read(
        "SELECT consumer, applied FROM stream_consumers WHERE view = ?", [VIEW]
    )
    assert len(rows) == 2
    assert all(applied > 0 for _, applied in rows)  # the work was shared
    assert sum(applied for _, applied in rows) == 20_000
    assert Counter(offline_ids(workspace)).most_common(1)[0][1] == 1
    assert len(offline_ids(workspace)) == 20_000
    check_windows(workspace, history, events, 20)


def test_broker_down_at_the_start_and_mid_stream_is_waited_for_and_nothing_is_lost(
    workspace: Workspace, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    events = make_events(3000, now=now)
    server = RedisServer(tmp_path / "redis")
    url = f"{server.url}?stream=tx"
    lines: list[str] = []
    ingestor = Ingestor(
        workspace,
        VIEW,
        source=url,
        id_column="tx_id",
        options=IngestOptions(batch=200, flush_every=None, max_backoff=0.5),
        say=lines.append,
    )
    thread = threading.Thread(target=ingestor.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: ingestor.stats.last_error is not None, 30)
        assert "cannot be reached" in ingestor.stats.last_error
        row = workspace.catalog.read(
            "SELECT status, last_error FROM stream_consumers WHERE view = ?", [VIEW]
        )[0]
        assert row[0] == "waiting" and "cannot be reached" in row[1]
        assert thread.is_alive()  # no crash: it waits

        server.start()
        source = open_source(url, view="publisher")
        source.publish(encode(events[:1500]))
        wait_for(lambda: ingestor.stats.applied == 1500)

        server.stop()  # mid-stream
        errors_before = len([line for line in lines if "retrying" in line])
        wait_for(lambda: len([line for line in lines if "retrying" in line]) > errors_before, 30)
        assert thread.is_alive()
        server.start()
        source = open_source(url, view="publisher")
        source.publish(encode(events[1500:]))
        wait_for(lambda: ingestor.stats.applied == 3000)
    finally:
        ingestor.stop()
        thread.join(30)
        server.stop()
    assert Counter(offline_ids(workspace)).most_common(1)[0][1] == 1
    assert len(offline_ids(workspace)) == 3000
    check_windows(workspace, history, events, 20)


def test_flush_cuts_a_dataset_version_that_training_frames_do_not_count_twice(
    workspace: Workspace, redis_url: str
) -> None:
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    events = make_events(1000, now=now)
    url = f"{redis_url}?stream=tx"
    source = open_source(url, view=VIEW)
    source.open()
    source.publish(encode(events[:600]))
    stats = ingestor(workspace, url, flush_rows=500).run(max_events=600, idle_exit=IDLE)
    assert stats.dataset_version == 2  # cut when 500 were streamed in
    versions = workspace.catalog.read(
        "SELECT version, row_count FROM dataset_versions WHERE name = 'transactions' "
        "ORDER BY version"
    )
    assert versions[-1][1] == len(history) + 600
    assert flush(workspace, VIEW) is None  # nothing new since

    # A new view version on the new dataset version: the flushed events are in its table,
    # the ones streamed after it come from the parts; none twice.
    workspace.features.register_feature_view(
        VIEW,
        entity="customer",
        source="transactions",
        timestamp="event_at",
        aggregations=[
            {
                "column": "amount",
                "functions": ["sum", "count", "max", "last"],
                "windows": ["1h", "1d", "7d"],
            }
        ],
    )
    source.publish(encode(events[600:]))
    ingestor(workspace, url).run(max_events=400, idle_exit=IDLE)
    check_windows(workspace, history, events, 20)


def test_an_online_store_down_at_the_start_is_waited_for(
    workspace: Workspace, redis_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    online = RedisServer(tmp_path / "online")
    config = workspace.root / "mlops_lab.yaml"
    config.write_text(config.read_text() + f"online_store: {online.url}\n")
    workspace = Workspace(workspace.root)
    events = make_events(500, now=now)
    url = f"{redis_url}?stream=tx"
    open_source(url, view=VIEW).publish(encode(events))
    ingestor = Ingestor(
        workspace,
        VIEW,
        source=url,
        id_column="tx_id",
        options=IngestOptions(batch=200, flush_every=None, max_backoff=0.5),
    )
    assert "online store" in (ingestor.stats.last_error or "")
    thread = threading.Thread(target=ingestor.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)
        assert thread.is_alive() and ingestor.stats.applied == 0
        online.start()
        wait_for(lambda: ingestor.stats.applied == 500, 30)
        ingestor.stop()
        thread.join(30)
        check_windows(workspace, history, events, 20)
    finally:
        ingestor.stop()
        online.stop()


def test_ingest_all_consumes_every_declared_stream(workspace: Workspace, redis_url: str) -> None:
    now = datetime.now(UTC)
    make_view(workspace, now=now)
    workspace.features.register_feature_view(
        "spend_web",
        entity="customer",
        source="transactions",
        timestamp="event_at",
        transform="SELECT * FROM source WHERE channel = 'web'",
        aggregations=[{"column": "amount", "functions": ["count"], "windows": ["7d"]}],
    )
    config = workspace.root / "mlops_lab.yaml"
    config.write_text(
        config.read_text()
        + f"streams:\n  {VIEW}:\n    source: {redis_url}?stream=tx\n    id: tx_id\n"
        + f"  spend_web: {redis_url}?stream=tx\n"
    )
    events = make_events(300, now=now)
    open_source(f"{redis_url}?stream=tx", view="publisher").publish(encode(events))

    args = ["--workspace", str(workspace.root), "ingest", "--all", "--idle-exit", "3"]
    code, out, err = run_cli(*args, "--flush-every", "never")

    assert code == 0, err
    assert f"{VIEW}: stopped after 300 events: 300 applied" in out
    assert "spend_web: stopped after 300 events: 300 applied" in out
    ws = Workspace(workspace.root)
    web = sum(1 for e in events if e["channel"] == "web" and e["customer_id"] == "c1")
    got = OnlineFeatureReader(ws, ["spend_web:amount_count_7d"]).get({"customer_id": "c1"})
    assert got["amount_count_7d"] == web + 1  # + the history event of 3 days ago (web)
    code, out, _ = run_cli("--workspace", str(workspace.root), "streams", "--json")
    rows = {r["view"]: r for r in json.loads(out)["streams"]}
    assert rows[VIEW]["applied"] == rows["spend_web"]["applied"] == 300
    assert rows[VIEW]["declaration"]["declared_in"] == "mlops_lab.yaml"
