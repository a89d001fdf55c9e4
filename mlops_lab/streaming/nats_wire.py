"""A small synchronous NATS client: the text protocol over one TCP socket.

Why not nats-py: its messages go through a pure-Python parser, one ``Msg`` and one queue
hop per message and an asyncio task per subscription; here that capped a JetStream
publisher at about 40,000 events/s and a pull consumer at about 45,000/s, while the same
protocol spoken directly did 178,000/s and 127,000/s (``benchmarks/streaming.py`` shows
the ceilings). This speaks only what the JetStream source needs:

- ``CONNECT`` (with headers and no-responders on; user and password or a token from the
  URL), ``PING``/``PONG`` both ways, ``SUB``/``UNSUB``;
- ``PUB``/``HPUB``, many in one write (:meth:`Connection.send` of packed commands);
- ``MSG``/``HMSG`` parsed by one reader thread that calls each subscription's callback
  with (subject, reply, headers, data) (keep them short: they run on that thread), then
  every hook once per read;
- request/reply for the JetStream API, ``flush`` (a ``PING`` answered once the server has
  read all that was sent before it).

A connection that fails (closed by the server, a socket error, an ``-ERR``) is closed for
good: every waiter is woken with the reason, and the caller makes a new one. There is no
reconnecting inside. TLS is not spoken: a server that requires it is refused by name.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

__all__ = [
    "Connection",
    "JetStreamAPIError",
    "Msg",
    "NatsClosedError",
    "NoRespondersError",
    "header_block",
    "new_inbox",
    "pack_publish",
    "status_of",
]

_READ_SIZE = 1 << 18
# a subscription's callback: (subject, reply or None, raw header block or None, data)
Callback = Callable[[bytes, bytes | None, bytes | None, bytes], None]


class NatsClosedError(ConnectionError):
    """The connection is gone (or never came up): the text says why."""


class NoRespondersError(Exception):
    """Nobody listens on the subject of a request (a 503 status)."""


class JetStreamAPIError(Exception):
    """JetStream answered a request with an error."""

    def __init__(self, code: int, err_code: int, description: str) -> None:
        super().__init__(f"{description} (status {code}, error {err_code})")
        self.code = code
        self.err_code = err_code
        self.description = description

    @classmethod
    def of(cls, reply: Mapping[str, Any]) -> JetStreamAPIError:
        error = reply.get("error") or {}
        return cls(
            int(error.get("code") or 0),
            int(error.get("err_code") or 0),
            str(error.get("description") or "unknown error"),
        )


class Msg(NamedTuple):
    """A message as received: ``headers`` is the raw header block (``None``: none)."""

    subject: bytes
    reply: bytes | None
    headers: bytes | None
    data: bytes


def status_of(headers: bytes | None) -> tuple[str | None, str]:
    """A status message's code and description (``NATS/1.0 404 No Messages``), or None."""
    if not headers:
        return None, ""
    first = headers.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    parts = first.split(" ", 2)
    if len(parts) < 2:
        return None, ""
    return parts[1], parts[2] if len(parts) == 3 else ""


def new_inbox() -> str:
    return f"_INBOX.{secrets.token_hex(11)}"


def header_block(headers: Mapping[str, str]) -> bytes:
    """The header block of an ``HPUB`` (each key and value on one line)."""
    lines = ["NATS/1.0"]
    for key, value in headers.items():
        if any(c in f"{key}{value}" for c in "\r\n") or ":" in key or not key.strip():
            raise ValueError(f"NATS header {key!r}: {value!r} cannot be sent as one line")
        lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def pack_publish(
    subject: bytes, payload: bytes, reply: bytes | None = None, headers: bytes | None = None
) -> bytes:
    """One ``PUB`` (or ``HPUB`` with a header block from :func:`header_block`)."""
    reply_part = b" " + reply if reply else b""
    if headers is None:
        return b"PUB %s%s %d\r\n%s\r\n" % (subject, reply_part, len(payload), payload)
    total = len(headers) + len(payload)
    return b"HPUB %s%s %d %d\r\n%s%s\r\n" % (
        subject,
        reply_part,
        len(headers),
        total,
        headers,
        payload,
    )


class _Waiter:
    __slots__ = ("done", "msg")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.msg: Msg | None = None


