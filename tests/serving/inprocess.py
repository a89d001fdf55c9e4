"""A model server app listening in this process (a thread running its own event loop), and
calling it over HTTP."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import tornado.ioloop
import tornado.web

from mlops_lab.serving.lifecycle import bind, http_server


@contextmanager
def listening(app: tornado.web.Application) -> Iterator[str]:
    """Serve ``app`` on a free loopback port until the block ends; yields its base URL."""
    sockets = bind("127.0.0.1", 0)
    port = sockets[0].getsockname()[1]
    ready = threading.Event()
    loops: list[tornado.ioloop.IOLoop] = []

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        server = http_server(app)
        server.add_sockets(sockets)
        loops.append(tornado.ioloop.IOLoop.current())
        ready.set()
        loops[0].start()
        server.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loops[0].add_callback(loops[0].stop)
        thread.join(10)
        app.settings["service"].executor.shutdown()


def call(url: str, body: bytes | dict[str, Any] | None = None) -> tuple[int, Any]:
    """GET (or POST `body`) `url`: the status and the JSON answer (or the text)."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text.startswith("{") else text
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode())
