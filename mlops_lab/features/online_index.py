"""A reader's index of a window view version in the embedded online store: per entity,
per held column, its events in (time, ``__seq``) order, kept up to date as rows arrive
(from ``online.duckdb`` and from the stream tail, see online_tail.py)."""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mlops_lab.features.online_base import EntityEvents
from mlops_lab.features.online_tail import StreamTail
from mlops_lab.features.stream_log import key_text

__all__ = [
    "EventIndex",
    "group_events",
    "merge_events",
    "merge_tail",
    "rebuild_entities",
    "without_collections",
]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def group_events(
    table: pa.Table, keys: list[str], columns: Sequence[str]
) -> dict[tuple[Any, ...], EntityEvents]:
    """Rows sorted by key and event order -> per entity key, per column, its events."""
    n = table.num_rows
    if n == 0:
        return {}
    change = None
    for key in keys:
        column = table.column(key)
        differs = pc.fill_null(pc.not_equal(column.slice(1), column.slice(0, n - 1)), True)
        change = differs if change is None else pc.or_(change, differs)
    assert change is not None
    starts = [0, *(i + 1 for i in pc.indices_nonzero(change).to_pylist()), n]
    key_values = list(zip(*(table.column(k).to_pylist() for k in keys), strict=True))
    # Tuples, not lists: the garbage collector stops tracking a tuple of numbers or strings,
    # so a large index costs its collections nothing (lists cost a reader a third of its
    # time merging a fast stream).
    times: tuple[int, ...] = tuple(table.column("__us").to_pylist())
    values = {c: tuple(table.column(c).to_pylist()) for c in columns}
    has_nulls = {c: table.column(c).null_count > 0 for c in columns}
    index: dict[tuple[Any, ...], EntityEvents] = {}
    for lo, hi in itertools.pairwise(starts):
        entity_times = times[lo:hi]
        events: EntityEvents = {}
        for column in columns:
            picked = values[column][lo:hi]
            if has_nulls[column]:
                kept = [(t, v) for t, v in zip(entity_times, picked, strict=True) if v is not None]
                events[column] = (tuple(t for t, _ in kept), tuple(v for _, v in kept))
            else:
                events[column] = (entity_times, picked)
        index[key_values[lo]] = events
    return index


