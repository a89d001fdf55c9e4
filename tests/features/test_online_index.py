"""A reader's index of streamed events (online_index.py): batch after batch merged into it
equals each entity's events in (time, seq) order, nulls dropped per column; entities where
a new event ties an old one on time are handed back for a reread, untouched."""

from __future__ import annotations

import gc
import json
import random
from typing import Any

import pyarrow as pa

from mlops_lab.features.online_base import EntityEvents
from mlops_lab.features.online_index import merge_tail, without_collections


def _batch(rng: random.Random, seq0: int, size: int) -> pa.Table:
    keys = [
        json.dumps([f"c{rng.randrange(8)}", rng.randrange(2)], separators=(",", ":"))
        for _ in range(size)
    ]
    return pa.table(
        {
            "k": keys,
            "us": [rng.randrange(1_000) * 1_000 for _ in range(size)],
            "seq": list(range(seq0, seq0 + size)),
            "amount": [None if rng.random() < 0.2 else rng.random() for _ in range(size)],
            "label": [rng.choice([None, "a", "b"]) for _ in range(size)],
        }
    )


def test_batches_merged_one_by_one_equal_the_events_in_order_and_ties_are_left_alone() -> None:
    rng = random.Random(7)
    index: dict[tuple[Any, ...], EntityEvents] = {}
    names: dict[str, tuple[Any, ...]] = {}
    held = ["amount", "label"]
    seen: dict[tuple[Any, ...], list[tuple[int, int, Any, Any]]] = {}
    tied_ever: set[tuple[Any, ...]] = set()
    for n in range(30):
        batch = _batch(rng, n * 1000, rng.randrange(1, 40))
        before = dict(index)
        ties = merge_tail(index, batch, held, names)
        for key in ties:  # handed back as they were: the caller rereads them whole
            assert index.get(key) is before.get(key)
            tied_ever.add(key)
        for row in batch.to_pylist():
            key = tuple(json.loads(row["k"]))
            seen.setdefault(key, []).append((row["us"], row["seq"], row["amount"], row["label"]))
        for key, rows in seen.items():
            if key in tied_ever:
                continue
            ordered = sorted(rows)
            expected = {
                column: (
                    tuple(r[0] for r in ordered if r[2 + i] is not None),
                    tuple(r[2 + i] for r in ordered if r[2 + i] is not None),
                )
                for i, column in enumerate(held)
            }
            got = index[key]
            for column in held:
                assert got.get(column, ((), ())) == expected[column], (key, column)
    assert tied_ever and len(tied_ever) < len(seen)  # both cases were met
    assert names  # each key's text parsed once, kept


def test_collections_are_paused_only_inside_and_restored_as_they_were() -> None:
    assert gc.isenabled()
    with without_collections():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with without_collections():
            pass
        assert not gc.isenabled()  # left off: it was off before
    finally:
        gc.enable()
