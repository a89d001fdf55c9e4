"""Running the model server: bind first, serve until a signal, then drain and stop.

:func:`run_server` serves until SIGTERM/SIGINT; then it stops accepting
connections, answers the requests in flight (at most ``drain_seconds``; a
second signal stops waiting, and what is unanswered then is not logged),
closes the remaining connections, flushes the prediction log and returns its
counts. :func:`bind` opens the port before anything else is created, so a
port in use fails a start cleanly.

:func:`serve_deployment` is the whole of ``mlops-lab serve``: load the
models, bind, open the prediction log's folder
(:func:`prediction_log_folder`), record the deployment, serve, and mark it
stopped with the log's counts.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import socket
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tornado.httpserver
import tornado.ioloop
import tornado.iostream
import tornado.netutil
import tornado.web

from mlops_lab.errors import PortUnavailableError
from mlops_lab.serving.app import ServerState, make_app
from mlops_lab.serving.deployments import record_start, record_stop
from mlops_lab.serving.limits import ServingLimits
from mlops_lab.serving.predictor import Predictor
from mlops_lab.serving.predlog import PredictionLog
from mlops_lab.workspace import Workspace

__all__ = [
    "Served",
    "bind",
    "http_server",
    "prediction_log_folder",
    "run_server",
    "serve_deployment",
    "shutdown",
]

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


class _Server(tornado.httpserver.HTTPServer):
    """An HTTP server that can close every connection at once (:meth:`close_streams`)."""

    def handle_stream(self, stream: tornado.iostream.IOStream, address: tuple[Any, ...]) -> None:
        streams: weakref.WeakSet[tornado.iostream.IOStream] = self.__dict__.setdefault(
            "_open_streams", weakref.WeakSet()
        )
        streams.add(stream)
        super().handle_stream(stream, address)

    def close_streams(self) -> None:
        """Close every connection now, idle keep-alive ones included. Closing them one
        after another (``close_all_connections``) lets a client whose connection is not
        closed yet send one more request, which would then be refused."""
        for stream in list(self.__dict__.get("_open_streams", ())):
            stream.close()


def http_server(app: tornado.web.Application) -> tornado.httpserver.HTTPServer:
    """The server for ``app``: the body limit is enforced by tornado too (chunked bodies)."""
    service: ServerState = app.settings["service"]
    return _Server(app, max_body_size=service.limits.max_body_bytes)


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
    # No await from the drain's end to here: no request can start in between. A request
    # still in flight (the drain timed out) finds its connection closed: not answered,
    # so not logged.
    service.closing = True
    if isinstance(server, _Server):
        server.close_streams()
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


def prediction_log_folder(workspace: Workspace, ref: str) -> Path:
    """Where a model server started now logs its predictions (created with its first part)."""
    name = re.sub(r"[^\w.-]", "_", ref) + f"-{time.strftime('%Y%m%dT%H%M%S')}"
    return workspace.state_dir / "predictions" / name


@dataclass(frozen=True, kw_only=True)
class Served:
    """What a deployment did: its id, its prediction log's folder and counts."""

    deployment_id: str
    log_folder: Path | None
    counts: dict[str, int] = field(default_factory=dict)


def serve_deployment(
    workspace: Workspace,
    ref: str,
    *,
    challenger: str | None = None,
    split: float = 0.0,
    host: str = "127.0.0.1",
    port: int = 8000,
    poll: float = 1.0,
    limits: ServingLimits | None = None,
    drain_seconds: float = 10.0,
    log_predictions: bool = True,
    started: Callable[[Predictor], None] | None = None,
) -> Served:
    """Serve ``ref`` as a recorded deployment until a signal (``mlops-lab serve``).

    Everything that can fail comes first (the models, the port): a failed start leaves
    nothing behind. ``started`` is called once the models are loaded and the port is
    bound; the deployment is marked stopped whatever ends the serving."""
    predictor = Predictor(workspace, ref, challenger=challenger, split=split)
    sockets = bind(host, port)
    folder = prediction_log_folder(workspace, ref) if log_predictions else None
    predictor.log = PredictionLog(folder) if folder is not None else None
    if started is not None:
        started(predictor)
    deployment = record_start(
        workspace,
        ref=ref,
        challenger=challenger,
        split=split,
        url=f"http://{host}:{port}",
        log_folder=str(folder) if folder is not None else None,
    )
    counts: dict[str, int] = {}
    try:
        counts = run_server(
            predictor,
            host=host,
            port=port,
            poll=poll,
            limits=limits,
            drain_seconds=drain_seconds,
            sockets=sockets,
        )
    finally:
        record_stop(workspace, deployment, counts)
    return Served(deployment_id=deployment, log_folder=folder, counts=counts)
