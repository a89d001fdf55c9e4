from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from tornado.httpclient import HTTPClientError

from mlops_lab import init_workspace
from mlops_lab.cli import cli
from mlops_lab.datasets import save_dataset

T0 = pd.Timestamp("2026-03-01", tz="UTC")


def _feature_workspace(root: Path) -> None:
    ws = init_workspace(root)
    events = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c"],
            "at": [T0, T0, T0 + pd.Timedelta(days=2), T0 + pd.Timedelta(days=3)],
            "amount": [5.0, 7.0, 9.0, 1.0],
        }
    )
    save_dataset(ws, "tx", events)
    ws.features.register_entity("customer", ["customer_id"])
    for windows in (["7d"], ["7d", "30d"]):
        ws.features.register_feature_view(
            "spend",
            entity="customer",
            source="tx",
            timestamp="at",
            owner="growth",
            tags=["money"],
            description="Customer spend",
            aggregations=[{"column": "amount", "functions": ["sum", "avg"], "windows": windows}],
        )


async def test_list_search_detail_and_diff(jp_fetch: Any, jp_root_dir: Path) -> None:
    _feature_workspace(jp_root_dir)

    async def get(*parts: str, **params: str) -> Any:
        response = await jp_fetch("mlops-lab", "api", "features", "views", *parts, params=params)
        return json.loads(response.body)

    listing = await get()
    assert listing["total"] == 1
    assert listing["views"][0] | {"created_at": None} == listing["views"][0] | {
        "name": "spend",
        "version": 2,
        "entity": "customer",
        "owner": "growth",
        "tags": ["money"],
        "feature_count": 4,
        "freshness": None,
        "created_at": None,
    }
    assert (await get(q="AVG_30"))["total"] == 1  # a feature name, any case
    assert (await get(q="' OR 1=1 --"))["total"] == 0
    assert (await get(tag="money", owner="nobody"))["total"] == 0
    assert listing["facets"] == {"tags": ["money"], "owners": ["growth"]}
    assert (await get(q="amount%sum"))["total"] == 0  # % is a literal character, not a wildcard
    assert (await get(q="amount_sum"))["total"] == 1
    detail = await get("spend")
    assert detail["entity"]["join_keys"] == ["customer_id"]
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    feature = next(f for f in detail["features"] if f["name"] == "amount_sum_30d")
    # A window view: statistics as of the last event (day 3), one value per customer.
    assert detail["windowed"] and detail["table_format"] == "events" and detail["row_count"] == 4
    assert sum(feature["histogram"]["counts"]) == 3
    assert feature["stats_as_of"]["as_of"] == (T0 + pd.Timedelta(days=3)).isoformat()
    assert feature["definition"].startswith("sum of amount over the 30 days")
    assert feature["min"] == 1.0 and feature["max"] == 14.0  # c: 1.0; a: 5 + 9; b: 7
    reports = await get("spend", "consistency")
    assert reports == {"reports": []}
    assert "store.get_training_frame(entity_df" in detail["snippet"]
    assert all(f'"spend:{f["name"]}"' in detail["snippet"] for f in detail["features"])
    assert all(c["first_used"].endswith("+00:00") for c in detail["consumers"])
    assert (await get("spend", version="1"))["version"] == 1
    diff = await get("spend", "diff", a="1", b="2")
    assert diff["features"]["added"] == ["amount_avg_30d", "amount_sum_30d"]
    assert any(line.startswith("+") and "30d" in line for line in diff["definition"])


async def test_feature_errors(jp_fetch: Any, jp_root_dir: Path) -> None:
    _feature_workspace(jp_root_dir)
    for parts, params, status, fragment in [
        (("spnd",), {}, 404, "Did you mean 'spend'"),
        (("spend",), {"version": "9"}, 404, "has no version 9 (versions: 1, 2)"),
        (("spend",), {"version": "x"}, 400, "must be an integer"),
        (("spend", "diff"), {"a": "1"}, 400, "?a=1&b=2"),
        (("bad name!",), {}, 400, "Invalid feature view name"),
    ]:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("mlops-lab", "api", "features", "views", *parts, params=params)
        assert info.value.code == status, parts
        assert info.value.response is not None
        assert fragment in json.loads(info.value.response.body)["error"]["message"]


def test_features_cli(tmp_path: Path) -> None:
    _feature_workspace(tmp_path)
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(cli, ["--workspace", str(tmp_path), "features", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert json.loads(run("list", "--json"))["views"][0]["name"] == "spend"
    assert "spend" in run("search", "money")
    shown = json.loads(run("show", "spend", "--json"))
    assert shown["version"] == 2 and "histogram" not in shown["features"][0]
    assert "amount_sum_30d" in run("show", "spend")
    done = json.loads(run("materialize", "spend", "--json"))["materialized"][0]
    assert done["rows_written"] == 4 and done["last_event_at"].startswith("2026-03-04")  # events
    assert "2026-03-04" in run("list")
    failed = runner.invoke(cli, ["--workspace", str(tmp_path), "features", "show", "nope"])
    assert failed.exit_code == 1 and "No feature view 'nope'" in failed.stderr
