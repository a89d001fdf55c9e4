"""NATS JetStream as a stream source (see :mod:`mlops_lab.streaming.sources`).

A durable pull consumer (explicit acks, ``ack_wait`` = the URL's ``claim_idle``) on the
stream that holds the subject: several processes on one durable share its events, and an
event a dead process never acknowledged is delivered again after ``ack_wait``.

nats-py is asyncio; this class is synchronous (like the Redis source): its coroutines run
on a private event loop in a daemon thread. It connects without nats-py's own endless
reconnecting: a lost connection is dropped and made again by the next call, so the ingest
loop's backoff is the only retrying. Pulls are made here, not with nats-py's ``fetch``
(which waits on two tasks per message, about 10,000 events/s): one subscription whose
callback queues what the server sends; a request for what is there now (``no_wait``),
then, when nothing is, one that waits up to ``block_ms``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from mlops_lab.errors import InvalidInputError, MlopsLabError, StreamUnavailableError
from mlops_lab.streaming.nats_messages import REPLY_TIMEOUT, delivery_of, publish_pipelined
from mlops_lab.streaming.sources import DEAD_LETTER_SUFFIX, Delivery, StreamURL

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.aio.subscription import Subscription
    from nats.js import JetStreamContext

__all__ = ["NatsJetStreamSource", "stream_name"]

_T = TypeVar("_T")
_CONNECT_TIMEOUT = 2.0  # seconds, per attempt
_PULL_TIMEOUT = 2.0  # seconds for the answer to a no_wait pull (a few ms when all is well)
_IN_FLIGHT = 20_000  # events published and not yet acknowledged by JetStream
MAX_ACK_PENDING = 200_000  # delivered and not yet acknowledged, over all processes


def stream_name(subject: str) -> str:
    """The JetStream stream made for ``subject`` when the URL names none."""
    return subject.upper().replace(".", "_").replace("*", "_").replace(">", "_")


class _Pull:
    """One pull request's reply inbox: done when the server says so (a status message)."""

    def __init__(self, inbox: str) -> None:
        self.inbox = inbox
        self.done = asyncio.Event()
        self.status: str | None = None
        self.description = ""


