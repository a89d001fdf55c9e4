"""Pushing events without a broker (Python and REST) writes as the consumer does; stream
declarations (mlops_lab.yaml and Python) and the CLI around them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab import init_workspace
from mlops_lab.errors import InvalidInputError, WorkspaceConfigError
from mlops_lab.features.serving import OnlineFeatureReader
from mlops_lab.features.stream_apply import StreamWriter
from mlops_lab.features.stream_online_rows import decode_events
from mlops_lab.workspace import Workspace
from tests.cli_runner import run_cli
from tests.streaming.support import FEATURES, VIEW, make_events, make_view, offline_ids, reference


def test_push_a_frame_twice_writes_each_event_once(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    events = make_events(200, now=now)
    frame = pd.DataFrame(events)
    frame["event_at"] = pd.to_datetime(frame["event_at"], utc=True)

    first = workspace.features.push(VIEW, frame, id_column="tx_id")
    assert (first["applied"], first["duplicates"], first["refused"]) == (200, 0, [])
    second = workspace.features.push(VIEW, frame, id_column="tx_id")
    assert (second["applied"], second["duplicates"], second["part"]) == (0, 200, None)
    assert sorted(offline_ids(workspace)) == sorted(e["tx_id"] for e in events)

    at = datetime.now(UTC)
    got = OnlineFeatureReader(workspace, FEATURES).get({"customer_id": "c3"}, as_of=at)
    expected = reference(history, events, "c3", at)
    assert {k: got[k] for k in expected} == pytest.approx(expected)


def test_push_refuses_naive_times_and_plain_views_clearly(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    make_view(workspace, now=now)
    naive = pd.DataFrame(make_events(2, now=now))
    naive["event_at"] = pd.to_datetime(naive["event_at"], utc=True).dt.tz_localize(None)
    result = workspace.features.push(VIEW, naive)
    assert result["applied"] == 0
    assert [r["index"] for r in result["refused"]] == [0, 1]
    assert "has no zone" in result["refused"][0]["reason"]

    workspace.features.register_feature_view(
        "plain", entity="customer", source="transactions", timestamp="event_at"
    )
    with pytest.raises(InvalidInputError, match="window views only"):
        workspace.features.push("plain", make_events(1, now=now))
    with pytest.raises(InvalidInputError, match="only window views are streamed"):
        workspace.features.declare_stream("plain", "redis://127.0.0.1:6379/0?stream=tx")
    with pytest.raises(InvalidInputError, match="Invalid stream source"):
        workspace.features.declare_stream(VIEW, "kafka://broker:9092?topic=tx")


def test_streams_are_declared_in_the_yaml_or_from_python(workspace: Workspace) -> None:
    make_view(workspace, now=datetime.now(UTC))
    declared = workspace.features.declare_stream(
        VIEW, "redis://127.0.0.1:6379/0?stream=tx", id_column="tx_id"
    )
    assert declared["declared_in"] == "catalog"
    status = workspace.features.streams()
    assert [s["view"] for s in status] == [VIEW]
    assert status[0]["source"] == "redis://127.0.0.1:6379/0?stream=tx"
    assert status[0]["consumers_running"] == 0

    config = workspace.root / "mlops_lab.yaml"
    config.write_text(
        config.read_text() + "streams:\n  spend:\n    source: nats://127.0.0.1:4222?subject=tx\n"
    )
    reopened = Workspace(workspace.root)
    [entry] = reopened.features.streams()
    assert entry["source"] == "nats://127.0.0.1:4222?subject=tx"  # the file wins
    assert entry["declaration"]["declared_in"] == "mlops_lab.yaml"

    config.write_text(config.read_text().replace("    source: nats", "    stream: nats"))
    [entry] = Workspace(workspace.root).features.streams()  # stream: names the source too
    assert entry["source"] == "nats://127.0.0.1:4222?subject=tx"

    config.write_text(config.read_text() + "    topic: tx\n")
    with pytest.raises(WorkspaceConfigError, match=r"streams.spend has unknown key\(s\) topic"):
        Workspace(workspace.root)


def test_a_view_registered_with_its_stream(workspace: Workspace) -> None:
    make_view(workspace, now=datetime.now(UTC))
    workspace.features.register_feature_view(
        "spend_1d",
        entity="customer",
        source="transactions",
        timestamp="event_at",
        aggregations=[{"column": "amount", "functions": ["sum"], "windows": ["1d"]}],
        stream="redis://127.0.0.1:6379/0?stream=tx",
        stream_id="tx_id",
    )
    [entry] = workspace.features.streams()
    assert (entry["view"], entry["declaration"]["id_column"]) == ("spend_1d", "tx_id")


def test_cli_ingest_needs_a_source_and_streams_lists_them(workspace: Workspace) -> None:
    make_view(workspace, now=datetime.now(UTC))
    code, _, err = run_cli("--workspace", str(workspace.root), "ingest", VIEW)
    assert code != 0 and "has no stream source: pass --source URL" in err
    code, _, err = run_cli("--workspace", str(workspace.root), "ingest", "--all")
    assert code != 0 and "No view has a declared stream" in err
    code, out, _ = run_cli("--workspace", str(workspace.root), "streams", "--json")
    assert code == 0 and json.loads(out) == {"streams": []}
    code, out, _ = run_cli("--workspace", str(workspace.root), "streams")
    assert "No streamed views" in out


async def _push(fetch: Any, view: str, body: Any, *, short: bool = False) -> Any:
    path = ("features", view, "push") if short else ("features", "views", view, "push")
    response = await fetch("mlops-lab", "api", *path, method="POST", body=json.dumps(body))
    return json.loads(response.body)


async def test_rest_push_writes_once_and_refuses_bad_requests(
    jp_fetch: Any, jp_root_dir: Path
) -> None:
    workspace = init_workspace(jp_root_dir)
    now = datetime.now(UTC)
    make_view(workspace, now=now)
    events = make_events(50, now=now)
    bad = dict(events[0], tx_id="late", event_at=(now + timedelta(days=1)).isoformat())

    done = await _push(jp_fetch, VIEW, {"events": [*events, bad], "id_column": "tx_id"})
    assert (done["received"], done["applied"], done["duplicates"]) == (51, 50, 0)
    assert done["refused"][0]["index"] == 50 and "in the future" in done["refused"][0]["reason"]
    again = await _push(jp_fetch, VIEW, {"events": events, "id_column": "tx_id"}, short=True)
    assert (again["applied"], again["duplicates"]) == (0, 50)
    assert len(offline_ids(workspace)) == 50

    for body, status, fragment in [
        ({"events": []}, 422, "events"),
        ({"rows": events}, 422, "rows"),
        ({"events": [{"a": 1}] * 10_001}, 422, "events"),
        ({"events": [{"pad": "x" * 2_000_000}]}, 413, "at most 1048576 bytes"),
    ]:
        with pytest.raises(HTTPClientError) as info:
            await _push(jp_fetch, VIEW, body)
        assert info.value.code == status, body.keys()
        assert info.value.response is not None
        assert fragment in info.value.response.body.decode()
    with pytest.raises(HTTPClientError) as info:
        await _push(jp_fetch, "nope", {"events": events})
    assert info.value.code == 404


@pytest.mark.parametrize("online", ["embedded", "redis"])
def test_pruning_drops_online_only_what_no_window_reads(
    workspace: Workspace, online: str, request: pytest.FixtureRequest
) -> None:
    if online == "redis":
        url = request.getfixturevalue("redis_url")
        config = workspace.root / "mlops_lab.yaml"
        config.write_text(config.read_text() + f"online_store: {url}\n")
        workspace = Workspace(workspace.root)
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)  # events 3 and 10 days old
    # the online store holds what windows as of the view's last event need: 10 days back
    eight_days = [
        dict(e, tx_id=f"old{i}", event_at=(now - timedelta(days=8, seconds=i)).isoformat())
        for i, e in enumerate(make_events(5, now=now, seed=1))
    ]
    events = make_events(300, now=now) + eight_days
    workspace.features.push(VIEW, events, id_column="tx_id")
    reader = OnlineFeatureReader(workspace, FEATURES)
    customers = [{"customer_id": f"c{i}"} for i in range(20)]
    before = reader.get_many(customers, as_of=now)
    old = now - timedelta(days=2)  # its 7-day windows reach 9 days back
    reader.get({"customer_id": "c1"}, as_of=old)

    writer = StreamWriter(workspace, VIEW, id_column="tx_id")
    dropped = writer.prune_online(margin_seconds=3600)
    writer.close()
    assert dropped == 5  # the 8-day-old events: no window as of now (or 1 h ago) reads them
    assert reader.get_many(customers, as_of=now) == before  # every window as of now: same
    for row, got in zip(customers, reader.get_many(customers, as_of=now), strict=True):
        expected = reference(history, events, row["customer_id"], now)
        assert {k: got[k] for k in expected} == pytest.approx(expected)
    with pytest.raises(InvalidInputError, match="need older ones"):
        reader.get({"customer_id": "c1"}, as_of=old)
    # A materialization covers the widest window before the table's last event (3 days
    # ago), so it moves the horizon back and reads the streamed parts at or before the
    # old one: the dropped events come back, and windows as of 2 days ago are right again.
    assert workspace.features.materialize(VIEW)["rows_written"] == 5
    again = OnlineFeatureReader(workspace, FEATURES)
    for row, got in zip(customers, again.get_many(customers, as_of=old), strict=True):
        expected = reference(history, events, row["customer_id"], old)
        assert {k: got[k] for k in expected} == pytest.approx(expected)


def test_events_of_equal_time_are_ordered_by_seq_online_as_offline(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    at = (now - timedelta(minutes=5)).isoformat()
    same = [
        {"tx_id": f"tie{i}", "customer_id": "c2", "event_at": at, "amount": float(10 + i)}
        for i in range(6)
    ]
    workspace.features.materialize(VIEW)
    reader = OnlineFeatureReader(workspace, FEATURES)
    reader.get({"customer_id": "c2"})  # the index is built before the events arrive
    for event in same:  # one at a time: each merge meets the earlier ones' equal time
        assert workspace.features.push(VIEW, [event], id_column="tx_id")["applied"] == 1
        got = reader.get({"customer_id": "c2"}, as_of=now)
        expected = reference(history, same[: same.index(event) + 1], "c2", now)
        assert {k: got[k] for k in expected} == pytest.approx(expected)
    frame = workspace.features.get_training_frame(
        pd.DataFrame({"customer_id": ["c2"], "event_timestamp": [pd.Timestamp(now)]}), FEATURES
    )
    assert frame.iloc[0]["amount_last_1h"] == reference(history, same, "c2", now)["amount_last_1h"]


def test_a_ledger_with_one_row_per_online_event_is_read_after_conversion(
    workspace: Workspace,
) -> None:
    """Ledgers written before the online rows went in batches (table online_v<n>, one
    SQLite row per event) are converted when a writer opens them; readers see the same."""
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    events = make_events(150, now=now)
    workspace.features.push(VIEW, events, id_column="tx_id")
    ledger = workspace.state_dir / "streams" / VIEW / "ledger.sqlite"
    con = sqlite3.connect(ledger, isolation_level=None)
    version = _batches_table(con)
    (blob,), *more = con.execute(f"SELECT events FROM {version}").fetchall()
    assert more == []  # one push: one batch
    table = decode_events(blob)
    number = int(version.removeprefix("online_batches_v"))
    held = [c for c in table.column_names if c not in ("k", "us", "seq")]
    con.execute(
        f"CREATE TABLE online_v{number} (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT NOT NULL, "
        f"us INTEGER NOT NULL, seq INTEGER NOT NULL{''.join(f', {c}' for c in held)})"
    )
    con.executemany(
        f"INSERT INTO online_v{number} (k, us, seq{''.join(f', {c}' for c in held)}) "
        f"VALUES (?, ?, ?{', ?' * len(held)})",
        zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True),
    )
    con.execute(f"DROP TABLE {version}")
    con.close()

    StreamWriter(workspace, VIEW, id_column="tx_id").close()  # opens the ledger: converts
    con = sqlite3.connect(ledger)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert f"online_v{number}" not in names and version in names
    assert con.execute(f"SELECT sum(rows) FROM {version}").fetchone()[0] == 150
    con.close()
    at = datetime.now(UTC)
    reader = OnlineFeatureReader(workspace, FEATURES)
    for customer in ("c1", "c7"):
        got = reader.get({"customer_id": customer}, as_of=at)
        expected = reference(history, events, customer, at)
        assert {k: got[k] for k in expected} == pytest.approx(expected)


def _batches_table(con: sqlite3.Connection) -> str:
    (name,) = con.execute(
        "SELECT name FROM sqlite_master WHERE name GLOB 'online_batches_v*'"
    ).fetchone()
    return str(name)
