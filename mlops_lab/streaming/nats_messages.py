"""JetStream over :mod:`nats_wire`: its API calls, deliveries and pipelined publishes."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from mlops_lab.streaming.nats_wire import (
    Connection,
    JetStreamAPIError,
    NoRespondersError,
    new_inbox,
    pack_publish,
    status_of,
)
from mlops_lab.streaming.sources import Delivery

__all__ = ["REPLY_TIMEOUT", "Ack", "api", "deliveries_of", "ensure", "publish_pipelined"]

REPLY_TIMEOUT = 5.0  # seconds: JetStream API calls, flushes, a no_wait pull
_NOT_FOUND = 404  # the API's status for a stream or consumer that is not there


class Ack(NamedTuple):
    """A delivery's token: the stream sequence, and the subject that acknowledges it (a
    named tuple: tens of thousands are made a second)."""

    sequence: int
    reply: bytes

    def __repr__(self) -> str:
        return str(self.sequence)


def deliveries_of(messages: Iterable[tuple[bytes, bytes]]) -> list[Delivery]:
    """The deliveries of messages as (ack subject, data), read from the ack subject (one
    loop, no call per message: tens of thousands a second):
    ``$JS.ACK.[<domain>.<account>.]<stream>.<consumer>.<delivered>.<stream seq>.<consumer
    seq>.<time ns>.<pending>[.<token>]``."""
    out: list[Delivery] = []
    append = out.append
    for reply, data in messages:
        tokens = reply.split(b".")
        at = 2 if len(tokens) == 9 else 4
        append(
            Delivery(
                Ack(int(tokens[at + 3]), reply),
                data,
                int(tokens[at + 5]) // 1_000_000,
                tokens[at + 2] != b"1",
            )
        )
    return out


def api(conn: Connection, subject: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JetStream API call (``$JS.API.`` + ``subject``): its JSON answer, or
    :class:`JetStreamAPIError`."""
    payload = json.dumps(body).encode() if body is not None else b""
    reply = json.loads(conn.request(f"$JS.API.{subject}", payload, REPLY_TIMEOUT).data)
    if reply.get("error"):
        raise JetStreamAPIError.of(reply)
    return dict(reply)


def ensure(conn: Connection, info: str, create: str, body: dict[str, Any]) -> None:
    """The API call ``info`` answered, or, when what it asks about is not there, ``create``
    made with ``body`` (a stream or a durable consumer)."""
    try:
        api(conn, info)
    except JetStreamAPIError as exc:
        if exc.code != _NOT_FOUND:
            raise
        api(conn, create, body)


_SEQUENCE = re.compile(rb'"seq":\s*(\d+)')


def publish_pipelined(
    conn: Connection,
    subject: str,
    payloads: Sequence[bytes],
    *,
    in_flight: int,
    headers: Sequence[bytes] | None = None,
) -> list[int]:
    """JetStream publishes of ``payloads`` to ``subject`` (each with the header block in
    ``headers``, if given), up to ``in_flight`` sent before their acks come back, packed
    many to a write; their stream sequences. An error in any ack is raised after all came
    back (what was stored stays stored). The acks (``{"stream":"S","seq":12}``) are kept
    as they come and read at the end, in one pass."""
    too_big = [i for i, p in enumerate(payloads) if len(p) > conn.max_payload]
    if too_big:
        raise ValueError(
            f"event {too_big[0]} is {len(payloads[too_big[0]]):,} bytes: the server takes "
            f"at most {conn.max_payload:,} a message"
        )
    acks: list[bytes] = [b""] * len(payloads)
    problems: list[Exception] = []
    room = threading.Condition()
    back, need = 0, 0  # acks come back; the waiter is woken once ``need`` did

    def acked(
        subject: bytes, _reply: bytes | None, headers: bytes | None, data: bytes
    ) -> None:  # on the reader thread
        nonlocal back
        if headers is not None and status_of(headers)[0] == "503":
            problems.append(NoRespondersError(subject.decode()))
        acks[int(subject.rsplit(b".", 1)[1])] = data
        back += 1

    def wake() -> None:
        if back >= need or conn.closed:
            with room:
                room.notify_all()

    def wait_for(count: int) -> None:
        nonlocal need
        with room:
            need = count
            if not room.wait_for(lambda: conn.closed or back >= count, REPLY_TIMEOUT):
                raise TimeoutError(f"no publish ack within {REPLY_TIMEOUT:.0f} s")
        conn.check()

    inbox = new_inbox().encode()
    target = subject.encode()
    sid = conn.subscribe(inbox + b".*", acked)
    conn.add_hook(wake)
    try:
        sent, chunk = 0, max(1, min(1000, in_flight // 4))
        while sent < len(payloads):
            wait_for(sent - in_flight + 1)
            stop = min(len(payloads), sent + chunk, back + in_flight)
            if headers is None:  # pack_publish's PUB, formatted in place: one call less each
                packed = [
                    b"PUB %b %b.%d %d\r\n%b\r\n" % (target, inbox, i, len(p), p)
                    for i, p in enumerate(payloads[sent:stop], sent)
                ]
            else:
                packed = [
                    pack_publish(target, payloads[i], b"%s.%d" % (inbox, i), headers[i])
                    for i in range(sent, stop)
                ]
            conn.send(b"".join(packed))
            sent = stop
        wait_for(len(payloads))
    finally:
        conn.remove_hook(wake)
        conn.unsubscribe(sid)
    if problems:
        raise problems[0]
    return _sequences(acks)


def _sequences(acks: list[bytes]) -> list[int]:
    """The stream sequences in publish acks, or the first refusal among them raised."""
    found = _SEQUENCE.findall(b"\n".join(acks))
    if len(found) == len(acks) and not any(b'"error"' in ack for ack in acks):
        return [int(sequence) for sequence in found]
    for ack in acks:
        try:
            reply = json.loads(ack)
        except ValueError:
            raise JetStreamAPIError(0, 0, f"an answer that is not JSON: {ack[:80]!r}") from None
        if "error" in reply or "seq" not in reply:
            raise JetStreamAPIError.of(reply)
    raise AssertionError("every ack had a sequence")  # pragma: no cover - found them all
