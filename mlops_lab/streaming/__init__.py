"""Streaming ingestion: events from a message broker into a window view's offline and
online stores, exactly once in effect (see :mod:`mlops_lab.streaming.ingest`)."""

from mlops_lab.streaming.brokers import open_source
from mlops_lab.streaming.ingest import IngestOptions, Ingestor, IngestStats
from mlops_lab.streaming.sources import Delivery, StreamSource, parse_stream_url

__all__ = [
    "Delivery",
    "IngestOptions",
    "IngestStats",
    "Ingestor",
    "StreamSource",
    "open_source",
    "parse_stream_url",
]
