"""Running the model server: bind first, serve until a signal, then drain and stop.

:func:`run_server` serves until SIGTERM/SIGINT; then it stops accepting
connections, answers the requests in flight (at most ``drain_seconds``; a
second signal stops waiting, and what is unanswered then is not logged),
closes the remaining connections, flushes the prediction log and returns its
counts. :func:`bind` opens the port before anything else is created, so a
port in use fails a start cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from typing import Any

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web

from mlops_lab.errors import PortUnavailableError
from mlops_lab.serving.app import ServerState, make_app
from mlops_lab.serving.limits import ServingLimits
from mlops_lab.serving.predictor import Predictor

__all__ = ["bind", "http_server", "run_server", "shutdown"]

log = logging.getLogger("mlops_lab.serving")


def bind(host: str, port: int) -> list[socket.socket]:
    """The listening sockets, before anything else is set up (a port in use fails first)."""
    try:
        return tornado.netutil.bind_sockets(port, address=host)
    except (OSError, ValueError) as exc:
        raise PortUnavailableError(
            f"Cannot listen on {host}:{port} ({getattr(exc, 'strerror', None) or exc}); "
            "choose another --port or --host, or stop what uses it."
        ) from None


def http_server(app: tornado.web.Application) -> tornado.httpserver.HTTPServer:
    """The server for ``app``: the body limit is enforced by tornado too (chunked bodies)."""
    service: ServerState = app.settings["service"]
    return tornado.httpserver.HTTPServer(app, max_body_size=service.limits.max_body_bytes)


async def shutdown(
    server: tornado.httpserver.HTTPServer, app: tornado.web.Application, drain_seconds: float
) -> bool:
    """Stop accepting, answer what is in flight (bounded), close the rest; True if drained."""
    service: ServerState = app.settings["service"]
    server.stop()  # no new connections
    server.conn_params.no_keep_alive = True  # answers from now on close their connection
    log.info(
        "mlops-lab serve: stopping; answering %d request(s) in flight (at most %gs)",
        service.in_flight,
        drain_seconds,
    )
    drained = await service.drain(drain_seconds)
    if not drained:
        log.warning(
            "mlops-lab serve: %d request(s) still in flight after %gs: closed unanswered "
            "(and not logged)",
            service.in_flight,
            drain_seconds,
        )
    service.closing = True
    await server.close_all_connections()
    service.executor.shutdown(wait=False, cancel_futures=True)
    return drained


def run_server(
    predictor: Predictor,
    *,
    host: str,
    port: int,
    poll: float = 1.0,
    limits: ServingLimits | None = None,
    drain_seconds: float = 10.0,
    sockets: list[socket.socket] | None = None,
) -> dict[str, int]:
    """Serve until SIGINT/SIGTERM; then drain (see the module docstring), flush the
    prediction log and return its counts."""
    import gc

    app = make_app(predictor, limits=limits)
    server = http_server(app)
    # Everything loaded so far (models, features, libraries) lives until the end: keep it
    # out of the collector's work, so full collections stay short pauses.
    gc.collect()
    gc.freeze()
    server.add_sockets(sockets if sockets is not None else bind(host, port))
    loop = tornado.ioloop.IOLoop.current()
    watcher = tornado.ioloop.PeriodicCallback(
        lambda: loop.run_in_executor(None, predictor.refresh), poll * 1000
    )
    watcher.start()
    stopping = asyncio.Event()
    service: ServerState = app.settings["service"]

    def on_loop(*_: Any) -> None:
        if stopping.is_set():
            log.warning("mlops-lab serve: second signal; not waiting for requests in flight")
            service.cut()
        stopping.set()

    def stop(*_: Any) -> None:
        loop.asyncio_loop.call_soon_threadsafe(on_loop)  # type: ignore[attr-defined]

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    log.info("mlops-lab serve: listening on http://%s:%d", host, port)

    async def main() -> None:
        await stopping.wait()
        watcher.stop()
        await shutdown(server, app, drain_seconds)

    loop.run_sync(main)
    counts = predictor.log.close() if predictor.log is not None else {}
    return counts
