"""GET /features/streams and a view's `stream`: what the panel shows of stream ingest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml
from schemathesis.specs.openapi.converter import to_json_schema

from mlops_lab import init_workspace, open_workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.features.streams import declare_stream, record_progress
from tests.paths import OPENAPI

T0 = pd.Timestamp("2026-03-01", tz="UTC")
SOURCE = "redis://127.0.0.1:6379/0?stream=transactions"


def _schema(name: str) -> dict[str, Any]:
    """The spec's component `name` as JSON Schema (nullable turned into null types)."""
    schemas = yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]
    converted = {
        key: to_json_schema(value, "nullable", is_response_schema=True)
        for key, value in schemas.items()
    }
    return {"$ref": f"#/components/schemas/{name}", "components": {"schemas": converted}}


def _streamed_workspace(root: Path) -> None:
    ws = init_workspace(root)
    events = pd.DataFrame({"customer_id": ["a", "b"], "at": [T0, T0], "amount": [5.0, 7.0]})
    save_dataset(ws, "tx", events)
    ws.features.register_entity("customer", ["customer_id"])
    ws.features.register_feature_view(
        "spend",
        entity="customer",
        source="tx",
        timestamp="at",
        aggregations=[{"column": "amount", "functions": ["sum"], "windows": ["7d"]}],
    )
    ws.features.register_feature_view("plain", entity="customer", source="tx", timestamp="at")
    declare_stream(ws, "spend", SOURCE, id_column="customer_id")
    started = datetime.now(UTC) - timedelta(minutes=5)
    record_progress(
        ws,
        "spend",
        "host-1",
        started,
        source=SOURCE,
        status="running",
        pid=101,
        received=120,
        applied=100,
        duplicates=15,
        dead_letters=5,
        rate=250.5,
        lag=12,
        freshness_ms=340.0,
        last_event_at=T0.to_pydatetime(),
        last_error="bad event: amount is not a number",
        last_error_at=started,
    )
    record_progress(
        ws,
        "spend",
        "host-2",
        started - timedelta(hours=1),
        source=SOURCE,
        status="stopped",
        pid=102,
        received=10,
        applied=10,
        rate=0.0,
    )


async def test_streams_list_totals_and_consumers(jp_fetch: Any, jp_root_dir: Path) -> None:
    _streamed_workspace(jp_root_dir)
    response = await jp_fetch("mlops-lab", "api", "features", "streams")
    body = json.loads(response.body)
    jsonschema.validate(body["streams"][0], _schema("StreamStatus"))
    [spend] = body["streams"]
    assert {k: v for k, v in spend.items() if k != "consumers"} == {
        "view": "spend",
        "declaration": {
            "view": "spend",
            "source": SOURCE,
            "id_column": "customer_id",
            "max_future": 300,
            "declared_in": "catalog",
        },
        "source": SOURCE,
        "consumers_running": 1,
        "applied": 110,
        "duplicates": 15,
        "dead_letters": 5,
        "rate": 250.5,
        "lag": 12,
        "freshness_ms": 340.0,
        "last_event_at": T0.isoformat(),
        "last_error": "bad event: amount is not a number",
        "last_error_at": spend["last_error_at"],
    }
    assert [(c["consumer"], c["status"], c["pid"]) for c in spend["consumers"]] == [
        ("host-1", "running", 101),
        ("host-2", "stopped", 102),
    ]
    assert spend["consumers"][0]["seconds_since_update"] < 30


async def test_view_detail_carries_its_stream(jp_fetch: Any, jp_root_dir: Path) -> None:
    _streamed_workspace(jp_root_dir)

    async def detail(name: str) -> Any:
        response = await jp_fetch("mlops-lab", "api", "features", "views", name)
        return json.loads(response.body)

    spend, plain = await detail("spend"), await detail("plain")
    jsonschema.validate(spend, _schema("FeatureViewDetail"))
    assert spend["stream"]["source"] == SOURCE
    assert spend["stream"]["dead_letters"] == 5
    assert plain["stream"] is None


async def test_no_streams(jp_fetch: Any, jp_root_dir: Path) -> None:
    init_workspace(jp_root_dir)
    response = await jp_fetch("mlops-lab", "api", "features", "streams")
    assert json.loads(response.body) == {"streams": []}


async def test_a_silent_consumer_is_gone(jp_fetch: Any, jp_root_dir: Path) -> None:
    _streamed_workspace(jp_root_dir)
    ws = open_workspace(jp_root_dir)
    ws.catalog.write(
        "UPDATE stream_consumers SET updated_at = ? WHERE consumer = 'host-1'",
        [datetime.now(UTC) - timedelta(minutes=2)],
    )
    response = await jp_fetch("mlops-lab", "api", "features", "streams")
    [spend] = json.loads(response.body)["streams"]
    assert spend["consumers"][0]["status"] == "gone"
    assert spend["consumers_running"] == 0
    assert spend["rate"] == 0.0 and spend["lag"] is None and spend["freshness_ms"] is None