class NatsJetStreamSource:
    """A process on a JetStream durable pull consumer."""

    def __init__(self, url: StreamURL, *, durable: str, consumer: str) -> None:
        try:
            import nats  # noqa: F401
        except ImportError as exc:  # pragma: no cover - nats-py is in [nats]
            raise InvalidInputError(
                f"The stream {url.url} needs the NATS client: pip install 'mlops_lab[nats]'."
            ) from exc
        if any(token in ("*", ">") for token in url.name.split(".")):
            raise InvalidInputError(
                f"The stream {url.url} names the subject {url.name!r} with a wildcard: name "
                "one subject (events are published to it and its dead letters to "
                f"{url.name}.{DEAD_LETTER_SUFFIX})."
            )
        self.url = url.url
        self.subject = url.name
        self.durable = durable
        self.consumer = consumer  # for messages; processes on one durable are not named
        self.dead_letters = f"{url.name}.{DEAD_LETTER_SUFFIX}"
        self.stream = url.stream
        self._server = url.server
        self._ack_wait = url.claim_idle_ms / 1000
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._sub: Subscription | None = None
        self._buffer: deque[Msg] = deque()
        self._arrived = asyncio.Event()
        self._pulls: dict[str, _Pull] = {}
        self._pull_count = 0
        self._inbox = ""
        self._last_error = ""
        self._connecting: asyncio.Lock | None = None
        self._closing: set[asyncio.Future[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- the event loop in its thread, and errors --------------------------------------

    def _run(self, work: Callable[[], Awaitable[_T]], timeout: float) -> _T:
        """``work()`` on the loop (connected first), its nats errors made ours."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name=f"nats {self.subject}", daemon=True
            )
            self._thread.start()

        async def connected() -> _T:
            # Methods are called from several threads (the ingest loop reads, acknowledges
            # and reports side by side): all of it runs here, one connection made at once.
            if self._connecting is None:
                self._connecting = asyncio.Lock()
            async with self._connecting:
                await self._connect()
            nc = self._nc
            try:
                return await work()
            except Exception as exc:
                raise self._ours(exc, nc) from exc

        future = asyncio.run_coroutine_threadsafe(connected(), self._loop)
        # a safety net: every wait on the loop has a shorter timeout of its own
        concurrent.futures.wait([future], timeout + REPLY_TIMEOUT + _CONNECT_TIMEOUT * 2)
        if not future.done():
            future.cancel()
            raise StreamUnavailableError(self.url, "no answer in time")
        try:
            return future.result()
        except MlopsLabError:
            raise
        except Exception as exc:  # from connecting
            raise self._ours(exc, None) from exc

    def _ours(self, exc: Exception, nc: Client | None) -> Exception:
        """The error to raise for ``exc``: a broker that does not answer is unavailable (the
        connection is dropped, the next call connects again); a refusal is bad input."""
        import nats.errors
        import nats.js.errors

        if isinstance(exc, nats.js.errors.ServiceUnavailableError):
            detail = "JetStream is not available"
        elif isinstance(exc, nats.js.errors.APIError):
            return InvalidInputError(
                f"NATS JetStream refused a request for the stream {self.url} "
                f"({exc.description or exc}). Check the stream {self.stream!r} and the "
                f"durable consumer {self.durable!r} on the server."
            )
        elif isinstance(exc, nats.errors.NoRespondersError | nats.js.errors.NoStreamResponseError):
            detail = "no JetStream answers: is nats-server started with -js, the stream there?"
        elif isinstance(exc, nats.errors.NoServersError):
            detail = self._last_error or "no server answers"
        elif isinstance(exc, nats.errors.Error | OSError):  # TimeoutError is an OSError
            detail = str(exc) or type(exc).__name__
        else:
            return exc
        self._drop(nc)
        return StreamUnavailableError(self.url, detail)

    def _drop(self, nc: Client | None) -> None:
        """Forget the connection ``nc`` if it is still the current one (on the loop; it is
        closed in the background): the next call connects again. Pulls waiting on it end."""
        if nc is None or nc is not self._nc:
            return
        self._nc, self._js, self._sub = None, None, None
        self._buffer.clear()  # not acknowledged: delivered again after ack_wait
        for pull in self._pulls.values():
            pull.status = "closed"
            pull.done.set()
        self._pulls.clear()
        closing = asyncio.ensure_future(_quietly(nc.close()))
        self._closing.add(closing)  # kept until done (the loop holds tasks weakly)
        closing.add_done_callback(self._closing.discard)

    async def _error_cb(self, exc: Exception) -> None:
        self._last_error = str(exc) or type(exc).__name__

    # -- connecting ---------------------------------------------------------------------

    async def _connect(self) -> None:
        if self._nc is not None and self._nc.is_connected:
            return
        self._drop(self._nc)
        import nats
        import nats.js.errors
        from nats.js import api

        self._last_error = ""
        self._arrived = asyncio.Event()  # of this loop
        nc = await nats.connect(
            self._server,
            connect_timeout=_CONNECT_TIMEOUT,
            allow_reconnect=False,
            max_reconnect_attempts=1,  # 0 would be forever: one more try, then give up
            reconnect_time_wait=0.1,
            error_cb=self._error_cb,
        )
        try:
            js = nc.jetstream(timeout=REPLY_TIMEOUT)
            if self.stream is None:
                try:
                    self.stream = await js.find_stream_name_by_subject(self.subject)
                except nats.js.errors.NotFoundError:
                    self.stream = stream_name(self.subject)
            try:
                await js.stream_info(self.stream)
            except nats.js.errors.NotFoundError:
                await js.add_stream(
                    name=self.stream,
                    subjects=[self.subject, self.dead_letters],
                    storage=api.StorageType.FILE,
                )
            try:
                await js.consumer_info(self.stream, self.durable)
            except nats.js.errors.NotFoundError:
                await js.add_consumer(
                    self.stream,
                    api.ConsumerConfig(
                        durable_name=self.durable,
                        ack_policy=api.AckPolicy.EXPLICIT,
                        ack_wait=self._ack_wait,
                        max_ack_pending=MAX_ACK_PENDING,
                        filter_subject=self.subject,
                        deliver_policy=api.DeliverPolicy.ALL,
                    ),
                )
            inbox = nc.new_inbox()
            self._sub = await nc.subscribe(f"{inbox}.*", cb=self._received)
        except BaseException:
            await _quietly(nc.close())
            raise
        self._nc, self._js, self._inbox = nc, js, inbox

    async def _received(self, msg: Msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None and msg.reply:
            self._buffer.append(msg)
            self._arrived.set()
            return
        pull = self._pulls.get(msg.subject)
        if pull is not None and status != "100":  # 100: a heartbeat
            del self._pulls[msg.subject]
            pull.status = status
            pull.description = (msg.headers or {}).get("Description", "")
            pull.done.set()

    # -- reading ------------------------------------------------------------------------

    def open(self) -> None:
        self._run(_nothing, REPLY_TIMEOUT)

    def fetch(self, max_events: int, block_ms: int) -> list[Delivery]:
        return self._run(lambda: self._fetch(max_events, block_ms), block_ms / 1000)

    async def _pull(self, batch: int, *, expires_ms: int | None) -> _Pull:
        assert self._nc is not None
        self._pull_count += 1
        pull = _Pull(f"{self._inbox}.{self._pull_count}")
        self._pulls[pull.inbox] = pull
        request: dict[str, Any] = {"batch": batch}
        if expires_ms is None:
            request["no_wait"] = True
        else:
            request["expires"] = expires_ms * 1_000_000
        await self._nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.durable}",
            json.dumps(request).encode(),
            reply=pull.inbox,
        )
        return pull

    async def _fetch(self, max_events: int, block_ms: int) -> list[Delivery]:
        if not self._buffer:  # else: what an earlier pull brought and was not taken yet
            pull = await self._pull(max_events, expires_ms=None)
            await self._until(pull, lambda: len(self._buffer) >= max_events, _PULL_TIMEOUT)
        if not self._buffer and block_ms > 0:
            pull = await self._pull(max_events, expires_ms=block_ms)
            await self._until(pull, lambda: bool(self._buffer), block_ms / 1000 + 1)
            await asyncio.sleep(0)  # what came in the same read
        taken = [self._buffer.popleft() for _ in range(min(max_events, len(self._buffer)))]
        return [delivery_of(msg) for msg in taken]

    async def _until(self, pull: _Pull, enough: Callable[[], bool], timeout: float) -> None:
        """Wait for ``pull`` to end, or ``enough()``; a pull the server never ends is a
        broker that does not answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not pull.done.is_set() and not enough():
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no answer to a pull within {timeout:.1f} s")
            self._arrived.clear()
            done = asyncio.ensure_future(pull.done.wait())
            arrived = asyncio.ensure_future(self._arrived.wait())
            await asyncio.wait({done, arrived}, timeout=left, return_when="FIRST_COMPLETED")
            done.cancel()
            arrived.cancel()
        self._pulls.pop(pull.inbox, None)  # a status after this is for nobody
        if pull.status in ("closed", "503"):  # 503: no responders (the durable is gone)
            import nats.errors

            raise (
                nats.errors.NoRespondersError
                if pull.status == "503"
                else nats.errors.ConnectionClosedError
            )
        if pull.status == "409" and "deleted" in pull.description.lower():
            raise _conflict(pull.description)  # connecting again makes the durable again
        # another 409 (Exceeded MaxAckPending, MaxWaiting...): nothing now, ask again later

    # -- writing ------------------------------------------------------------------------

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return

        async def ack() -> None:
            assert self._nc is not None
            for delivery in deliveries:
                await self._nc.publish(delivery.token.reply)
            await self._nc.flush(timeout=int(REPLY_TIMEOUT))  # the server has them

        self._run(ack, REPLY_TIMEOUT)

    def dead_letter(self, deliveries: Sequence[tuple[Delivery, str]]) -> None:
        if not deliveries:
            return

        async def publish() -> None:
            assert self._js is not None
            for delivery, reason in deliveries:
                headers = {
                    "reason": " ".join(reason.split()),
                    "sequence": str(delivery.token.sequence),
                    "durable": self.durable,
                }
                await self._js.publish(self.dead_letters, delivery.payload, headers=headers)

        self._run(publish, REPLY_TIMEOUT + len(deliveries) / 1000)

    def publish(self, payloads: Sequence[bytes]) -> list[Any]:
        """Pipelined: up to ``_IN_FLIGHT`` published before their acks come back (nats-py's
        ``publish_async`` takes about 0.2 ms per event here; this is several times faster)."""

        def publish() -> Awaitable[list[Any]]:
            assert self._nc is not None
            return publish_pipelined(self._nc, self.subject, payloads, in_flight=_IN_FLIGHT)

        return self._run(publish, REPLY_TIMEOUT + len(payloads) / 5000)

    def lag(self) -> int | None:
        async def pending() -> int:
            assert self._js is not None and self.stream is not None
            info = await self._js.consumer_info(self.stream, self.durable)
            return int(info.num_pending or 0)

        return self._run(pending, REPLY_TIMEOUT)

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        nc, self._nc = self._nc, None

        async def close() -> None:
            if nc is not None and nc.is_connected:
                await _quietly(nc.flush(timeout=int(REPLY_TIMEOUT)))  # acks sent last
            if nc is not None:
                await _quietly(nc.close())

        with contextlib.suppress(Exception):  # a timeout too: closing anyway
            asyncio.run_coroutine_threadsafe(close(), loop).result(REPLY_TIMEOUT * 2)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(REPLY_TIMEOUT)
        if not thread.is_alive():
            loop.close()
        self._loop = self._thread = None
        self._js = self._sub = self._connecting = None
        self._buffer.clear()


def _conflict(description: str) -> Exception:
    import nats.errors

    return nats.errors.Error(f"the pull was refused: {description or 'conflict'}")


async def _nothing() -> None:
    return None


async def _quietly(work: Awaitable[Any]) -> None:
    with contextlib.suppress(Exception):  # closing what may be broken already
        await work
