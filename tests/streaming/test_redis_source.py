"""The Redis Streams source itself: publishing, acknowledging, and the shapes of entry
it reads (its ingest behaviour is in test_redis_ingest.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import redis

from mlops_lab.errors import InvalidInputError
from mlops_lab.streaming import open_source
from mlops_lab.streaming.redis_streams import pack_xack, pack_xadds
from mlops_lab.workspace import Workspace
from tests.streaming.support import IDLE, VIEW, check_windows, ingestor, make_events, make_view

pytestmark = pytest.mark.timeout(180)


def test_publish_adds_each_payload_as_one_entry_in_order_and_refuses_what_is_not_text(
    redis_url: str,
) -> None:
    client = redis.Redis.from_url(redis_url)
    source = open_source(f"{redis_url}?stream=tx", view=VIEW)
    source.open()
    payloads: list[bytes | str] = [b'{"i": 0}', '{"i": 1, "s": "\u00e9\\r\\n"}', b"x" * 100_000]
    ids = source.publish(payloads)  # type: ignore[arg-type]
    entries = client.xrange("tx")
    assert [entry_id for entry_id, _ in entries] == ids
    assert [fields for _, fields in entries] == [
        {b"event": p if isinstance(p, bytes) else p.encode()} for p in payloads
    ]
    with pytest.raises(InvalidInputError, match="not int"):
        source.publish([b"{}", 7])  # type: ignore[list-item]
    client.set("not-a-stream", "v")  # an error reply in the middle: raised, the rest read
    wrong = open_source(f"{redis_url}?stream=not-a-stream", view=VIEW)
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
        wrong.publish([b"{}", b"{}"])
    assert len(source.publish([b"{}"] * 3)) == 3  # the connections still answer in step
    assert client.xlen("tx") == 6


def test_acks_packed_here_are_what_redis_py_sends_and_clear_the_pending_entries(
    redis_url: str,
) -> None:
    from redis.connection import Encoder, PythonRespSerializer

    encode = Encoder("utf-8", "strict", False).encode
    ids = [b"1764781234567-0", "1764781234567-12", b"9-99999"]
    by_redis_py = b"".join(PythonRespSerializer(1000, encode).pack("XACK", "s", "g", *ids))
    assert pack_xack("s", "g", ids) == by_redis_py
    payloads = [b'{"i":1}', b"", b"x" * 70_000]
    packed = b"".join(
        b"".join(PythonRespSerializer(1000, encode).pack("XADD", "s", "*", "event", p))
        for p in payloads
    )
    assert pack_xadds("s", payloads) == packed

    client = redis.Redis.from_url(redis_url)
    source = open_source(f"{redis_url}?stream=acked", view=VIEW, consumer="one")
    source.open()
    source.publish([json.dumps({"i": i}).encode() for i in range(1200)])
    got = source.fetch(2000, 100)
    assert len(got) == 1200
    assert client.xpending("acked", source.group)["pending"] == 1200  # type: ignore[attr-defined]
    source.ack(got[:1000])
    source.ack([d._replace(token=d.token.decode()) for d in got[1000:]])  # text ids too
    assert client.xpending("acked", source.group)["pending"] == 0  # type: ignore[attr-defined]


def test_entries_of_plain_fields_and_single_json_fields_are_read_too(
    workspace: Workspace, redis_url: str
) -> None:
    now = datetime.now(UTC)
    history = make_view(workspace, now=now)
    events = make_events(4, now=now)
    client = redis.Redis.from_url(redis_url)
    url = f"{redis_url}?stream=tx"
    open_source(url, view=VIEW).open()
    for event in events[:2]:  # XADD tx * tx_id e0 customer_id c4 amount 203.0 ...
        client.xadd("tx", {k: str(v) for k, v in event.items()})
    client.xadd("tx", {"data": json.dumps(events[2])})  # one field, whatever its name
    client.xadd("tx", {"event": json.dumps(events[3]), "source": "pos"})
    client.xadd("tx", {**{k: str(v) for k, v in events[0].items()}, "amount": "lots"})

    stats = ingestor(workspace, url).run(max_events=5, idle_exit=IDLE)

    assert (stats.applied, stats.duplicates, stats.dead_letters) == (4, 0, 1)
    [(_, letter)] = client.xrange("tx:dead-letters")
    assert "field 'amount': expected a number, got 'lots'" in letter[b"reason"].decode()
    assert json.loads(letter[b"event"])["amount"] == "lots"
    check_windows(workspace, history, events, 20)