def merge_tail(
    index: dict[tuple[Any, ...], EntityEvents],
    table: pa.Table,
    held: Sequence[str],
    names: dict[str, tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """Merge tail events (columns ``k``, ``us``, ``seq`` and ``held``) into ``index``, as
    :func:`merge_events` does with them grouped, in one pass (a reader does this for every
    batch a stream commits); ``names`` caches each key's JSON text as its tuple. Returns
    the entities left for a reread (see :func:`merge_events`)."""
    n = table.num_rows
    if n == 0:
        return []
    ordered = table.sort_by([("k", "ascending"), ("us", "ascending"), ("seq", "ascending")])
    text = ordered.column("k")
    change = pc.fill_null(pc.not_equal(text.slice(1), text.slice(0, n - 1)), True)
    starts = [0, *(i + 1 for i in pc.indices_nonzero(change).to_pylist())]
    texts = pc.take(text, pa.array(starts, pa.int64())).to_pylist()
    starts.append(n)
    times: tuple[int, ...] = tuple(ordered.column("us").to_pylist())
    values = {c: tuple(ordered.column(c).to_pylist()) for c in held}
    nulls = {c for c in held if ordered.column(c).null_count}
    ties = []
    with without_collections():
        for position, name in enumerate(texts):
            lo, hi = starts[position], starts[position + 1]
            key = names.get(name)
            if key is None:
                key = names[name] = tuple(json.loads(name))
            current = index.get(key)
            merged: EntityEvents = {} if current is None else dict(current)
            tied = False
            for column in held:
                new_times, new_values = times[lo:hi], values[column][lo:hi]
                if column in nulls:
                    kept = [
                        (t, v) for t, v in zip(new_times, new_values, strict=True) if v is not None
                    ]
                    new_times = tuple(t for t, _ in kept)
                    new_values = tuple(v for _, v in kept)
                if current is None:
                    merged[column] = (new_times, new_values)
                    continue
                if not new_times:
                    continue
                old_times, old_values = current.get(column, ((), ()))
                if not old_times or new_times[0] > old_times[-1]:  # the usual case
                    merged[column] = (
                        tuple(old_times) + new_times,
                        tuple(old_values) + new_values,
                    )
                    continue
                if set(new_times) & set(old_times):
                    tied = True
                    break
                pairs = sorted(
                    [
                        *zip(old_times, old_values, strict=True),
                        *zip(new_times, new_values, strict=True),
                    ],
                    key=lambda pair: pair[0],
                )
                merged[column] = (tuple(t for t, _ in pairs), tuple(v for _, v in pairs))
            if tied:
                ties.append(key)
            else:
                index[key] = merged
    return ties


@contextlib.contextmanager
def without_collections() -> Iterator[None]:
    """No garbage collection while a merge runs. It allocates many containers, all kept
    (they are the index), so a collection frees nothing, yet each young-generation pass
    walks the batch's large tuples again: half a reader's merge time. Collections resume
    after as they were (one pass then sees the merge's objects once)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class EventIndex:
    """A reader's copy of one window view version's events (see ``_event_index``)."""

    def __init__(
        self,
        generation: int,
        horizon: int | None,
        index: dict[tuple[Any, ...], EntityEvents],
        max_rowid: int,
        rows: int,
        held: list[str],
    ) -> None:
        self.generation = generation
        self.horizon = horizon
        self.index = index
        self.max_rowid = max_rowid
        self.rows = rows
        self.held = held
        self.select = ""
        self.order = ""
        self.tail_id = 0  # the last row of the stream tail merged in (online_tail.py)


def merge_events(
    index: dict[tuple[Any, ...], EntityEvents], added: dict[tuple[Any, ...], EntityEvents]
) -> list[tuple[Any, ...]]:
    """Merge new events into ``index`` (new tuples: a reader may hold the old ones); the
    entities where a new event ties an old one on event time (left for a reread)."""
    ties = []
    for key, events in added.items():
        current = index.get(key)
        if current is None:
            index[key] = events
            continue
        merged: EntityEvents = {}
        tied = False
        for column, (times, values) in events.items():
            old_times, old_values = current.get(column, ((), ()))
            if not times:
                continue
            if not old_times or times[0] > old_times[-1]:  # the usual case: newer events
                # tuple() of a tuple is itself: no copy beyond the concatenation
                merged[column] = (
                    tuple(old_times) + tuple(times),
                    tuple(old_values) + tuple(values),
                )
                continue
            if set(times) & set(old_times):
                tied = True
                break
            pairs = sorted(
                [*zip(old_times, old_values, strict=True), *zip(times, values, strict=True)],
                key=lambda pair: pair[0],
            )
            merged[column] = (tuple(t for t, _ in pairs), tuple(v for _, v in pairs))
        if tied:
            ties.append(key)
            continue
        for column, pair in current.items():
            merged.setdefault(column, pair)
        index[key] = merged
    return ties


def rebuild_entities(
    con: Any,
    cached: EventIndex,
    keys: list[str],
    entities: list[tuple[Any, ...]],
    table: str,
    tail: StreamTail | None,
    version: int,
) -> None:
    """Read ``entities``' events again, whole (materialized and streamed), in (time,
    ``__seq``) order: for events of equal time, whose order only ``__seq`` knows."""
    frame = pa.table({k: [e[i] for e in entities] for i, k in enumerate(keys)})
    con.register("reread_keys", frame)
    try:
        using = ", ".join(_q(k) for k in keys)
        held = "".join(", " + _q(c) for c in cached.held)
        found = con.execute(
            f"SELECT {using}, epoch_us(event_timestamp), __seq{held} FROM {_q(table)} "
            f"JOIN reread_keys USING ({using})"
        ).fetchall()
    finally:
        con.unregister("reread_keys")
    width = len(keys)
    rows: dict[tuple[Any, ...], dict[int, tuple[Any, ...]]] = {e: {} for e in entities}
    for row in found:
        rows[tuple(row[:width])][row[width + 1]] = (row[width], *row[width + 2 :])
    streamed = (
        None
        if tail is None
        else tail.entity_events(version, cached.held, [key_text(e) for e in entities])
    )
    if streamed is not None:
        by_text = {key_text(e): e for e in entities}
        held_values = [streamed.column(c).to_pylist() for c in cached.held]
        for i, (text, us, seq) in enumerate(
            zip(*(streamed.column(c).to_pylist() for c in ("k", "us", "seq")), strict=True)
        ):
            rows[by_text[text]].setdefault(seq, (us, *(values[i] for values in held_values)))
    for entity, events in rows.items():
        ordered = sorted(events.items(), key=lambda item: (item[1][0], item[0]))
        result: EntityEvents = {}
        for j, column in enumerate(cached.held, start=1):
            kept = [(v[0], v[j]) for _, v in ordered if v[j] is not None]
            result[column] = (tuple(t for t, _ in kept), tuple(x for _, x in kept))
        cached.index[entity] = result
