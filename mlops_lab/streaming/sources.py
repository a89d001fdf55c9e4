"""Stream sources: one small interface over the message brokers a feature view reads from.

A source delivers events *at least once*: an event is acknowledged only after the batch it
came in is durably applied (offline and online), so an event whose consumer dies before
its ack is delivered again: to the restarted consumer, or to another consumer of the same
group once it has been pending long enough. Applying is idempotent by event id (see
:mod:`mlops_lab.features.stream_apply`), which makes the whole exactly once in effect.

A source is named by a URL:

- ``redis://HOST:PORT/DB?stream=NAME`` (Redis Streams): a consumer group per feature
  view (``group=``, default ``mlops-lab-<view>``), ``XREADGROUP`` in batches, ``XACK``
  after apply, entries pending longer than ``claim_idle`` (default 10 s) taken over with
  ``XAUTOCLAIM``; dead letters go to the stream ``NAME:dead-letters``.
- ``nats://HOST:PORT?subject=SUBJECT`` (NATS JetStream): a durable pull consumer
  (``durable=``, default ``mlops-lab-<view>``) on the stream holding the subject
  (``stream=``, default the subject in capitals with ``.`` -> ``_``, created if missing);
  ack after apply, redelivery after ``ack_wait`` (``claim_idle``); dead letters go to
  ``SUBJECT.dead-letters``.

Events are JSON objects, one per message (Redis: the entry's ``event`` field).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from mlops_lab.errors import InvalidInputError

__all__ = [
    "DEAD_LETTER_SUFFIX",
    "Delivery",
    "StreamSource",
    "StreamURL",
    "default_consumer",
    "open_source",
    "parse_stream_url",
]

DEAD_LETTER_SUFFIX = "dead-letters"
_SCHEMES = ("redis", "rediss", "nats")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as delivered: ``token`` is what the source's ``ack`` needs."""

    token: Any
    payload: bytes
    # When the broker received it (ms since the epoch; Redis: the entry id's time, NATS:
    # the message's timestamp), for freshness; None when the broker does not say.
    published_ms: int | None = None
    redelivered: bool = False


@dataclass(frozen=True, kw_only=True)
class StreamURL:
    """A parsed stream source URL (see the module doc)."""

    url: str
    scheme: str  # redis | rediss | nats
    server: str  # the broker's own URL, without the query
    name: str  # the Redis stream or the NATS subject
    group: str | None = None  # consumer group / durable name (None: per view)
    stream: str | None = None  # NATS: the JetStream stream holding the subject
    claim_idle_ms: int = 10_000
    options: dict[str, str] = field(default_factory=dict)

    @property
    def broker(self) -> str:
        return "nats" if self.scheme == "nats" else "redis"


def parse_stream_url(url: str) -> StreamURL:
    """``url`` checked and split, or an :class:`InvalidInputError` saying what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError(
            "A stream source needs a URL, e.g. redis://127.0.0.1:6379/0?stream=events."
        )
    parts = urlsplit(url.strip())
    if parts.scheme not in _SCHEMES:
        raise InvalidInputError(
            f"Unknown stream source {url!r}: use redis://HOST:PORT/DB?stream=NAME or "
            "nats://HOST:PORT?subject=NAME."
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    key = "subject" if parts.scheme == "nats" else "stream"
    name = query.pop(key, "").strip()
    if not name:
        raise InvalidInputError(f"The stream source {url!r} names no {key}: add ?{key}=NAME.")
    claim = query.pop("claim_idle", "10000")
    try:
        claim_ms = int(claim)
    except ValueError:
        raise InvalidInputError(
            f"claim_idle in {url!r} must be milliseconds (an integer), got {claim!r}."
        ) from None
    if claim_ms < 100:
        raise InvalidInputError(f"claim_idle in {url!r} must be at least 100 ms.")
    group = query.pop("group", None) or query.pop("durable", None)
    stream = query.pop("stream", None) if parts.scheme == "nats" else None
    server = parts._replace(query="", fragment="").geturl()
    return StreamURL(
        url=url.strip(),
        scheme=parts.scheme,
        server=server,
        name=name,
        group=group,
        stream=stream,
        claim_idle_ms=claim_ms,
        options=query,
    )


def default_consumer() -> str:
    """This process's consumer name in its group: host and pid (two processes never share
    one; a restarted one gets a new name and takes over the old one's pending events)."""
    return f"{socket.gethostname()}-{os.getpid()}"


class StreamSource(Protocol):
    """What the ingest loop needs from a broker."""

    url: str

    def open(self) -> None:
        """Connect; create the group / durable consumer (and the stream) when missing.
        Raises :class:`~mlops_lab.errors.StreamUnavailableError` when the broker is down."""

    def fetch(self, max_events: int, block_ms: int) -> list[Delivery]:
        """Up to ``max_events``: first this consumer's own unacknowledged ones, then events
        pending too long on other (dead) consumers, then new ones, waiting at most
        ``block_ms`` when there are none."""

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge applied events: they are not delivered again."""

    def dead_letter(self, deliveries: Sequence[tuple[Delivery, str]]) -> None:
        """Publish events that cannot be applied, each with its reason, to the dead-letter
        stream (the caller acks them afterwards)."""

    def publish(self, payloads: Sequence[bytes]) -> list[Any]:
        """Publish events (JSON bytes); their broker ids. For apps, tests and the demo."""

    def lag(self) -> int | None:
        """Events in the stream not yet delivered to this group (None: unknown)."""

    def close(self) -> None: ...


def open_source(url: str, *, view: str, consumer: str | None = None) -> StreamSource:
    """The source for ``url``, consuming for feature view ``view`` (not yet connected)."""
    parsed = parse_stream_url(url)
    group = parsed.group or f"mlops-lab-{view}"
    name = consumer or default_consumer()
    if parsed.broker == "nats":
        from mlops_lab.streaming.nats_jetstream import NatsJetStreamSource

        return NatsJetStreamSource(parsed, durable=group, consumer=name)
    from mlops_lab.streaming.redis_streams import RedisStreamSource

    return RedisStreamSource(parsed, group=group, consumer=name)
