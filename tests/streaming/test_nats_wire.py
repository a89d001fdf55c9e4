"""The small NATS client under the JetStream source (mlops_lab.streaming.nats_wire): its
parser on messages cut anywhere, headers, requests nobody answers, a server that goes
away or wants a password, against a real nats-server where a server is needed."""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path

import pytest

from mlops_lab.errors import InvalidInputError
from mlops_lab.streaming import open_source
from mlops_lab.streaming.nats_messages import deliveries_of
from mlops_lab.streaming.nats_wire import (
    Connection,
    NatsClosedError,
    NoRespondersError,
    header_block,
    pack_publish,
    status_of,
)
from tests.conftest import NatsServer


class _Parser(Connection):
    """A connection's parser alone: what it hands to callbacks, what it sends back."""

    def __init__(self) -> None:  # no socket, no reader thread
        self.got: list[tuple[bytes, bytes | None, bytes | None, bytes]] = []
        self.sent: list[bytes] = []
        self._state = threading.Lock()
        self._pongs = deque()
        self._subs = {b"7": lambda *message: self.got.append(message)}
        self.address = "test"
        self.error = ""

    def send(self, data: bytes) -> None:
        self.sent.append(data)


def test_the_parser_reads_messages_however_the_reads_cut_them() -> None:
    headers = header_block({"reason": "bad: not JSON", "sequence": "12"})
    stream = b"".join(
        [
            b"INFO {}\r\n",
            b"MSG a.b 7 _INBOX.x.1 12\r\nhello\r\nworld\r\n",  # a payload with a line break
            b"PING\r\n",
            b"MSG other 8 5\r\nnope!\r\n",  # a sid nobody holds: skipped
            b"MSG a.b 7 0\r\n\r\n",
            b"HMSG _INBOX.y.3 7 %d %d\r\n%sdata\r\n" % (len(headers), len(headers) + 4, headers),
            b"HMSG _INBOX.y.4 7 $JS.ACK.X 19 19\r\nNATS/1.0 100 Id\r\n\r\n\r\n",
            b"+OK\r\n",
        ]
    )
    expected = [
        (b"a.b", b"_INBOX.x.1", None, b"hello\r\nworld"),
        (b"a.b", None, None, b""),
        (b"_INBOX.y.3", None, headers, b"data"),
        (b"_INBOX.y.4", b"$JS.ACK.X", b"NATS/1.0 100 Id\r\n\r\n", b""),
    ]
    for cut in range(1, len(stream)):
        parser = _Parser()
        buffer = b""
        for piece in (stream[:cut], stream[cut:]):
            buffer += piece
            buffer = buffer[parser._parse(buffer) :]
        assert buffer == b"", cut
        assert parser.got == expected, cut
        assert parser.sent == [b"PONG\r\n"], cut
    assert status_of(expected[3][2]) == ("100", "Id")
    assert status_of(headers) == (None, "")
    assert status_of(None) == (None, "")


def test_headers_cross_the_wire_and_a_line_break_in_one_is_refused(nats_url: str) -> None:
    conn = Connection(nats_url, timeout=2)
    try:
        got: list[tuple] = []
        arrived = threading.Event()

        def received(*message: object) -> None:
            got.append(message)
            arrived.set()

        conn.subscribe(b"t.headers", received)
        block = header_block({"reason": "missing field: amount", "durable": "d"})
        conn.send(pack_publish(b"t.headers", b"{}", b"r.1", block))
        assert arrived.wait(5)
        assert got == [(b"t.headers", b"r.1", block, b"{}")]
        assert block == b"NATS/1.0\r\nreason: missing field: amount\r\ndurable: d\r\n\r\n"
        with pytest.raises(ValueError, match="one line"):
            header_block({"reason": "two\nlines"})
        with pytest.raises(NoRespondersError):
            conn.request("nobody.listens", b"", timeout=2)
        conn.flush(2)
    finally:
        conn.close()
    assert conn.closed
    with pytest.raises(NatsClosedError):
        conn.send(b"PING\r\n")


def test_a_server_that_goes_away_wakes_every_waiter(nats_server: NatsServer) -> None:
    conn = Connection(nats_server.url, timeout=2)
    woken = threading.Event()
    conn.add_hook(lambda: woken.set() if conn.closed else None)
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            conn.request("$JS.API.nobody.answers.this", b"", timeout=30)
        except BaseException as exc:  # what the waiter saw
            failures.append(exc)

    conn.subscribe(b"$JS.API.nobody.answers.this", lambda *_: None)  # a responder that is mute
    asker = threading.Thread(target=ask)
    asker.start()
    time.sleep(0.2)
    started = time.monotonic()
    nats_server.stop()
    asker.join(10)
    assert time.monotonic() - started < 5  # woken by the close, not by its 30 s timeout
    assert conn.closed and woken.is_set()
    assert [type(f) for f in failures] == [NatsClosedError]
    assert "closed the connection" in str(failures[0])


def test_a_server_with_a_password(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats", "--user", "ml", "--pass", "s3cret")
    server.start()
    try:
        address = f"127.0.0.1:{server.port}"
        with pytest.raises(NatsClosedError, match="refused us: Authorization Violation"):
            Connection(f"nats://{address}", timeout=2)
        with pytest.raises(NatsClosedError, match="Authorization Violation"):
            Connection(f"nats://ml:wrong@{address}", timeout=2)
        source = open_source(f"nats://ml:s3cret@{address}?subject=tx.events", view="spend")
        try:
            assert source.publish([b'{"a": 1}']) == [1]
            (delivery,) = source.fetch(10, 500)
            assert delivery.payload == b'{"a": 1}'
            source.ack([delivery])
        finally:
            source.close()
    finally:
        server.stop()


def test_what_cannot_be_published_is_refused_by_name(nats_url: str) -> None:
    source = open_source(f"{nats_url}?subject=tx.events", view="spend")
    try:
        with pytest.raises(InvalidInputError, match=r"Event 1 .* is int, not bytes or str"):
            source.publish([b"{}", 5])  # type: ignore[list-item]
        with pytest.raises(InvalidInputError, match="event 0 is 1,048,577 bytes"):
            source.publish([b"x" * (1024 * 1024 + 1)])
        assert source.publish(['{"text": true}']) == [1]  # str is sent as UTF-8
        assert source.lag() == 1
    finally:
        source.close()
    with pytest.raises(InvalidInputError, match="without spaces"):
        open_source(f"{nats_url}?subject=tx events", view="spend")


def test_a_delivery_is_read_from_its_ack_subject_old_and_new_forms() -> None:
    old = b"$JS.ACK.TX_EVENTS.mlops-lab-spend.2.10.5.1764770000123456789.0"
    new = b"$JS.ACK.hub.ACCOUNTHASH.TX_EVENTS.mlops-lab-spend.1.11.6.1764770000987654321.3.xyz"
    first, second = deliveries_of([(old, b"a"), (new, b"b")])
    assert (first.token.sequence, first.token.reply, first.payload) == (10, old, b"a")
    assert (first.published_ms, first.redelivered) == (1764770000123, True)
    assert (second.token.sequence, second.payload) == (11, b"b")
    assert (second.published_ms, second.redelivered) == (1764770000987, False)
    assert repr(first.token) == "10"
