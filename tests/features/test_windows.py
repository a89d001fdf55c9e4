"""Window features as of the time asked for: training frames and online reads (embedded and
Redis) against a brute-force pandas reference; the edges, late events, empty windows, the
migration of views computed with the old per-event semantics, and bad input."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlops_lab import Workspace
from mlops_lab.datasets import save_dataset
from mlops_lab.errors import InvalidInputError, NotFoundError
from mlops_lab.features.online import RedisOnlineStore
from mlops_lab.features.serving import OnlineFeatureReader, materialize

START = pd.Timestamp("2026-01-01", tz="UTC")
H = pd.Timedelta(hours=1)
D = pd.Timedelta(days=1)
FUNCTIONS = ["avg", "sum", "min", "max", "count", "stddev", "last", "count_distinct"]
WINDOWS = {"6h": 6 * H, "7d": 7 * D, "30d": 30 * D}


def _events(seed: int = 1, customers: int = 9, events: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    at = START + pd.to_timedelta(rng.integers(0, 60 * 24, events), unit="h")  # hour grid: ties
    amount = np.round(rng.gamma(2.0, 20.0, events), 0)  # whole numbers: repeated values
    amount[rng.random(events) < 0.1] = np.nan  # some events carry no amount
    frame = pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i}" for i in range(customers)], events),
            "event_at": at,
            "amount": amount,
            # late events: recorded up to 3 days after they happened (and ties on it too)
            "recorded_at": at + pd.to_timedelta(rng.integers(0, 3, events) * 24, unit="h"),
        }
    )
    # c_old: one burst of history long before the rest, then nothing
    long_ago = [START - 90 * D] * 3
    old = pd.DataFrame(
        {
            "customer_id": ["c_old"] * 3,
            "event_at": long_ago,
            "amount": [5.0, 7.0, 5.0],
            "recorded_at": long_ago,
        }
    )
    return pd.concat([frame, old], ignore_index=True)


def _register(workspace: Workspace, events: pd.DataFrame) -> Any:
    save_dataset(workspace, "tx", events)
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    return store.register_feature_view(
        "spend",
        entity="customer",
        source="tx",
        timestamp="event_at",
        created_timestamp="recorded_at",
        aggregations=[{"column": "amount", "functions": FUNCTIONS, "windows": list(WINDOWS)}],
    )


NAMES = [f"amount_{f}_{w}" for w in WINDOWS for f in FUNCTIONS]


def _brute(events: pd.DataFrame, customer: str, at: pd.Timestamp) -> dict[str, Any]:
    """The rule, by hand: events with at - w < event_at <= at, non-null amounts."""
    ordered = events.reset_index(names="source_row").sort_values(
        ["event_at", "recorded_at", "source_row"]
    )
    out: dict[str, Any] = {}
    for label, width in WINDOWS.items():
        mine = ordered[
            (ordered.customer_id == customer)
            & (ordered.event_at <= at)
            & (ordered.event_at > at - width)
        ]
        values = mine.amount.dropna()
        n = len(values)
        out |= {
            f"amount_avg_{label}": values.mean() if n else None,
            f"amount_sum_{label}": values.sum() if n else None,
            f"amount_min_{label}": values.min() if n else None,
            f"amount_max_{label}": values.max() if n else None,
            f"amount_count_{label}": n,
            f"amount_stddev_{label}": values.std(ddof=1) if n >= 2 else None,
            f"amount_last_{label}": values.iloc[-1] if n else None,
            f"amount_count_distinct_{label}": values.nunique(),
        }
    return out


def _same(got: Any, expected: Any) -> bool:
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in (got, expected)]
    if any(missing):
        return all(missing)
    return math.isclose(float(got), float(expected), rel_tol=1e-9, abs_tol=1e-9)


def _query_rows(events: pd.DataFrame, seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customers = [*sorted(events.customer_id.unique()), "c_never"]  # c_never: no history
    rows = pd.DataFrame(
        {
            "customer_id": rng.choice(customers, n),
            "event_timestamp": START
            - 2 * D
            + pd.to_timedelta(rng.integers(0, 70 * 24 * 60, n), unit="min"),
        }
    )
    # Exactly on the edges: at an event's time, and one window (or one microsecond less) after.
    picks = events.sample(n // 3, random_state=seed, replace=True)
    offsets = rng.choice(
        [pd.Timedelta(0), 6 * H, 7 * D, 30 * D, 7 * D - pd.Timedelta("1us")], len(picks)
    )
    edges = pd.DataFrame(
        {
            "customer_id": picks.customer_id.to_numpy(),
            "event_timestamp": picks.event_at.to_numpy() + offsets,
        }
    )
    edges["event_timestamp"] = pd.to_datetime(edges.event_timestamp, utc=True)
    late = pd.DataFrame(
        {"customer_id": ["c_old", "c_old"], "event_timestamp": [START - 89 * D, START + 10 * D]}
    )
    return pd.concat([rows, edges, late], ignore_index=True)


def test_training_frame_equals_the_brute_force_reference(workspace: Workspace) -> None:
    events = _events()
    view = _register(workspace, events)
    assert view.table_format == "events" and view.row_count == len(events)
    rows = _query_rows(events, seed=2, n=300)
    frame = workspace.features.get_training_frame(rows, [f"spend:{n}" for n in NAMES])
    assert len(frame) == len(rows)
    assert frame.customer_id.tolist() == rows.customer_id.tolist()  # every row, in order
    bad = []
    for i, row in enumerate(rows.itertuples()):
        expected = _brute(events, row.customer_id, row.event_timestamp)
        bad += [
            (i, n, frame[n].iloc[i], expected[n])
            for n in NAMES
            if not _same(frame[n].iloc[i], expected[n])
        ]
    assert bad == []
    # c_old's windows are empty 10 days into the year: count 0, nulls; never counts mixed up
    old = frame[(frame.customer_id == "c_old") & (frame.event_timestamp == START + 10 * D)]
    assert old.amount_count_30d.tolist() == [0] and old.amount_sum_30d.isna().all()


def test_the_issue_example(workspace: Workspace) -> None:
    events = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "event_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-20"], utc=True),
            "amount": [10.0, 20.0, 5.0],
        }
    )
    save_dataset(workspace, "tx", events)
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    store.register_feature_view(
        "spend",
        entity="customer",
        source="tx",
        timestamp="event_at",
        aggregations=[{"column": "amount", "functions": ["sum", "count"], "windows": ["7d"]}],
    )
    labels = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "event_timestamp": pd.to_datetime(
                ["2026-01-20 00:00", "2026-01-08 23:59", "2026-01-09 00:00"], utc=True
            ),
        }
    )
    features = ["spend:amount_sum_7d", "spend:amount_count_7d"]
    frame = store.get_training_frame(labels, features)
    assert frame.amount_count_7d.tolist() == [0, 1, 0]  # 01-02 is out at exactly 7 days
    assert np.isnan(frame.amount_sum_7d.iloc[0]) and frame.amount_sum_7d.iloc[1] == 20.0
    store.materialize("spend")
    now = store.get_online_features([{"customer_id": 1}, {"customer_id": 2}], features)
    assert [(r["amount_sum_7d"], r["amount_count_7d"]) for r in now] == [(None, 0), (None, 0)]
    reader = store.online_reader(features)
    at = pd.Timestamp("2026-01-21", tz="UTC")
    assert reader.get({"customer_id": 2}, as_of=at)["amount_sum_7d"] == 5.0


@pytest.fixture(params=["embedded", "redis"])
def online(request: pytest.FixtureRequest) -> RedisOnlineStore | None:
    if request.param == "embedded":
        return None
    url: str = request.getfixturevalue("redis_url")
    return RedisOnlineStore(url)


def test_online_reads_equal_the_reference_and_the_training_frame(
    workspace: Workspace, online: RedisOnlineStore | None
) -> None:
    events = _events(seed=4)
    _register(workspace, events)
    earliest = (events.event_at.min() - D).to_pydatetime()
    # In two parts, as an incremental job would; the second reads only what is new.
    first = materialize(
        workspace, "spend", start=earliest, end=(START + 20 * D).to_pydatetime(), store=online
    )
    second = materialize(workspace, "spend", start=earliest, store=online)
    assert first["rows_written"] + second["rows_written"] == len(events)
    again = materialize(workspace, "spend", start=earliest, store=online)
    assert again["rows_written"] == 0  # nothing held twice
    reader = OnlineFeatureReader(workspace, [f"spend:{n}" for n in NAMES], store=online)
    rows = _query_rows(events, seed=5, n=120)
    bad = []
    for row in rows.itertuples():
        got = reader.get({"customer_id": row.customer_id}, as_of=row.event_timestamp)
        expected = _brute(events, row.customer_id, row.event_timestamp)
        bad += [(row, n, got[n], expected[n]) for n in NAMES if not _same(got[n], expected[n])]
    assert bad == []
    # The property: an online read as of t equals a one-row training frame at t.
    rng = np.random.default_rng(9)
    for _ in range(25):
        customer = str(rng.choice(rows.customer_id))
        at = START + pd.Timedelta(minutes=int(rng.integers(0, 65 * 24 * 60)))
        one = pd.DataFrame({"customer_id": [customer], "event_timestamp": [at]})
        offline = workspace.features.get_training_frame(one, [f"spend:{n}" for n in NAMES])
        got = reader.get({"customer_id": customer}, as_of=at)
        assert [n for n in NAMES if not _same(got[n], offline[n].iloc[0])] == []
    batch = reader.get_many(
        [{"customer_id": c} for c in ("c1", "c_never", "c2")], as_of=START + 40 * D
    )
    assert batch[1]["amount_count_30d"] == 0 and batch[1]["amount_max_30d"] is None


def test_the_online_store_keeps_only_the_widest_window_and_refuses_older_as_of(
    workspace: Workspace,
) -> None:
    events = _events(seed=6)
    _register(workspace, events)
    result = workspace.features.materialize("spend")  # as of the view's last event on
    last = events.event_at.max()
    assert pd.Timestamp(result["horizon"]) == last - 30 * D
    assert result["rows_written"] == int((events.event_at > last - 30 * D).sum())
    reader = workspace.features.online_reader(["spend:amount_sum_7d", "spend:amount_count_30d"])
    got = reader.get({"customer_id": "c1"}, as_of=last)
    expected = _brute(events, "c1", last)
    assert _same(got["amount_sum_7d"], expected["amount_sum_7d"])
    assert got["amount_count_30d"] == expected["amount_count_30d"]
    with pytest.raises(InvalidInputError, match=r"need older ones\. Materialize with start="):
        reader.get({"customer_id": "c1"}, as_of=last - 10 * D)
    with pytest.raises(InvalidInputError, match="has no timezone"):
        reader.get({"customer_id": "c1"}, as_of=last.tz_localize(None))  # type: ignore[arg-type]
    # A backfill moves the horizon back; entities read the same as before.
    workspace.features.materialize("spend", start=(last - 10 * D).to_pydatetime())
    older = reader.get({"customer_id": "c1"}, as_of=last - 10 * D)
    assert older["amount_count_30d"] == _brute(events, "c1", last - 10 * D)["amount_count_30d"]


def test_statistics_are_as_of_the_sources_end_and_definitions_in_words(
    workspace: Workspace,
) -> None:
    events = _events(seed=7)
    save_dataset(workspace, "tx", events)
    store = workspace.features
    store.register_entity("customer", ["customer_id"])
    view = store.register_feature_view(
        "spend",
        entity="customer",
        source="tx",
        timestamp="event_at",
        aggregations=[
            {"column": "amount", "functions": ["sum", "count"], "windows": ["7d", "400d"]}
        ],
    )
    count = {f["name"]: f for f in view.features}["amount_count_7d"]
    about = count["stats_as_of"]
    assert pd.Timestamp(about["as_of"]) == events.event_at.max()
    assert about["longer_than_span"] == ["400d"]  # allowed, and said
    last = events.event_at.max()
    per_entity = [_brute(events, c, last) for c in events.customer_id.unique()]
    expected = sum(1 for row in per_entity if row["amount_count_7d"] == 0)
    assert sum(count["histogram"]["counts"]) == len(per_entity)
    assert count["min"] == min(row["amount_count_7d"] for row in per_entity)
    assert count["null_share"] == 0 and expected >= 1  # c_old at least
    assert count["definition"].startswith("number of non-null values of amount over the 7 days")
    total = {f["name"]: f for f in view.features}["amount_sum_7d"]
    assert total["null_share"] == pytest.approx(expected / len(per_entity))


def test_bad_window_definitions_are_named(workspace: Workspace) -> None:
    save_dataset(workspace, "tx", _events())
    store = workspace.features
    store.register_entity("customer", ["customer_id"])

    def register(**aggregation: Any) -> Any:
        spec = {"column": "amount", "functions": ["sum"], "windows": ["7d"]} | aggregation
        return store.register_feature_view(
            "w", entity="customer", source="tx", timestamp="event_at", aggregations=[spec]
        )

    with pytest.raises(InvalidInputError, match="Invalid window '0d'"):
        register(windows=["0d"])
    with pytest.raises(InvalidInputError, match="Invalid window '-7d'"):
        register(windows=["-7d"])
    with pytest.raises(InvalidInputError, match="Invalid window -5"):
        register(windows=[-5])
    with pytest.raises(InvalidInputError, match=r"function 'median' \(one of .*count_distinct"):
        register(functions=["median"])
    with pytest.raises(InvalidInputError, match=r"column\(s\) event_at"):
        store.register_feature_view(
            "w",
            entity="customer",
            source="tx",
            timestamp="event_at",
            transform="SELECT customer_id, amount FROM source",
            aggregations=[{"column": "amount", "functions": ["sum"], "windows": ["7d"]}],
        )
    with pytest.raises(InvalidInputError, match="mixes window aggregations with plain features"):
        store.register_feature_view(
            "w",
            entity="customer",
            source="tx",
            timestamp="event_at",
            features=["recorded_at"],
            aggregations=[{"column": "amount", "functions": ["sum"], "windows": ["7d"]}],
        )
    assert workspace.catalog.read_value("SELECT count(*) FROM feature_view_versions") == 0


def test_views_of_the_old_semantics_are_recomputed_on_first_use(workspace: Workspace) -> None:
    from mlops_lab.catalog.migrations import MIGRATIONS

    events = _events(seed=8)
    view = _register(workspace, events)
    plain = workspace.features.register_feature_view(
        "last_amount", entity="customer", source="tx", timestamp="event_at", features=["amount"]
    )
    assert plain.table_format == "rows"
    # What an older mlops-lab left, as the migration to version 9 finds it: every version
    # 'rows' (the column's default); the migration marks the window views.
    workspace.catalog.write("UPDATE feature_view_versions SET table_format = 'rows'")
    marking = next(m for m in MIGRATIONS if m.version == 9).statements[1]
    workspace.catalog.write(marking)
    formats = dict(workspace.catalog.read("SELECT name, table_format FROM feature_view_versions"))
    assert formats == {"spend": "event_windows", "last_amount": "rows"}
    rows = _query_rows(events, seed=3, n=40)
    with pytest.warns(UserWarning, match="old window semantics.*features rebuild spend"):
        frame = workspace.features.get_training_frame(rows, ["spend:amount_count_7d"])
    for i, row in enumerate(rows.itertuples()):
        expected = _brute(events, row.customer_id, row.event_timestamp)["amount_count_7d"]
        assert frame.amount_count_7d.iloc[i] == expected
    again = workspace.features.get_feature_view("spend")
    assert again.version == view.version and again.table_format == "events"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rebuilt once: no warning any more
        workspace.features.get_training_frame(rows, ["spend:amount_count_7d"])
    kept = workspace.catalog.read_value(
        "SELECT rebuilt_from FROM feature_view_versions WHERE name = 'spend'"
    )
    assert kept == view.table_artifact and workspace.artifacts.exists(kept)  # nothing lost


def test_reader_of_an_unmaterialized_window_view_says_what_to_do(workspace: Workspace) -> None:
    _register(workspace, _events())
    with pytest.raises(NotFoundError, match="never materialized"):
        workspace.features.online_reader(["spend:amount_sum_7d"])


def test_cli_rebuild_and_consistency_without_served_rows(workspace: Workspace) -> None:
    import json

    from tests.cli_runner import run_cli

    events = _events(seed=10)
    view = _register(workspace, events)
    workspace.catalog.write(
        "UPDATE feature_view_versions SET table_format = 'event_windows' WHERE name = 'spend'"
    )
    home = ["--workspace", str(workspace.root)]
    code, out, _ = run_cli(*home, "features", "rebuild", "spend", "--json")
    assert code == 0 and json.loads(out)["table_format"] == "events"
    assert json.loads(out)["version"] == view.version
    code, out, _ = run_cli(*home, "features", "consistency", "spend", "--json")
    report = json.loads(out)
    assert code == 0 and report["verdict"] == "no data" and report["rows_checked"] == 0
    code, _, err = run_cli(*home, "features", "consistency", "nothing_here")
    assert code == 1 and "No feature view 'nothing_here'" in err
    code, out, _ = run_cli(*home, "features", "materialize", "spend")
    assert code == 0 and "events written" in out and "held since" in out
