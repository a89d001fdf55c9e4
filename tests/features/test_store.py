"""Feature store: versions, statistics, search, plain point-in-time frames against brute-force
pandas (window features: test_windows.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_lab import Workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.errors import InvalidInputError, NotFoundError

DAY = pd.Timedelta(days=1)
START = pd.Timestamp("2026-01-01", tz="UTC")


def _events(seed: int = 3, customers: int = 12, events: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    at = START + pd.to_timedelta(rng.integers(0, 60 * 24, events), unit="h")  # hour grid: ties
    frame = pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i}" for i in range(customers)], events),
            "event_at": at,
            "amount": np.round(rng.gamma(2.0, 20.0, events), 2),
            # late events: recorded up to 3 days after they happened
            "recorded_at": at + pd.to_timedelta(rng.integers(0, 72, events), unit="h"),
        }
    )
    return frame.sort_values("event_at", ignore_index=True)


def _store(workspace: Workspace, events: pd.DataFrame, **options: object):  # type: ignore[no-untyped-def]
    save_dataset(workspace, "transactions", events)
    store = workspace.features
    store.register_entity("customer", ["customer_id"], description="a paying customer")
    view = store.register_feature_view(
        "customer_spend",
        entity="customer",
        source="transactions",
        timestamp="event_at",
        created_timestamp="recorded_at",
        aggregations=[
            {
                "column": "amount",
                "functions": ["avg", "max", "min", "sum", "count"],
                "windows": ["7d", "30d"],
            }
        ],
        owner="growth",
        tags=["spend", "customer"],
        description="Spend per customer",
        **options,
    )
    return store, view


def test_a_window_view_keeps_its_events(workspace: Workspace) -> None:
    events = _events()
    _, view = _store(workspace, events)
    table = workspace.artifacts.get_dataframe(view.table_artifact)
    assert view.table_format == "events" and len(table) == view.row_count == len(events)
    assert sorted(table.columns) == sorted(
        ["customer_id", "event_timestamp", "created_timestamp", "__seq", "amount"]
    )
    assert table.__seq.tolist() == list(range(len(events)))  # in key and event order
    ordered = table.sort_values(
        ["customer_id", "event_timestamp", "created_timestamp"], kind="stable"
    )
    assert ordered.__seq.tolist() == table.__seq.tolist()
    assert view.feature_names[:5] == [
        "amount_avg_7d",
        "amount_max_7d",
        "amount_min_7d",
        "amount_sum_7d",
        "amount_count_7d",
    ]


def _balances(seed: int = 3, customers: int = 12, rows: int = 400) -> pd.DataFrame:
    """A plain (non-window) source: balance snapshots, some recorded late, with ties."""
    rng = np.random.default_rng(seed)
    at = START + pd.to_timedelta(rng.integers(0, 60 * 24, rows), unit="h")
    return pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i}" for i in range(customers)], rows),
            "as_of": at,
            "balance": np.round(rng.normal(100, 30, rows), 2),
            "recorded_at": at + pd.to_timedelta(rng.integers(0, 72, rows), unit="h"),
        }
    )


def _plain(workspace: Workspace, source: pd.DataFrame, **options: object):  # type: ignore[no-untyped-def]
    save_dataset(workspace, "balances", source)
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    view = store.register_feature_view(
        "balance",
        entity="customer",
        source="balances",
        timestamp="as_of",
        created_timestamp="recorded_at",
        **options,
    )
    return store, view


def _brute_pit(
    table: pd.DataFrame, entity: pd.DataFrame, features: list[str], ttl: pd.Timedelta | None
) -> pd.DataFrame:
    out = []
    for row in entity.itertuples():
        mine = table[
            (table.customer_id == row.customer_id) & (table.event_timestamp <= row.event_timestamp)
        ]
        if mine.empty:
            out.append({f: np.nan for f in features})
            continue
        best = mine.sort_values(["event_timestamp", "created_timestamp"]).iloc[-1]
        if ttl is not None and row.event_timestamp - best.event_timestamp > ttl:
            out.append({f: np.nan for f in features})
        else:
            out.append({f: best[f] for f in features})
    return pd.DataFrame(out)


@pytest.mark.parametrize("ttl", [None, "5d"])
def test_training_frame_is_point_in_time_correct(workspace: Workspace, ttl: str | None) -> None:
    events = _balances(seed=11)
    store, view = _plain(workspace, events, ttl=ttl)
    rng = np.random.default_rng(5)
    entity = pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i}" for i in range(14)], 300),  # c12, c13: no features
            "event_timestamp": START
            - 2 * DAY
            + pd.to_timedelta(rng.integers(0, 70 * 24, 300), unit="h"),
            "label": rng.integers(0, 2, 300),
        }
    )
    # Rows exactly at event times (ties with the feature rows) too.
    entity.loc[:40, "event_timestamp"] = events.as_of.iloc[:41].to_numpy()
    entity.loc[:40, "customer_id"] = events.customer_id.iloc[:41].to_numpy()
    features = ["balance"]
    frame = store.get_training_frame(entity, [f"balance:{f}" for f in features])
    assert len(frame) == len(entity)
    assert frame["label"].tolist() == entity["label"].tolist()  # every row kept, in order
    table = workspace.artifacts.get_dataframe(view.table_artifact)
    expected = _brute_pit(table, entity, features, pd.Timedelta(days=5) if ttl else None)
    pd.testing.assert_frame_equal(
        frame[features].astype(float), expected.astype(float), check_exact=False, rtol=1e-9
    )
    assert frame.loc[entity.customer_id.isin(["c12", "c13"]), features].isna().all().all()


def test_no_returned_value_comes_from_the_future(workspace: Workspace) -> None:
    events = _balances(seed=2)
    store, view = _plain(workspace, events)
    entity = events[["customer_id"]].copy()
    entity["event_timestamp"] = events.as_of - pd.Timedelta(minutes=1)  # just before each row
    frame = store.get_training_frame(entity, ["balance:balance"])
    table = workspace.artifacts.get_dataframe(view.table_artifact)
    for row, value in zip(entity.itertuples(), frame.balance, strict=True):
        known = table[
            (table.customer_id == row.customer_id) & (table.event_timestamp <= row.event_timestamp)
        ]
        if known.empty:
            assert np.isnan(value)
        else:
            ordered = known.sort_values(["event_timestamp", "created_timestamp"])
            assert value == ordered.balance.iloc[-1]


def test_query_time_ttl_overrides_the_view(workspace: Workspace) -> None:
    events = _balances()
    store, _ = _plain(workspace, events, ttl="1d")
    last = events[events.customer_id == "c1"].as_of.max()
    entity = pd.DataFrame({"customer_id": ["c1"], "event_timestamp": [last + 2 * DAY]})
    feature = ["balance:balance"]
    assert store.get_training_frame(entity, feature).balance.isna().all()  # view: 1d
    assert store.get_training_frame(entity, feature, ttl="30d").balance.notna().all()
    per_view = store.get_training_frame(entity, feature, ttl={"balance": "3d"})
    assert per_view.balance.notna().all()


def test_versions_stats_search_and_consumers(workspace: Workspace) -> None:
    events = _events()
    store, first = _store(workspace, events)
    assert first.version == 1
    same = store.register_feature_view(
        "customer_spend",
        entity="customer",
        source="transactions",
        timestamp="event_at",
        created_timestamp="recorded_at",
        aggregations=[
            {
                "column": "amount",
                "functions": ["avg", "max", "min", "sum", "count"],
                "windows": ["7d", "30d"],
            }
        ],
        owner="growth",
        tags=["spend", "customer"],
        description="Spend per customer",
    )
    assert same.version == 1  # identical definition and data: a no-op
    changed = store.register_feature_view(
        "customer_spend",
        entity="customer",
        source="transactions",
        timestamp="event_at",
        aggregations=[{"column": "amount", "functions": ["avg"], "windows": ["14d"]}],
        owner="growth",
        tags=["spend"],
    )
    assert changed.version == 2 and changed.feature_names == ["amount_avg_14d"]
    stats = {f["name"]: f for f in first.features}["amount_count_7d"]
    assert stats["null_share"] == 0.0 and stats["min"] >= 0 and stats["distinct"] > 1
    customers = events.customer_id.nunique()  # statistics: one value per entity, at the end
    assert sum(stats["histogram"]["counts"]) == customers
    assert [v["name"] for v in store.search("spend")] == ["customer_spend"]
    assert store.search("nothing-like-this") == []
    assert store.search("'; DROP TABLE feature_views; --") == []
    assert [v["name"] for v in store.list_feature_views(tag="spend", owner="growth")] == [
        "customer_spend"
    ]
    entity = pd.DataFrame({"customer_id": ["c1", "c2"], "event_timestamp": [START + 40 * DAY] * 2})
    frame = store.get_training_frame(entity, ["customer_spend@1:amount_avg_7d"])
    saved = store.save_training_frame("train_set", frame)
    used = store.consumers("customer_spend")
    assert [{k: v for k, v in u.items() if k != "first_used"} for u in used] == [
        {
            "version": 1,
            "feature": "amount_avg_7d",
            "kind": "training_frame",
            "id": f"train_set@{saved.version}",
        }
    ]


def test_bad_input_is_named(workspace: Workspace) -> None:
    store, _ = _store(workspace, _events())
    entity = pd.DataFrame({"customer_id": ["c1"], "event_timestamp": [START]})
    with pytest.raises(
        NotFoundError,
        match=r"No feature in view 'customer_spend' 'amount_avg_7days'.*mean 'amount_avg_7d'",
    ):
        store.get_training_frame(entity, ["customer_spend:amount_avg_7days"])
    with pytest.raises(NotFoundError, match="Did you mean 'customer_spend'"):
        store.get_training_frame(entity, ["customer_spnd:amount_avg_7d"])
    with pytest.raises(InvalidInputError, match="lacks join key"):
        store.get_training_frame(
            entity.drop(columns="customer_id").assign(id=1), ["customer_spend:amount_avg_7d"]
        )
    with pytest.raises(InvalidInputError, match="no timestamp column 'event_timestamp'"):
        store.get_training_frame(
            entity.rename(columns={"event_timestamp": "t"}), ["customer_spend:amount_avg_7d"]
        )
    with pytest.raises(InvalidInputError, match="not a datetime"):
        store.get_training_frame(
            entity.assign(event_timestamp="2026-01-01"), ["customer_spend:amount_avg_7d"]
        )
    with pytest.raises(InvalidInputError, match="transform of feature view 'broken' failed"):
        store.register_feature_view(
            "broken",
            entity="customer",
            source="transactions",
            timestamp="event_at",
            transform="SELECT nope FROM source",
        )
    with pytest.raises(InvalidInputError, match="Invalid feature view name"):
        store.register_feature_view("x; DROP TABLE runs", entity="customer", source="transactions")
    with pytest.raises(InvalidInputError, match="Invalid tag"):
        store.register_feature_view(
            "t",
            entity="customer",
            source="transactions",
            timestamp="event_at",
            tags=["ok", "no spaces"],
        )
    assert workspace.catalog.read_value("SELECT count(*) FROM feature_view_versions") == 1


def test_browser_widget_and_histogram_figure(workspace: Workspace) -> None:
    from mlops_lab.widgets import FeatureBrowser, feature_histogram

    store, view = _store(workspace, _events())
    assert not hasattr(store, "browse")  # the widget lives in mlops_lab.widgets, a layer above
    browser = FeatureBrowser(store, "spend")
    assert list(browser.views.options) == ["customer_spend"]
    browser.views.value = "customer_spend"
    assert list(browser.features.options) == view.feature_names
    browser.features.value = "amount_max_30d"
    assert "customer_spend v1" in browser.details.value and "DOUBLE" in browser.details.value
    browser.search.value = "no-such-thing"
    assert list(browser.views.options) == []
    feature = next(f for f in view.features if f["name"] == "amount_max_30d")
    figure = feature_histogram(feature)
    assert list(figure.data[0].y) == feature["histogram"]["counts"]
    assert "amount_max_30d" in figure.layout.title.text


def test_pandas_transform(workspace: Workspace) -> None:
    from mlops_lab.errors import FeatureTransformError

    save_dataset(workspace, "transactions", _events())
    store = workspace.features
    store.register_entity("customer", ["customer_id"])

    def in_euros(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(amount_eur=frame.amount * 0.5)

    def register(transform: object):  # type: ignore[no-untyped-def]
        return store.register_feature_view(
            "euros",
            entity="customer",
            source="transactions",
            timestamp="event_at",
            transform=transform,
            aggregations=[{"column": "amount_eur", "functions": ["sum"], "windows": ["7d"]}],
        )

    view = register(in_euros)
    assert view.feature_names == ["amount_eur_sum_7d"]
    assert "frame.amount * 0.5" in (view.definition.python_transform or "")
    assert register(in_euros).version == 1  # same code and data: no new version
    _store(workspace, _events())  # the same data without the transform
    entity = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(12)], "event_timestamp": [START + 40 * DAY] * 12}
    )
    frame = store.get_training_frame(
        entity, ["euros:amount_eur_sum_7d", "customer_spend:amount_sum_7d"]
    )
    assert frame.amount_eur_sum_7d.sum() == pytest.approx(frame.amount_sum_7d.sum() * 0.5)
    assert frame.amount_sum_7d.notna().sum() >= 6

    def broken(frame: pd.DataFrame) -> pd.DataFrame:
        raise KeyError("no such column")

    with pytest.raises(FeatureTransformError, match="transform of feature view 'euros' failed"):
        register(broken)
    assert store.get_feature_view("euros").version == 1
