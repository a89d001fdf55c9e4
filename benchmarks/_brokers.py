"""Brokers for benchmarks/streaming.py: redis-server and nats-server -js on free loopback
ports in a temporary folder, and each broker's own ceiling (no processing at all)."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

Payloads = Callable[[int, int], list[bytes]]  # (start, count) -> events


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start (code {process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{name} did not start on port {port}")


class Broker:
    """A broker process; ``url(stream)`` is a stream source URL for it."""

    name = ""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, stream: str) -> str:
        raise NotImplementedError

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(15)
            self.process = None


class RedisBroker(Broker):
    name = "redis"

    @staticmethod
    def missing() -> str | None:
        return None if shutil.which("redis-server") else "redis-server is not installed"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, self.process, "redis-server")

    def url(self, stream: str) -> str:
        return f"redis://127.0.0.1:{self.port}/0?stream={stream}&claim_idle=1000"

    def ceiling(
        self, events: int, payloads: Payloads, *, chunk: int, batch: int
    ) -> dict[str, float]:
        """XADD the events (a ``chunk`` packed in one write, as the publisher does), then
        XREADGROUP them in ``batch``es (the reply left as read, as the consumer does) and
        XACK each batch: seconds of each side, payload encoding not counted."""
        import redis

        from mlops_lab.streaming.redis_streams import pack_xadds

        client = redis.Redis(host="127.0.0.1", port=self.port)
        client.set_response_callback("XREADGROUP", lambda reply, **_: reply)
        stream = "ceiling"
        client.delete(stream)
        client.xgroup_create(stream, "ceiling", id="0", mkstream=True)
        publish = 0.0
        connection = client.connection_pool.get_connection()
        for start in range(0, events, chunk):
            block = payloads(start, min(chunk, events - start))
            began = time.perf_counter()
            connection.send_packed_command([pack_xadds(stream, block)])
            for _ in block:
                connection.read_response()
            publish += time.perf_counter() - began
        client.connection_pool.release(connection)
        began = time.perf_counter()
        read = 0
        while read < events:
            reply = client.execute_command(
                "XREADGROUP",
                "GROUP",
                "ceiling",
                "c",
                "COUNT",
                batch,
                "BLOCK",
                1000,
                "STREAMS",
                stream,
                ">",
            )
            if not reply:
                break
            entries = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]
            client.xack(stream, "ceiling", *[entry_id for entry_id, _ in entries])
            read += len(entries)
        consume = time.perf_counter() - began
        client.delete(stream)
        client.close()
        return {"publish": publish, "consume": consume, "read": read}


class NatsBroker(Broker):
    name = "nats"

    @staticmethod
    def missing() -> str | None:
        if not shutil.which("nats-server"):
            return "nats-server is not installed (apt-get install nats-server)"
        if importlib.util.find_spec("mlops_lab.streaming.nats_jetstream") is None:
            return "mlops_lab has no NATS JetStream source (mlops_lab.streaming.nats_jetstream)"
        return None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "nats-server",
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, self.process, "nats-server")

    def url(self, stream: str) -> str:
        return f"nats://127.0.0.1:{self.port}?subject={stream}&claim_idle=1000"

    def ceiling(
        self, events: int, payloads: Payloads, *, chunk: int, batch: int
    ) -> dict[str, float]:
        """Through the same client paths the consumer and publisher use, with no processing
        (nats-py's own ``publish_async`` and ``fetch`` + ``ack`` are several times slower,
        which would flatter the ingest): pipelined JetStream publishes in ``chunk``s, then
        a durable pull consumer fetching ``batch``es and acknowledging each."""
        from mlops_lab.streaming import open_source

        source = open_source(self.url("ceiling"), view="ceiling", consumer="ceiling")
        source.open()
        try:
            publish = 0.0
            for start in range(0, events, chunk):
                block = payloads(start, min(chunk, events - start))
                began = time.perf_counter()
                source.publish(block)
                publish += time.perf_counter() - began
            began = time.perf_counter()
            read = 0
            while read < events:
                got = source.fetch(batch, 1000)
                if not got:
                    break
                source.ack(got)
                read += len(got)
            consume = time.perf_counter() - began
        finally:
            source.close()
        return {"publish": publish, "consume": consume, "read": read}
