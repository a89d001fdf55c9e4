"""Lineage edges between catalog objects (dataset versions, stage runs, models, ...).

An edge reads "``src`` was used to make ``dst``"; ids are the objects' own
references (``customers@2``, ``run-id/train``, ``churn/3``).
"""

from __future__ import annotations

import duckdb

__all__ = ["add_edge", "add_edges", "record_feature_use"]


def add_edge(con: duckdb.DuckDBPyConnection, sk: str, sid: str, dk: str, did: str) -> None:
    """Add the edge ``(sk, sid) -> (dk, did)`` unless it is already there."""
    exists = con.execute(
        "SELECT 1 FROM lineage_edges WHERE src_kind=? AND src_id=? AND dst_kind=? AND dst_id=?",
        [sk, sid, dk, did],
    ).fetchall()
    if not exists:
        con.execute(
            "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id) VALUES (?, ?, ?, ?)",
            [sk, sid, dk, did],
        )


def add_edges(con: duckdb.DuckDBPyConnection, edges: list[tuple[str, str, str, str]]) -> None:
    """Add many edges in one statement, skipping those already there (and duplicates)."""
    if not edges:
        return
    import pandas as pd

    unique = sorted(set(edges))
    if len(unique) <= 16:
        # A few edges (one registration): bound parameters, no frame to register.
        values = ", ".join(["(?, ?, ?, ?)"] * len(unique))
        con.execute(
            "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id) "
            f"SELECT sk, sid, dk, did FROM (VALUES {values}) n(sk, sid, dk, did) {_NEW_ONLY}",
            [value for edge in unique for value in edge],
        )
        return
    frame = pd.DataFrame(unique, columns=["sk", "sid", "dk", "did"])
    con.register("new_edges", frame)
    try:
        con.execute(
            "INSERT INTO lineage_edges (src_kind, src_id, dst_kind, dst_id) "
            f"SELECT sk, sid, dk, did FROM new_edges n {_NEW_ONLY}"
        )
    finally:
        con.unregister("new_edges")


_NEW_ONLY = (
    "WHERE NOT EXISTS (SELECT 1 FROM lineage_edges e WHERE e.src_kind = n.sk AND "
    "e.src_id = n.sid AND e.dst_kind = n.dk AND e.dst_id = n.did)"
)


def record_feature_use(
    con: duckdb.DuckDBPyConnection,
    features: dict[str, list[str]],
    consumer: str,
    *,
    kind: str = "training_frame",
) -> None:
    """Feature lineage: ``{"view@version": [feature, ...]}`` consumed by ``consumer``.

    Adds a consumer row per feature and a feature view version -> consumer edge.
    """
    dst_kind = "dataset_version" if kind == "training_frame" else "model_version"
    for ref, names in features.items():
        view, _, version = ref.partition("@")
        for feature in names:
            con.execute(
                "INSERT INTO feature_consumers (view, version, feature, consumer_kind, "
                "consumer_id) VALUES (?, ?, ?, ?, ?)",
                [view, int(version), feature, kind, consumer],
            )
        add_edge(con, "feature_view_version", ref, dst_kind, consumer)
