"""The source for a stream URL (kept apart from sources.py, which the backends import)."""

from __future__ import annotations

from mlops_lab.streaming.sources import StreamSource, default_consumer, parse_stream_url

__all__ = ["open_source"]


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
