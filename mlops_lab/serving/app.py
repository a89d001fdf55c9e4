"""The model server's HTTP side (tornado): predict, health, metadata, metrics, rollout.

Routes:
  POST /predict          {"entity": {...}, "features": {...}} or {"instances": [...]}
  GET  /health           200 while a model is loaded
  GET  /metadata         served versions, signatures, online features, split, freshness
  GET  /metrics          Prometheus text: requests by variant and status, errors by variant
                         and class (4xx the client's, 5xx the server's), latency histogram,
                         requests in flight, the time the counters started from
  GET  /metrics/history  the same per 10-second bucket over the last hour (JSON; see
                         :mod:`mlops_lab.serving.history`)
  POST /rollout          {"split": 0.5} moves the challenger's share, no restart
  POST /rollback         the challenger's share back to 0

The request bodies are declared once, in ``openapi.yaml`` beside this module
(see :mod:`mlops_lab.serving.limits`). Errors answer
``{"error": {"type", "status", "message"}}``, naming the field (a wrong field
also in ``fields: [{"field", "reason"}]``):

- 400 the body is not strict JSON, or is nested deeper than 32 levels;
- 404 unknown entity (or route);
- 413 the body is over ``--max-body-bytes`` (default 4 MiB; refused on its
  ``Content-Length`` before it is read) or ``instances`` holds more than
  ``--max-instances`` (default 1,000);
- 422 a field is wrong: unknown, mistyped (a boolean is not a number; a join
  key is a string or an integer), ``NaN``/``Infinity``/beyond the float range,
  a string over 4,096 characters, features missing, or values the model
  refuses;
- 503 the online store is unreachable.

A bad request changes nothing: it is refused before any prediction, and a
prediction is logged if and only if it was answered 200 (a batch is scored
whole before any of it is logged). A request body over 2 KiB (a batch) is
parsed and predicted on a worker thread, so ``/health`` and small requests
keep answering meanwhile. SIGTERM/SIGINT stops accepting connections,
answers the requests in flight (at most ``--drain-seconds``, default 10; a
second signal cuts the wait), flushes the prediction log and returns.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tornado.web

from mlops_lab.errors import (
    InvalidFieldError,
    InvalidInputError,
    MalformedBodyError,
    MlopsLabError,
    NotFoundError,
    PayloadTooLargeError,
    ServerStoppingError,
)
from mlops_lab.serving.limits import ServingLimits, body_schemas, parse_body, predict_items
from mlops_lab.serving.metrics import ServingMetrics
from mlops_lab.serving.predictor import Predictor
from mlops_lab.serving.predlog import Record

__all__ = ["ServerState", "make_app"]

log = logging.getLogger("mlops_lab.serving")

_INLINE_BYTES = 2048  # a body up to this size (one prediction) is answered on the loop
_LINGER_BYTES = 64 * 1024 * 1024  # an oversized body up to this size is read and dropped


class ServerState:
    """What the handlers share: predictor, metrics, limits, the worker threads, and the
    requests in flight (a shutdown waits for them)."""

    def __init__(self, predictor: Predictor, metrics: ServingMetrics, limits: ServingLimits):
        self.predictor = predictor
        self.metrics = metrics
        self.limits = limits
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mlops-lab-predict")
        self.in_flight = 0  # every request (touched on the loop thread only)
        self.predicting = 0  # /predict requests
        self.closing = False  # past the drain: nothing more is answered or logged
        self._idle: asyncio.Future[None] | None = None

    def enter(self, predict: bool) -> None:
        self.in_flight += 1
        self.predicting += predict

    def leave(self, predict: bool) -> None:
        self.in_flight -= 1
        self.predicting -= predict
        if self.in_flight == 0 and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    async def drain(self, seconds: float) -> bool:
        """Wait until no request is in flight (True), or ``seconds`` pass (False)."""
        deadline = time.monotonic() + seconds
        while self.in_flight > 0 and not self.closing:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._idle = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._idle), left)
            except TimeoutError:
                return False
        return self.in_flight == 0

    def cut(self) -> None:
        """A second signal: stop waiting for the requests in flight."""
        self.closing = True
        if self._idle is not None and not self._idle.done():
            self._idle.set_result(None)


def _status(exc: MlopsLabError) -> int:
    if isinstance(exc, MalformedBodyError):
        return 400
    if isinstance(exc, InvalidInputError) and exc.http_status == 400:
        return 422
    return exc.http_status


class _Handler(tornado.web.RequestHandler):
    _predict = False

    def initialize(self, service: ServerState) -> None:
        self.service = service
        self.predictor = service.predictor
        self.metrics = service.metrics
        # Counted in flight as soon as tornado has the request's headers (it creates the
        # handler then, and runs prepare() only on a later turn of the loop): a drain that
        # ends between the two would otherwise refuse a request it had received.
        service.enter(self._predict)
        self._counted = True

    def on_finish(self) -> None:
        self._leave()

    def _leave(self) -> None:
        if self._counted:
            self._counted = False
            self.service.leave(self._predict)

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlopsLabError):
            status = _status(exc)
            error = {**exc.to_dict(), "status": status}
            if isinstance(exc, InvalidFieldError) and exc.field:
                reason = exc.message.rpartition(f"{exc.field}: ")[2]
                index = getattr(self, "failed_instance", None)  # a batch's instance
                field = exc.field if index is None else f"instances[{index}].{exc.field}"
                error["fields"] = [{"field": field, "reason": reason}]
            self.write_json({"error": error}, status)
            return
        if isinstance(exc, tornado.web.HTTPError) and status_code < 500:
            error = {"type": "HTTPError", "status": status_code, "message": self._reason}
        else:
            error = {
                "type": "InternalError",
                "status": status_code,
                "message": "The server failed; see its log.",
            }
        self.write_json({"error": error}, status_code)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlopsLabError) and _status(value) < 500:
            return
        super().log_exception(typ, value, tb)


class _NotFound(_Handler):
    def prepare(self) -> None:
        raise NotFoundError(
            f"No route {self.request.path[:200]!r}: POST /predict, /rollout, /rollback; "
            "GET /health, /metadata, /metrics, /metrics/history."
        )


@tornado.web.stream_request_body
class _BodyHandler(_Handler):
    """A POST whose body is received in chunks, refused at once when it is too large."""

    def prepare(self) -> None:
        super().prepare()
        self._chunks: list[bytes] = []
        self._size = 0
        self._in_post = False
        self._refused: PayloadTooLargeError | None = None
        limit = self.service.limits.max_body_bytes
        declared = self.request.headers.get("Content-Length")
        size = int(declared) if declared is not None and declared.isdigit() else None
        set_max = getattr(self.request.connection, "set_max_body_size", None)
        if size is None or size <= limit:
            if size is None and set_max is not None:  # chunked: counted as it arrives
                set_max(_LINGER_BYTES)
            return
        # Decided now, on the header, before anything is read. A client that waits for
        # "100 Continue", or a body too large to drop, gets the answer at once (and the
        # connection closes); otherwise what arrives is dropped unread, so a client still
        # sending can read the answer instead of a reset connection.
        self._refused = PayloadTooLargeError(
            size,
            limit,
            message=f"The body is {size} bytes; this server takes at most {limit} "
            "(`mlops-lab serve --max-body-bytes`). Split the batch.",
        )
        if set_max is not None:
            set_max(size)
        expects = self.request.headers.get("Expect", "").lower() == "100-continue"
        if expects or size > _LINGER_BYTES or set_max is None:
            raise self._refused

    def data_received(self, chunk: bytes) -> None:
        if self._refused is not None:
            return
        self._size += len(chunk)
        limit = self.service.limits.max_body_bytes
        if self._size <= limit:
            self._chunks.append(chunk)
        else:  # a chunked body past the limit
            self._chunks = []
            self._refused = PayloadTooLargeError(
                self._size,
                limit,
                message=f"The body is over {limit} bytes, the most this server takes "
                "(`mlops-lab serve --max-body-bytes`). Split the batch.",
            )

    def on_connection_close(self) -> None:
        if not self._in_post:  # the body never arrived: post() will not run
            self._leave()

    def raw_body(self) -> bytes:
        self._in_post = True
        if self._refused is not None:
            raise self._refused
        return b"".join(self._chunks)

    def gone(self) -> bool:
        """The client went away (or the drain ended): not answered, so not logged."""
        stream = getattr(self.request.connection, "stream", None)
        return self.service.closing or (stream is not None and stream.closed())

    async def off_loop(self, work: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.service.executor, work, *args)


class PredictHandler(_BodyHandler):
    _predict = True
    failed_instance: int | None = None  # the instance of a batch the model refused

    def prepare(self) -> None:
        self._start = time.perf_counter()
        self._variant = "none"
        super().prepare()

    async def post(self) -> None:
        raw = self.raw_body()
        if len(raw) <= _INLINE_BYTES:
            payload, records, variant = self._predict_body(raw, False)
        else:  # a batch: parsed and predicted on a worker thread, the loop keeps answering
            payload, records, variant = await self.off_loop(self._predict_body, raw, True)
        if self.gone():
            raise ServerStoppingError(
                "The server stopped before this answer was ready; not logged. Retry."
            )
        self._variant = variant
        self.predictor.commit(records)  # logged iff answered: nothing can fail from here
        self.set_header("Content-Type", "application/json")
        self.finish(payload)

    def _predict_body(self, raw: bytes, worker: bool) -> tuple[bytes, list[Record | None], str]:
        """Parse, check every instance, then score them all; log records are returned,
        not written, so a batch with one bad instance logs nothing."""
        items, batch = predict_items(parse_body(raw, self.service.limits), self.service.limits)
        scored = []
        for index, (entity, features) in enumerate(items):
            try:
                scored.append(self.predictor.score(entity, features))
            except Exception as exc:
                # Routed: the failure counts against the variant that refused it.
                self._variant = self.predictor.variant(entity)
                if not isinstance(exc, MlopsLabError):
                    raise
                if batch:  # name the instance
                    exc.message = f"instances[{index}]: {exc.message}"
                    exc.args = (exc.message,)
                    self.failed_instance = index
                raise
            if worker:
                time.sleep(0)  # hand the GIL to the loop between instances: /health stays quick
        answers = [answer for answer, _ in scored]
        payload = {"predictions": answers} if batch else answers[0]
        return (
            json.dumps(payload, default=str).encode(),
            [r for _, r in scored],
            answers[0]["variant"],
        )

    def on_finish(self) -> None:
        super().on_finish()
        self.metrics.observe(self._variant, self.get_status(), time.perf_counter() - self._start)


class HealthHandler(_Handler):
    def get(self) -> None:
        self.write_json(
            {
                "status": "ok",
                "versions": {name: slot.version for name, slot in self.predictor.slots.items()},
            }
        )


class MetadataHandler(_Handler):
    def get(self) -> None:
        self.write_json({**self.predictor.metadata(), "traffic": self.metrics.snapshot()})


class MetricsHandler(_Handler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; version=0.0.4")
        extra: dict[str, float] = {
            "split": self.predictor.split.share,
            "requests_in_flight": self.service.predicting,
            "start_time_seconds": self.metrics.started,
        }
        for name, slot in self.predictor.slots.items():
            extra[f"{name}_version"] = slot.version
        if self.predictor.log is not None:
            extra["predictions_logged"] = self.predictor.log.written
        self.finish(self.metrics.render(extra))


class MetricsHistoryHandler(_Handler):
    def get(self) -> None:
        self.write_json(self.metrics.history.series())


class RolloutHandler(_BodyHandler):
    def post(self) -> None:
        data = body_schemas().check(
            "post", "/rollout", parse_body(self.raw_body(), self.service.limits)
        )
        if "challenger" not in self.predictor.slots:
            raise InvalidInputError("No challenger is served: start with --challenger.")
        self.write_json(self.predictor.split.set(data["split"], reason=data.get("reason", "")))


class RollbackHandler(_BodyHandler):
    def post(self) -> None:
        data = body_schemas().check(
            "post", "/rollback", parse_body(self.raw_body(), self.service.limits)
        )
        self.write_json(self.predictor.split.set(0.0, reason=data.get("reason", "rollback")))


def make_app(
    predictor: Predictor,
    metrics: ServingMetrics | None = None,
    *,
    limits: ServingLimits | None = None,
) -> tornado.web.Application:
    service = ServerState(predictor, metrics or ServingMetrics(), limits or ServingLimits())
    context = {"service": service}
    return tornado.web.Application(
        [
            (r"/predict", PredictHandler, context),
            (r"/health", HealthHandler, context),
            (r"/metadata", MetadataHandler, context),
            (r"/metrics", MetricsHandler, context),
            (r"/metrics/history", MetricsHistoryHandler, context),
            (r"/rollout", RolloutHandler, context),
            (r"/rollback", RollbackHandler, context),
        ],
        default_handler_class=_NotFound,
        default_handler_args=context,
        service=service,
    )
