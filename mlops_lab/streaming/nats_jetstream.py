"""NATS JetStream as a stream source (see :mod:`mlops_lab.streaming.sources`).

A durable pull consumer (explicit acks, ``ack_wait`` = the URL's ``claim_idle``) on the
stream that holds the subject: several processes on one durable share its events, and an
event a dead process never acknowledged is delivered again after ``ack_wait``.

It speaks the protocol itself (:mod:`nats_wire`; why not nats-py: see there), on one
connection per source, synchronously: calls may come from several threads (the ingest
loop reads, acknowledges and reports side by side). A lost connection is dropped and made
again by the next call, so the ingest loop's backoff is the only retrying. A fetch asks
for what is there now (``no_wait``), then, when nothing is, waits up to ``block_ms``; the
reader thread queues what the server sends for the pulls of this source.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from mlops_lab.errors import InvalidInputError, MlopsLabError, StreamUnavailableError
from mlops_lab.streaming.nats_messages import (
    REPLY_TIMEOUT,
    api,
    deliveries_of,
    ensure,
    publish_pipelined,
)
from mlops_lab.streaming.nats_wire import (
    Connection,
    JetStreamAPIError,
    NatsClosedError,
    NoRespondersError,
    header_block,
    new_inbox,
    pack_publish,
    status_of,
)
from mlops_lab.streaming.sources import DEAD_LETTER_SUFFIX, Delivery, StreamURL

__all__ = ["NatsJetStreamSource", "stream_name"]

_T = TypeVar("_T")
_CONNECT_TIMEOUT = 2.0  # seconds
_PULL_TIMEOUT = 2.0  # seconds for the answer to a no_wait pull (a few ms when all is well)
_IN_FLIGHT = 20_000  # events published and not yet acknowledged by JetStream
MAX_ACK_PENDING = 200_000  # delivered and not yet acknowledged, over all processes
_JETSTREAM_UNAVAILABLE = 503  # an API error status: JetStream is not enabled or not ready


def stream_name(subject: str) -> str:
    """The JetStream stream made for ``subject`` when the URL names none."""
    return subject.upper().replace(".", "_").replace("*", "_").replace(">", "_")


class _Pull:
    """One pull request: done when the server says so (a status message) or the
    connection closes."""

    __slots__ = ("description", "done", "inbox", "status")

    def __init__(self, inbox: bytes) -> None:
        self.inbox = inbox
        self.done = False
        self.status: str | None = None
        self.description = ""


class NatsJetStreamSource:
    """A process on a JetStream durable pull consumer."""

    def __init__(self, url: StreamURL, *, durable: str, consumer: str) -> None:
        tokens = url.name.split(".")
        if any(token in ("*", ">") for token in tokens):
            raise InvalidInputError(
                f"The stream {url.url} names the subject {url.name!r} with a wildcard: name "
                "one subject (events are published to it and its dead letters to "
                f"{url.name}.{DEAD_LETTER_SUFFIX})."
            )
        if not all(tokens) or any(c.isspace() for c in url.name):
            raise InvalidInputError(
                f"The stream {url.url} names the subject {url.name!r}: a NATS subject is "
                "tokens without spaces, joined by dots (e.g. shop.transactions)."
            )
        self.url = url.url
        self.subject = url.name
        self.durable = durable
        self.consumer = consumer  # for messages; processes on one durable are not named
        self.dead_letters = f"{url.name}.{DEAD_LETTER_SUFFIX}"
        self.stream = url.stream
        self._server = url.server
        self._ack_wait = url.claim_idle_ms / 1000
        self._conn: Connection | None = None
        self._connecting = threading.Lock()
        # what the server sent for this source's pulls, and the pulls open; under _ready
        self._ready = threading.Condition()
        self._buffer: deque[tuple[bytes, bytes]] = deque()  # (ack subject, data)
        self._pulls: dict[bytes, _Pull] = {}
        self._pull_count = 0
        self._inbox = b""

    # -- the connection, and errors ------------------------------------------------------

    def _call(self, work: Callable[[Connection], _T]) -> _T:
        """``work`` on the connection (made first when there is none), its errors ours: a
        broker that does not answer is unavailable (the connection is dropped, the next
        call connects again); a refusal is bad input."""
        conn = None
        try:
            conn = self._connection()
            return work(conn)
        except MlopsLabError:
            raise
        except JetStreamAPIError as exc:
            if exc.code != _JETSTREAM_UNAVAILABLE:
                raise InvalidInputError(
                    f"NATS JetStream refused a request for the stream {self.url} "
                    f"({exc.description}). Check the stream {self.stream!r} and the "
                    f"durable consumer {self.durable!r} on the server."
                ) from exc
            detail = f"JetStream is not available ({exc.description})"
        except NoRespondersError:
            detail = "no JetStream answers: is nats-server started with -js, the stream there?"
        except (OSError, ValueError) as exc:  # NatsClosedError and TimeoutError are OSErrors
            if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError):
                raise InvalidInputError(f"The stream {self.url}: {exc}.") from exc
            detail = str(exc) or type(exc).__name__
        self._drop(conn)
        raise StreamUnavailableError(self.url, detail)

    def _connection(self) -> Connection:
        with self._connecting:
            conn = self._conn
            if conn is not None and not conn.closed:
                return conn
            self._drop(conn)
            conn = Connection(self._server, timeout=_CONNECT_TIMEOUT, name=self.consumer)
            try:
                self._prepare(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            return conn

    def _prepare(self, conn: Connection) -> None:
        """The stream and the durable made when missing; this source's pull inbox."""
        if self.stream is None:
            names = api(conn, "STREAM.NAMES", {"subject": self.subject}).get("streams")
            self.stream = names[0] if names else stream_name(self.subject)
        ensure(
            conn,
            f"STREAM.INFO.{self.stream}",
            f"STREAM.CREATE.{self.stream}",
            {
                "name": self.stream,
                "subjects": [self.subject, self.dead_letters],
                "storage": "file",
                "retention": "limits",
                "discard": "old",
                "num_replicas": 1,
            },
        )
        ensure(
            conn,
            f"CONSUMER.INFO.{self.stream}.{self.durable}",
            f"CONSUMER.DURABLE.CREATE.{self.stream}.{self.durable}",
            {
                "stream_name": self.stream,
                "config": {
                    "durable_name": self.durable,
                    "ack_policy": "explicit",
                    "ack_wait": int(self._ack_wait * 1e9),
                    "max_ack_pending": MAX_ACK_PENDING,
                    "filter_subject": self.subject,
                    "deliver_policy": "all",
                    "replay_policy": "instant",
                },
            },
        )
        self._inbox = new_inbox().encode()
        conn.add_hook(self._wake)
        conn.subscribe(self._inbox + b".*", self._received)

    def _drop(self, conn: Connection | None) -> None:
        """Forget ``conn`` if it is still the current one, and close it: the next call
        connects again. What it brought and was not taken is delivered again after
        ack_wait; pulls waiting on it end."""
        if conn is None:
            return
        with self._ready:
            if conn is self._conn:
                self._conn = None
                self._buffer.clear()
                for pull in self._pulls.values():
                    pull.status, pull.done = "closed", True
                self._pulls.clear()
                self._ready.notify_all()
        conn.close()

    # -- on the reader thread --------------------------------------------------------------

    def _received(
        self, subject: bytes, reply: bytes | None, headers: bytes | None, data: bytes
    ) -> None:
        if reply and (headers is None or status_of(headers)[0] is None):
            self._buffer.append((reply, data))  # an event
            return
        status, description = status_of(headers)
        if status == "100":  # a heartbeat
            return
        with self._ready:
            pull = self._pulls.pop(subject, None)
            if pull is not None:
                pull.status, pull.description, pull.done = status, description, True

    def _wake(self) -> None:
        with self._ready:
            self._ready.notify_all()

    # -- reading ------------------------------------------------------------------------

    def open(self) -> None:
        self._call(lambda conn: None)

    def fetch(self, max_events: int, block_ms: int) -> list[Delivery]:
        return self._call(lambda conn: self._fetch(conn, max_events, block_ms))

    def _pull(self, conn: Connection, batch: int, *, expires_ms: int | None) -> _Pull:
        with self._ready:
            self._pull_count += 1
            pull = _Pull(b"%s.%d" % (self._inbox, self._pull_count))
            self._pulls[pull.inbox] = pull
        request: dict[str, Any] = {"batch": batch}
        if expires_ms is None:
            request["no_wait"] = True
        else:
            request["expires"] = expires_ms * 1_000_000
        subject = f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.durable}".encode()
        conn.send(pack_publish(subject, json.dumps(request).encode(), pull.inbox))
        return pull

    def _fetch(self, conn: Connection, max_events: int, block_ms: int) -> list[Delivery]:
        if not self._buffer:  # else: what an earlier pull brought and was not taken yet
            pull = self._pull(conn, max_events, expires_ms=None)
            self._until(conn, pull, lambda: len(self._buffer) >= max_events, _PULL_TIMEOUT)
        if not self._buffer and block_ms > 0:
            pull = self._pull(conn, max_events, expires_ms=block_ms)
            self._until(conn, pull, lambda: bool(self._buffer), block_ms / 1000 + 1)
        buffer = self._buffer
        return deliveries_of([buffer.popleft() for _ in range(min(max_events, len(buffer)))])

    def _until(
        self, conn: Connection, pull: _Pull, enough: Callable[[], bool], timeout: float
    ) -> None:
        """Wait for ``pull`` to end, or ``enough()``; a pull the server never ends is a
        broker that does not answer."""
        with self._ready:
            ended = self._ready.wait_for(
                lambda: pull.done or conn.closed or enough(), timeout=timeout
            )
            self._pulls.pop(pull.inbox, None)  # a status after this is for nobody
        conn.check()
        if not ended:
            raise TimeoutError(f"no answer to a pull within {timeout:.1f} s")
        if pull.status == "503":  # no responders: the durable is gone
            raise NoRespondersError(self.durable)
        if pull.status == "409" and "deleted" in pull.description.lower():
            # connecting again makes the durable again
            raise NatsClosedError(f"the pull was refused: {pull.description or 'conflict'}")
        # another 409 (Exceeded MaxAckPending, MaxWaiting...): nothing now, ask again later

    # -- writing ------------------------------------------------------------------------

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return

        def ack(conn: Connection) -> None:
            conn.send(b"".join(b"PUB %s 0\r\n\r\n" % d.token.reply for d in deliveries))
            conn.flush(REPLY_TIMEOUT)  # the server has them

        self._call(ack)

    def dead_letter(self, deliveries: Sequence[tuple[Delivery, str]]) -> None:
        if not deliveries:
            return
        headers = [
            header_block(
                {
                    "reason": " ".join(reason.split()),
                    "sequence": str(delivery.token.sequence),
                    "durable": self.durable,
                }
            )
            for delivery, reason in deliveries
        ]
        payloads = [delivery.payload for delivery, _ in deliveries]
        self._call(
            lambda conn: publish_pipelined(
                conn, self.dead_letters, payloads, in_flight=_IN_FLIGHT, headers=headers
            )
        )

    def publish(self, payloads: Sequence[bytes]) -> list[Any]:
        """Pipelined: up to ``_IN_FLIGHT`` published before their acks come back."""
        events = [p.encode() if isinstance(p, str) else p for p in payloads]
        bad = next((i for i, p in enumerate(events) if not isinstance(p, bytes)), None)
        if bad is not None:
            raise InvalidInputError(
                f"Event {bad} to publish to {self.url} is {type(events[bad]).__name__}, "
                "not bytes or str (JSON text)."
            )
        return self._call(
            lambda conn: publish_pipelined(conn, self.subject, events, in_flight=_IN_FLIGHT)
        )

    def lag(self) -> int | None:
        def pending(conn: Connection) -> int:
            info = api(conn, f"CONSUMER.INFO.{self.stream}.{self.durable}")
            return int(info.get("num_pending") or 0)

        return self._call(pending)

    def close(self) -> None:
        with self._connecting:
            conn = self._conn
            if conn is not None and not conn.closed:
                with contextlib.suppress(OSError):  # closing anyway
                    conn.flush(REPLY_TIMEOUT)  # acks sent last
            self._drop(conn)
