"""The stream consumer behind ``mlops-lab ingest``: a broker's events into a window view.

Per batch (up to ``batch`` events, waiting at most ``block_ms`` for them):

1. each event is checked against the view's source schema (:mod:`stream_events`); a
   refused one goes to the dead-letter stream with its reason and is counted;
2. the others are applied (:class:`~mlops_lab.features.stream_apply.StreamWriter`):
   online at once, offline as a Parquet part, each event once by its id;
3. only then is the batch acknowledged, so a consumer killed at any point loses nothing
   and its redelivered batch adds nothing twice.

Every ``flush_every`` seconds (or ``flush_rows`` events) the events streamed in so far
become a new version of the view's source dataset, so ``mlops-lab ct`` sees new data.

A broker that is down (at the start or later) is retried with backoff (0.5 s doubling
to 30 s), with a clear message each time and no crash; the store being busy likewise.
Progress is reported each second, off the loop: to the terminal, and to the catalog
(``stream_consumers``) when it changed, else every ``HEARTBEAT_SECONDS``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from mlops_lab.errors import (
    CatalogError,
    InvalidInputError,
    MlopsLabError,
    OnlineStoreUnavailableError,
    StreamUnavailableError,
)
from mlops_lab.features.stream_apply import StreamWriter, flush
from mlops_lab.features.streams import declared_streams, record_progress
from mlops_lab.streaming.brokers import open_source
from mlops_lab.streaming.progress import (
    IngestOptions,
    IngestStats,
    ProgressWrites,
    progress_line,
    progress_values,
)
from mlops_lab.streaming.sources import Delivery, StreamSource, default_consumer

if TYPE_CHECKING:
    from mlops_lab.workspace import Workspace

__all__ = ["IngestOptions", "IngestStats", "Ingestor"]

_TRANSIENT = (StreamUnavailableError, OnlineStoreUnavailableError, CatalogError, OSError)


class Ingestor:
    """Consume one view's stream until stopped (see the module doc)."""

    def __init__(
        self,
        workspace: Workspace,
        view: str,
        *,
        source: str | None = None,
        id_column: str | None = None,
        max_future: str | int | None = None,
        consumer: str | None = None,
        options: IngestOptions | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        declared = declared_streams(workspace).get(view)
        url = source or (declared.source if declared else None)
        if url is None:
            raise InvalidInputError(
                f"Feature view {view!r} has no stream source: pass --source URL, or declare "
                f"it in mlops_lab.yaml (streams: {{{view}: {{source: redis://...?stream=NAME}}}})."
            )
        self.workspace = workspace
        self.view = view
        self.url = url
        self.id_column = id_column or (declared.id_column if declared else None)
        self.max_future = max_future or (declared.max_future if declared else "5m")
        self.consumer = consumer or default_consumer()
        self.options = options or IngestOptions()
        self.say = say or (lambda _text: None)
        self.stats = IngestStats()
        self.stop_event = threading.Event()
        self.started_at = datetime.now(UTC)
        self.source: StreamSource = open_source(url, view=view, consumer=self.consumer)
        self._writer: StreamWriter | None = None
        try:  # a wrong view says so now; an unreachable store is waited for in run()
            self._writer = StreamWriter(
                workspace, view, id_column=self.id_column, max_future=self.max_future
            )
        except _TRANSIENT as exc:
            self._error(f"preparing the stores: {exc}")
        self._status = "starting"
        self._last_flush = time.monotonic()
        self._last_prune = time.monotonic()
        self._upkeep: threading.Thread | None = None
        self._acks: queue.Queue[list[Delivery] | None] = queue.Queue()
        self._window: deque[tuple[float, int]] = deque()  # (time, applied) for the rate
        self._backoff = 0.5
        self._last_said: tuple[int, str] | None = None  # the last progress line printed
        self._said_at = 0.0
        self._writes = ProgressWrites()  # what goes to the catalog

    @property
    def writer(self) -> StreamWriter:
        """The view's writer, made on first use: it materializes the online store, which
        may be unreachable for a while (then the loop waits for it)."""
        if self._writer is None:
            self._writer = StreamWriter(
                self.workspace, self.view, id_column=self.id_column, max_future=self.max_future
            )
        return self._writer

    # -- the loop -----------------------------------------------------------------------

    def stop(self) -> None:
        self.stop_event.set()

    def run(self, *, max_events: int | None = None, idle_exit: float | None = None) -> IngestStats:
        """Consume until :meth:`stop` (or ``max_events`` received, or ``idle_exit`` seconds
        without an event: for tests and one-off catch-ups).

        A reader thread fetches the next batch while this one applies the current (at
        most one batch ahead); what was fetched is applied before returning."""
        self.say(f"{self.view} <- {self.url} (consumer {self.consumer})")
        batches: queue.Queue[list[Delivery]] = queue.Queue(maxsize=1)
        fetching = threading.Event()
        fetching.set()
        reader = threading.Thread(
            target=self._fetch_into, args=(batches, fetching), daemon=True, name="ingest-read"
        )
        acker = threading.Thread(target=self._ack_loop, daemon=True, name="ingest-ack")
        # progress (the broker's lag, a catalog write) is reported beside the batches
        reporting = threading.Event()
        reporter = threading.Thread(
            target=self._report_loop, args=(reporting,), daemon=True, name="ingest-report"
        )
        try:

            def connect() -> bool:
                self.source.open()
                return True

            # The stores first (the online store is materialized up to now), then the broker.
            if self._until_ok(lambda: self.writer, "preparing the stores for") is None:
                return self.stats
            if self._until_ok(connect, "connecting to") is None:
                return self.stats
            reader.start()
            acker.start()
            reporter.start()
            idle_since = time.monotonic()
            while not self.stop_event.is_set():
                if max_events is not None and self.stats.received >= max_events:
                    break
                try:
                    deliveries = batches.get(timeout=0.05)
                except queue.Empty:
                    now = time.monotonic()
                    if idle_exit is not None and now - idle_since >= idle_exit:
                        break
                    if not reader.is_alive():
                        break
                else:
                    self._handle(deliveries)
                    idle_since = time.monotonic()
                self._maybe_flush()
                self._maybe_prune()
        finally:
            fetching.clear()
            deadline = time.monotonic() + self.options.block_ms / 1000 + 30
            while reader.is_alive() or not batches.empty():
                try:  # what was fetched is applied (and acknowledged) now
                    self._handle(batches.get(timeout=0.05))
                except queue.Empty:
                    if time.monotonic() > deadline:
                        break
            if acker.is_alive():
                self._acks.put(None)
                acker.join()
            reporting.set()
            if reporter.is_alive():
                reporter.join()
            self._status = "stopped"
            if self._upkeep is not None:
                self._upkeep.join()
            self._report(force=True)
            self.source.close()
            if self._writer is not None:
                self._writer.close()
        return self.stats

    def _fetch_into(self, batches: queue.Queue[list[Delivery]], fetching: threading.Event) -> None:
        options = self.options
        while fetching.is_set() and not self.stop_event.is_set():
            got = self._until_ok(
                lambda: self.source.fetch(options.batch, options.block_ms), "reading from"
            )
            if not got:
                if got is None:
                    return  # stopped while the broker was away
                continue
            while True:  # wait for room; what was fetched is always handed over
                try:
                    batches.put(got, timeout=0.1)
                    break
                except queue.Full:
                    continue

    def _until_ok(self, work: Callable[[], Any], doing: str) -> Any:
        """``work()``, retried with backoff while the broker or a store is unreachable."""
        while not self.stop_event.is_set():
            try:
                result = work()
            except _TRANSIENT as exc:
                message = exc.message if isinstance(exc, MlopsLabError) else str(exc)
                self._error(f"{doing} {self.url}: {message}")
                self._status = "waiting"
                self.say(f"  ! {message} (retrying in {self._backoff:.1f} s)")
                self._report(force=True)
                self.stop_event.wait(self._backoff)
                self._backoff = min(self._backoff * 2, self.options.max_backoff)
                continue
            if self._status != "running":
                self._status = "running"
                self._report(force=True)
            self._backoff = 0.5
            return result
        return None

    def _handle(self, deliveries: list[Delivery]) -> None:
        parsed = self.writer.parse([d.payload for d in deliveries])
        done = self._until_ok(lambda: self.writer.apply(parsed.table), "applying events from")
        if done is None:
            return  # stopped: nothing acknowledged, all of it comes again
        applied_at_ms = time.time() * 1000
        refused = [(deliveries[i], reason) for i, reason in parsed.refused]
        if refused:

            def dead_letter() -> bool:
                self.source.dead_letter(refused)
                return True

            if self._until_ok(dead_letter, "dead-lettering to") is None:
                return
        self._acks.put(deliveries)  # applied: acknowledged beside the next batch
        stats = self.stats
        stats.batches += 1
        stats.received += len(deliveries)
        stats.applied += done.new
        stats.duplicates += done.repeated + parsed.repeated
        stats.dead_letters += len(refused)
        stats.since_flush += done.new
        if done.part is not None:
            stats.parts += 1
        published = [d.published_ms for d in deliveries if d.published_ms is not None]
        if published:
            stats.freshness.append(applied_at_ms - min(published))
            stats.freshness.append(applied_at_ms - max(published))
        if parsed.table.num_rows:
            column = parsed.table.column(self.writer.view.definition.timestamp)
            newest = pc.max(column).as_py()
            newest_ms = int(newest.replace(tzinfo=newest.tzinfo or UTC).timestamp() * 1000)
            if stats.last_event_ms is None or newest_ms > stats.last_event_ms:
                stats.last_event_ms = newest_ms
        for delivery, reason in refused[:3]:
            self.say(f"  dead letter {delivery.token!r}: {reason}")
        self._window.append((time.monotonic(), stats.applied))

    def _ack_loop(self) -> None:
        """Acknowledge applied batches, in order, until told to stop (None). A lost ack
        only means the batch comes again, and adds nothing then."""
        while (deliveries := self._acks.get()) is not None:
            try:
                self.source.ack(deliveries)
            except StreamUnavailableError as exc:
                self._error(f"acknowledging to {self.url}: {exc.message}")

    def _error(self, text: str) -> None:
        self.stats.last_error = text
        self.stats.last_error_at = datetime.now(UTC)

    # -- flushes and reports ------------------------------------------------------------

    def _maybe_flush(self) -> None:
        options = self.options
        due = (
            options.flush_every is not None
            and time.monotonic() - self._last_flush >= options.flush_every
        ) or (options.flush_rows is not None and self.stats.since_flush >= options.flush_rows)
        if due and self._in_background(self._flush):
            self._last_flush = time.monotonic()
            self.stats.since_flush = 0

    def _flush(self) -> None:
        try:
            cut = flush(self.workspace, self.view)
        except (*_TRANSIENT, MlopsLabError) as exc:
            message = exc.message if isinstance(exc, MlopsLabError) else str(exc)
            self._error(f"cutting a dataset version: {message}")
            self.say(f"  ! cutting a dataset version failed: {message}")
            return
        if cut is not None:
            self.stats.dataset_version = cut["version"]
            self.say(
                f"  {cut['dataset']} v{cut['version']}: +{cut['added']} streamed events "
                f"({cut['rows']} rows)"
            )
            checks = cut.get("checks")
            if checks and checks["failed"]:
                self.say(
                    f"  ! {cut['dataset']} v{cut['version']} fails data checks: "
                    f"{', '.join(checks['failing'])} (mlops-lab datasets check "
                    f"{cut['dataset']}@{cut['version']} shows the rows)"
                )

    def _maybe_prune(self) -> None:
        every = self.options.prune_every
        if every is None or time.monotonic() - self._last_prune < every:
            return
        if self._in_background(self._prune):
            self._last_prune = time.monotonic()

    def _prune(self) -> None:
        try:
            dropped = self.writer.prune_online()
        except (*_TRANSIENT, MlopsLabError) as exc:
            message = exc.message if isinstance(exc, MlopsLabError) else str(exc)
            self._error(f"pruning the online store: {message}")
            return
        if dropped:
            self.say(f"  online store: {dropped:,} events older than every window dropped")

    def _in_background(self, work: Callable[[], None]) -> bool:
        """Run upkeep (a dataset version cut, a prune) beside the batches, one at a time,
        so it never holds events back; False when one is still running."""
        if self._upkeep is not None and self._upkeep.is_alive():
            return False
        self._upkeep = threading.Thread(target=work, daemon=True, name="ingest-upkeep")
        self._upkeep.start()
        return True

    def rate(self) -> float:
        """Events applied per second over the last 10 s."""
        now = time.monotonic()
        while self._window and now - self._window[0][0] > 10:
            self._window.popleft()
        if len(self._window) < 2:
            return 0.0
        (t0, a0), (t1, a1) = self._window[0], self._window[-1]
        return (a1 - a0) / (t1 - t0) if t1 > t0 else 0.0

    def _report_loop(self, done: threading.Event) -> None:
        while not done.wait(self.options.report_every):
            try:
                self._report()
            except Exception as exc:  # a report never stops the reports
                self._error(f"reporting progress: {exc}")

    def _report(self, *, force: bool = False) -> None:
        stats = self.stats
        try:
            lag = self.source.lag()
        except Exception:  # a report never fails the loop
            lag = None
        last_event = (
            datetime.fromtimestamp(stats.last_event_ms / 1000, UTC)
            if stats.last_event_ms is not None
            else None
        )
        values = progress_values(
            stats,
            source=self.url,
            status=self._status,
            rate=self.rate(),
            lag=lag,
            last_event=last_event,
        )
        if self._writes.due(values, force=force):
            try:
                record_progress(self.workspace, self.view, self.consumer, self.started_at, **values)
                self._writes.written(values)
            except (CatalogError, OSError) as exc:
                self.say(f"  ! progress not recorded: {exc}")
        moved = (stats.received, self._status) != self._last_said
        if moved or force or time.monotonic() - self._said_at >= 30:
            self._last_said, self._said_at = (stats.received, self._status), time.monotonic()
            self.say(progress_line(stats, self.rate(), lag, last_event))