class Connection:
    """One connection to a NATS server (``nats://[user:password@|token@]host:port``)."""

    def __init__(self, server: str, *, timeout: float, name: str = "mlops-lab") -> None:
        parts = urlsplit(server)
        host, port = parts.hostname or "127.0.0.1", parts.port or 4222
        self.address = f"{host}:{port}"
        self.max_payload = 1 << 20
        self.error = ""  # why it closed
        self._hooks: tuple[Callable[[], None], ...] = ()  # on the reader thread, once a read
        self._send_lock = threading.Lock()
        self._state = threading.Lock()  # subscriptions, waiters, closed
        self._subs: dict[bytes, Callback] = {}
        self._next_sid = 0
        self._pongs: deque[threading.Event] = deque()
        self._requests: dict[bytes, _Waiter] = {}
        self._request_count = 0
        self._closed = False
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise NatsClosedError(f"cannot connect to {self.address}: {_reason(exc)}") from exc
        try:
            self._handshake(parts.username, parts.password, name)
        except BaseException:
            self._sock.close()
            raise
        self._sock.settimeout(None)
        self._reader = threading.Thread(target=self._read_loop, name=f"nats {host}", daemon=True)
        self._reader.start()
        self._inbox = new_inbox().encode()
        self.subscribe(self._inbox + b".*", self._answered)

    # -- connecting ---------------------------------------------------------------------

    def _handshake(self, user: str | None, password: str | None, name: str) -> None:
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            line, rest = _read_line(self._sock, b"")
            if not line.startswith(b"INFO "):
                raise NatsClosedError(f"{self.address} does not speak NATS (it said {line[:40]!r})")
            info = json.loads(line[5:])
            if info.get("tls_required"):
                raise NatsClosedError(
                    f"{self.address} requires TLS, which this client does not speak"
                )
            self.max_payload = int(info.get("max_payload") or self.max_payload)
            options: dict[str, Any] = {
                "verbose": False,
                "pedantic": False,
                "headers": True,
                "no_responders": True,
                "protocol": 1,
                "lang": "python",
                "version": "mlops-lab",
                "name": name,
            }
            if user and password is not None:
                options["user"], options["pass"] = unquote(user), unquote(password)
            elif user:
                options["auth_token"] = unquote(user)
            self._sock.sendall(b"CONNECT %s\r\nPING\r\n" % json.dumps(options).encode())
            while True:  # +OK / INFO may come first; the answer is PONG or -ERR
                line, rest = _read_line(self._sock, rest)
                if line.startswith(b"PONG"):
                    break
                if line.startswith(b"-ERR"):
                    raise NatsClosedError(f"{self.address} refused us: {_err_text(line)}")
        except OSError as exc:  # a timeout too
            raise NatsClosedError(f"{self.address} did not answer: {_reason(exc)}") from exc
        if rest:
            raise NatsClosedError(f"{self.address} sent more than asked at connect")

    # -- the reader thread ----------------------------------------------------------------

    def _read_loop(self) -> None:
        buffer = b""
        try:
            while True:
                chunk = self._sock.recv(_READ_SIZE)
                if not chunk:
                    raise NatsClosedError(self.error or f"{self.address} closed the connection")
                buffer = buffer + chunk if buffer else chunk
                used = self._parse(buffer)
                buffer = buffer[used:]
                for hook in self._hooks:
                    hook()
        except Exception as exc:
            self._fail(self.error or str(exc) or type(exc).__name__)

    def _parse(self, buffer: bytes) -> int:
        """Handle the whole commands in ``buffer``; how many bytes they took."""
        at, size, subs = 0, len(buffer), self._subs
        find, startswith = buffer.find, buffer.startswith  # tens of thousands a second
        while True:
            end = find(b"\r\n", at)
            if end < 0:
                return at
            if startswith(b"MSG ", at):  # MSG subject sid [reply] bytes
                args = buffer[at + 4 : end].split()  # spaces or tabs
                start = end + 2
                stop = start + int(args[-1])
                if stop + 2 > size:
                    return at
                callback = subs.get(args[1])
                if callback is not None:
                    reply = args[2] if len(args) == 4 else None
                    callback(args[0], reply, None, buffer[start:stop])
                at = stop + 2
            elif startswith(b"HMSG ", at):  # HMSG subject sid [reply] hbytes bytes
                args = buffer[at + 5 : end].split()
                start = end + 2
                split = start + int(args[-2])
                stop = start + int(args[-1])
                if stop + 2 > size:
                    return at
                callback = subs.get(args[1])
                if callback is not None:
                    reply = args[2] if len(args) == 5 else None
                    callback(args[0], reply, buffer[start:split], buffer[split:stop])
                at = stop + 2
            else:
                self._control(buffer[at:end])
                at = end + 2

    def _control(self, line: bytes) -> None:
        if line.startswith(b"PING"):
            self.send(b"PONG\r\n")
        elif line.startswith(b"PONG"):
            with self._state:
                waiter = self._pongs.popleft() if self._pongs else None
            if waiter is not None:
                waiter.set()
        elif line.startswith(b"-ERR"):
            self.error = f"{self.address} said {_err_text(line)}"  # it closes next, mostly
        # +OK and INFO (cluster updates, lame duck mode) need nothing here

    def _answered(
        self, subject: bytes, reply: bytes | None, headers: bytes | None, data: bytes
    ) -> None:
        with self._state:
            waiter = self._requests.pop(subject.rsplit(b".", 1)[1], None)
        if waiter is not None:
            waiter.msg = Msg(subject, reply, headers, data)
            waiter.done.set()

    def _fail(self, reason: str) -> None:
        with self._state:
            if self._closed:
                return
            self._closed = True
            self.error = self.error or reason
            waiters = [*self._pongs, *(w.done for w in self._requests.values())]
            self._pongs.clear()
            self._requests.clear()
        for waiter in waiters:
            waiter.set()
        for hook in self._hooks:  # waiters on what the reader brings see it closed
            hook()
        with contextlib.suppress(OSError):  # already closed by the server
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()

    # -- what callers use -----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def check(self) -> None:
        if self._closed:
            raise NatsClosedError(self.error or "the connection is closed")

    def add_hook(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` on the reader thread after each read (and once when closing)."""
        with self._state:
            self._hooks = (*self._hooks, hook)

    def remove_hook(self, hook: Callable[[], None]) -> None:
        with self._state:
            self._hooks = tuple(h for h in self._hooks if h is not hook)

    def send(self, data: bytes) -> None:
        """Write packed commands, as one write (a failure closes the connection)."""
        self.check()
        try:
            with self._send_lock:
                self._sock.sendall(data)
        except OSError as exc:
            self._fail(f"writing to {self.address} failed: {_reason(exc)}")
            self.check()

    def subscribe(self, subject: bytes, callback: Callback) -> bytes:
        with self._state:
            self._next_sid += 1
            sid = b"%d" % self._next_sid
            self._subs[sid] = callback
        self.send(b"SUB %s %s\r\n" % (subject, sid))
        return sid

    def unsubscribe(self, sid: bytes) -> None:
        with self._state:
            self._subs.pop(sid, None)
        if not self._closed:
            self.send(b"UNSUB %s\r\n" % sid)

    def flush(self, timeout: float) -> None:
        """Return once the server has read everything sent before (a PING's PONG)."""
        pong = threading.Event()
        with self._state:
            self.check()
            self._pongs.append(pong)
        self.send(b"PING\r\n")
        if not pong.wait(timeout):
            self._fail(f"{self.address} did not answer a PING within {timeout:.1f} s")
        self.check()

    def request(self, subject: str, payload: bytes, timeout: float) -> Msg:
        """The reply to ``payload`` sent to ``subject``; a 503 status (nobody listens)
        raises :class:`NoRespondersError`, no reply in ``timeout`` s a ``TimeoutError``."""
        waiter = _Waiter()
        with self._state:
            self.check()
            self._request_count += 1
            token = b"%d" % self._request_count
            self._requests[token] = waiter
        self.send(pack_publish(subject.encode(), payload, self._inbox + b"." + token))
        if not waiter.done.wait(timeout):
            with self._state:
                self._requests.pop(token, None)
            raise TimeoutError(f"no answer to {subject} within {timeout:.1f} s")
        if waiter.msg is None:
            self.check()
            raise NatsClosedError("the connection closed")  # pragma: no cover - check raises
        if status_of(waiter.msg.headers)[0] == "503":
            raise NoRespondersError(subject)
        return waiter.msg

    def close(self) -> None:
        self._fail("closed")


def _read_line(sock: socket.socket, rest: bytes) -> tuple[bytes, bytes]:
    """One protocol line read synchronously (at connect), and what came after it."""
    while b"\r\n" not in rest:
        chunk = sock.recv(4096)
        if not chunk:
            raise NatsClosedError("the server closed the connection at connect")
        rest += chunk
        if len(rest) > 1 << 16:
            raise NatsClosedError("the server sent a line too long at connect")
    line, rest = rest.split(b"\r\n", 1)
    return line, rest


def _err_text(line: bytes) -> str:
    return line[4:].decode("utf-8", "replace").strip().strip("'")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__
