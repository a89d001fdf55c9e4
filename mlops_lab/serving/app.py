"""The model server's HTTP side (tornado): predict, health, metadata, metrics, rollout.

Routes:
  POST /predict          {"entity": {...}, "features": {...}} or {"instances": [...]}
  GET  /health           200 while a model is loaded
  GET  /metadata         served versions, signatures, online features, split, freshness
  GET  /metrics          Prometheus text: requests by variant and status, latency histogram
  POST /rollout          {"split": 0.5} moves the challenger's share, no restart
  POST /rollback         the challenger's share back to 0
Errors answer ``{"error": {"type", "status", "message"}}``: 404 unknown entity,
422 malformed body or features, 503 online store unreachable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from typing import Any

import tornado.httpserver
import tornado.ioloop
import tornado.web

from mlops_lab.errors import InvalidInputError, MlopsLabError
from mlops_lab.serving.metrics import ServingMetrics
from mlops_lab.serving.predictor import Predictor

__all__ = ["make_app", "run_server"]

log = logging.getLogger("mlops_lab.serving")


class _Handler(tornado.web.RequestHandler):
    def initialize(self, predictor: Predictor, metrics: ServingMetrics) -> None:
        self.predictor = predictor
        self.metrics = metrics

    def write_json(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(payload, default=str))

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError as exc:
            raise _Unprocessable(f"The body is not valid JSON: {exc}.") from None
        if not isinstance(data, dict):
            raise _Unprocessable("The body must be a JSON object.")
        return data

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlopsLabError):
            status = (
                422
                if isinstance(exc, InvalidInputError) and exc.http_status == 400
                else (exc.http_status)
            )
            self.write_json({"error": {**exc.to_dict(), "status": status}}, status)
            return
        self.write_json(
            {
                "error": {
                    "type": "InternalError",
                    "status": status_code,
                    "message": "The server failed; see its log.",
                }
            },
            status_code,
        )

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlopsLabError) and value.http_status < 500:
            return
        super().log_exception(typ, value, tb)


class _Unprocessable(InvalidInputError):
    pass


class PredictHandler(_Handler):
    def post(self) -> None:
        start = time.perf_counter()
        variant, status = "none", 200
        try:
            data = self.body()
            unknown = sorted(set(data) - {"entity", "features", "instances"})
            if unknown:
                raise _Unprocessable(
                    f"Unknown field(s) {', '.join(unknown)}; expected "
                    "entity and features, or instances."
                )
            if "instances" in data:
                instances = data["instances"]
                if not isinstance(instances, list) or not instances:
                    raise _Unprocessable("'instances' must be a non-empty list.")
                answers = [self._one(i) for i in instances]
                variant = answers[0]["variant"]
                self.write_json({"predictions": answers})
            else:
                if "entity" not in data and "features" not in data:
                    raise _Unprocessable("Give 'entity' (join keys) and/or 'features'.")
                answer = self._one(data)
                variant = answer["variant"]
                self.write_json(answer)
        except MlopsLabError as exc:
            status = 422 if exc.http_status == 400 else exc.http_status
            raise
        finally:
            self.metrics.observe(variant, status, time.perf_counter() - start)

    def _one(self, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise _Unprocessable("Each instance is an object with 'entity' and/or 'features'.")
        return self.predictor.predict(item.get("entity") or {}, item.get("features"))


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
        extra = {"split": self.predictor.split.share}
        for name, slot in self.predictor.slots.items():
            extra[f"{name}_version"] = slot.version
        if self.predictor.log is not None:
            extra["predictions_logged"] = self.predictor.log.written
        self.finish(self.metrics.render(extra))


class RolloutHandler(_Handler):
    def post(self) -> None:
        data = self.body()
        if "challenger" not in self.predictor.slots:
            raise InvalidInputError("No challenger is served: start with --challenger.")
        if "split" not in data:
            raise _Unprocessable("Give the challenger's share as {'split': 0.5}.")
        self.write_json(self.predictor.split.set(data["split"], reason=str(data.get("reason", ""))))


class RollbackHandler(_Handler):
    def post(self) -> None:
        data = self.body()
        self.write_json(self.predictor.split.set(0.0, reason=str(data.get("reason", "rollback"))))


def make_app(
    predictor: Predictor, metrics: ServingMetrics | None = None
) -> tornado.web.Application:
    context = {"predictor": predictor, "metrics": metrics or ServingMetrics()}
    return tornado.web.Application(
        [
            (r"/predict", PredictHandler, context),
            (r"/health", HealthHandler, context),
            (r"/metadata", MetadataHandler, context),
            (r"/metrics", MetricsHandler, context),
            (r"/rollout", RolloutHandler, context),
            (r"/rollback", RollbackHandler, context),
        ]
    )


def run_server(predictor: Predictor, *, host: str, port: int, poll: float = 1.0) -> dict[str, int]:
    """Serve until SIGINT/SIGTERM; then stop accepting, flush the prediction log, return counts."""
    import gc

    app = make_app(predictor)
    server = tornado.httpserver.HTTPServer(app)
    # Everything loaded so far (models, features, libraries) lives until the end: keep it
    # out of the collector's work, so full collections stay short pauses.
    gc.collect()
    gc.freeze()
    server.listen(port, address=host)
    loop = tornado.ioloop.IOLoop.current()
    watcher = tornado.ioloop.PeriodicCallback(
        lambda: loop.run_in_executor(None, predictor.refresh), poll * 1000
    )
    watcher.start()
    stopping = asyncio.Event()

    def stop(*_: Any) -> None:
        loop.asyncio_loop.call_soon_threadsafe(stopping.set)  # type: ignore[attr-defined]

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    log.info("mlops-lab serve: listening on http://%s:%d", host, port)

    async def main() -> None:
        await stopping.wait()
        server.stop()
        watcher.stop()
        await server.close_all_connections()

    loop.run_sync(main)
    counts = predictor.log.close() if predictor.log is not None else {}
    return counts
