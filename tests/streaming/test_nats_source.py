"""NATS JetStream as a stream source, against a real nats-server -js: the source contract
(batches, acks, redelivery after ack_wait, dead letters, lag, a broker that is down, calls
from several threads). The ingest loop on it: test_nats_ingest.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_lab.errors import StreamUnavailableError
from mlops_lab.streaming import open_source
from mlops_lab.streaming.nats_jetstream import NatsJetStreamSource, stream_name
from tests.conftest import NatsServer


def _source(url: str, **query: object) -> NatsJetStreamSource:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    source = open_source(f"{url}?subject=tx.events{extra}", view="spend")
    assert isinstance(source, NatsJetStreamSource)
    return source


@pytest.fixture
def source(nats_url: str) -> Iterator[NatsJetStreamSource]:
    opened = _source(nats_url, claim_idle=500)
    opened.open()
    yield opened
    opened.close()


def _drain(source: NatsJetStreamSource, *, batch: int, until: int) -> list:
    got: list = []
    deadline = time.monotonic() + 10
    while len(got) < until and time.monotonic() < deadline:
        got += source.fetch(batch, 100)
    return got


def test_events_come_in_batches_once_acknowledged(source: NatsJetStreamSource) -> None:
    payloads = [json.dumps({"i": i}).encode() for i in range(2_500)]
    sequences = source.publish(payloads)
    assert sequences == list(range(1, 2_501))
    assert source.lag() == 2_500
    first = source.fetch(1_000, 100)
    assert len(first) == 1_000  # no more than asked
    rest = _drain(source, batch=1_000, until=1_500)
    got = first + rest
    assert [d.payload for d in got] == payloads  # in order, all of them
    assert not any(d.redelivered for d in got)
    now_ms = time.time() * 1000
    assert all(now_ms - 60_000 < d.published_ms <= now_ms for d in got)
    assert source.lag() == 0
    source.ack(got)
    time.sleep(0.7)  # past ack_wait (500 ms): nothing comes again
    assert source.fetch(100, 100) == []


def test_an_unacknowledged_event_comes_again_after_claim_idle(nats_url: str) -> None:
    first = _source(nats_url, claim_idle=500)
    first.publish([b'{"a": 1}', b'{"a": 2}'])
    taken = first.fetch(10, 100)
    assert [d.redelivered for d in taken] == [False, False]
    first.ack(taken[:1])
    first.close()  # as if killed: the second one is never acknowledged
    second = _source(nats_url, claim_idle=500)
    try:
        assert second.fetch(10, 100) == []  # not yet: ack_wait runs
        again = _drain(second, batch=10, until=1)
        assert [(d.payload, d.redelivered) for d in again] == [(b'{"a": 2}', True)]
        assert again[0].token.sequence == taken[1].token.sequence
        second.ack(again)
    finally:
        second.close()


def test_dead_letters_go_to_their_subject_with_the_reason(
    source: NatsJetStreamSource, nats_url: str
) -> None:
    source.publish([b"not json", b'{"ok": true}'])
    bad, good = source.fetch(10, 100)
    source.dead_letter([(bad, "not JSON: Expecting value\nat line 1")])
    source.ack([bad, good])

    async def read() -> list:
        import nats

        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        sub = await js.pull_subscribe("tx.events.dead-letters", stream=stream_name("tx.events"))
        messages = await sub.fetch(10, timeout=2)
        await nc.close()
        return messages

    (letter,) = asyncio.run(read())
    assert letter.data == b"not json"
    assert letter.headers == {
        "reason": "not JSON: Expecting value at line 1",
        "sequence": str(bad.token.sequence),
        "durable": "mlops-lab-spend",
    }
    assert source.fetch(10, 100) == []  # the durable does not read its dead letters


def test_the_stream_and_durable_are_made_once_and_shared(nats_url: str) -> None:
    assert stream_name("tx.events") == "TX_EVENTS"
    one, two = _source(nats_url), _source(nats_url)
    try:
        one.open()
        two.open()  # finds them
        one.publish([json.dumps({"i": i}).encode() for i in range(100)])
        a = one.fetch(60, 100)
        b = two.fetch(60, 100)
        assert sorted(d.token.sequence for d in a + b) == list(range(1, 101))
    finally:
        one.close()
        two.close()


def test_a_broker_that_is_down_is_a_clear_error_and_loses_nothing(
    nats_server: NatsServer,
) -> None:
    source = _source(nats_server.url)
    source.open()
    source.publish([b'{"a": 1}'])
    nats_server.stop()
    started = time.monotonic()
    for call in (lambda: source.fetch(10, 100), source.lag, lambda: source.publish([b"{}"])):
        with pytest.raises(StreamUnavailableError) as caught:
            call()
        assert caught.value.message.startswith(
            f"The stream {nats_server.url}?subject=tx.events cannot be reached ("
        )
        assert f"cannot connect to 127.0.0.1:{nats_server.port}: Connection refused" in (
            caught.value.message
        )
    assert time.monotonic() - started < 5  # no reconnecting inside: the ingest loop retries
    nats_server.start()  # back, with its stream: the same source goes on
    (delivery,) = _drain(source, batch=10, until=1)
    assert delivery.payload == b'{"a": 1}'
    source.ack([delivery])
    source.close()


def test_a_broker_that_is_not_there_at_the_start(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats")  # never started
    source = _source(server.url)
    with pytest.raises(StreamUnavailableError, match="cannot be reached"):
        source.open()
    source.close()


def test_reads_acks_and_reports_from_threads_side_by_side(source: NatsJetStreamSource) -> None:
    """As the ingest loop calls it: one thread fetches, another acknowledges, a third asks
    for the lag, all at once."""
    import queue
    import threading

    source.publish([json.dumps({"i": i}).encode() for i in range(5_000)])
    acks: queue.Queue[list | None] = queue.Queue()
    got: list = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            while len(got) < 5_000:
                batch = source.fetch(300, 50)
                got.extend(batch)
                acks.put(batch)
        except BaseException as exc:  # shown by the test
            errors.append(exc)
        finally:
            acks.put(None)

    def acknowledge() -> None:
        while (batch := acks.get()) is not None:
            source.ack(batch)

    threads = [threading.Thread(target=read), threading.Thread(target=acknowledge)]
    for thread in threads:
        thread.start()
    lags = []
    while threads[0].is_alive():
        lags.append(source.lag())
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(d.token.sequence for d in got) == list(range(1, 5_001))
    assert lags and all(0 <= lag <= 5_000 for lag in lags)
    assert source.lag() == 0
    time.sleep(0.7)  # past ack_wait: every one was acknowledged
    assert source.fetch(100, 100) == []


def test_a_deleted_durable_is_made_again(source: NatsJetStreamSource, nats_url: str) -> None:
    source.publish([b'{"a": 1}'])

    async def delete() -> None:
        import nats

        nc = await nats.connect(nats_url)
        await nc.jetstream().delete_consumer(stream_name("tx.events"), "mlops-lab-spend")
        await nc.close()

    asyncio.run(delete())
    with pytest.raises(StreamUnavailableError):  # said once (a 409, or the pull unanswered)
        source.fetch(10, 100)
    (delivery,) = _drain(source, batch=10, until=1)  # made again, from the stream's start
    assert delivery.payload == b'{"a": 1}'
