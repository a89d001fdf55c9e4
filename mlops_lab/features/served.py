"""Served rows with outcomes appended to a training frame (the stage that builds it calls this).

A collection of served requests (:func:`mlops_lab.serving.served_rows.collect_served_outcomes`)
holds, per request, the features as the model server used them (point in time:
as of the request) and the outcome that arrived. :func:`append_served_rows`
gives those rows the training frame's columns and appends them:

- a column of the frame that the served rows also have is taken from them,
  cast to the frame's dtype where the values allow it (an empty window stays
  null);
- a column they lack (a raw attribute such as the customer's ``segment``,
  which the model does not read but evaluation slices by) comes from
  ``fill`` (values by row, e.g. looked up by entity) or is left null; the
  record names which were filled and which left null;
- the collection's own columns (``request_id``, ``served_at``,
  ``model_version``) are not training columns and are dropped, so the
  training notebook sees the same columns as before.

The record it returns is what the stage logs under the parameter
``served_rows`` (:data:`SERVED_PARAM`), which
:func:`mlops_lab.serving.served_rows.new_training_data` reads back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlops_lab.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

    from mlops_lab.datasets import DatasetVersion

__all__ = ["SERVED_COLUMNS", "SERVED_PARAM", "append_served_rows"]

SERVED_PARAM = "served_rows"
SERVED_COLUMNS = ("request_id", "served_at", "model_version")


def append_served_rows(
    frame: pd.DataFrame,
    served: pd.DataFrame,
    *,
    source: DatasetVersion,
    into: str = "training_frame",
    fill: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``frame`` with the rows of ``served`` (collection version ``source``) appended,
    and the record of what was added (log it as the parameter :data:`SERVED_PARAM`).

    The frame's ``attrs`` (its feature lineage) are kept.
    """
    import pandas as pd

    if "request_id" not in served.columns:
        raise InvalidInputError(
            f"{source.name}@{source.version} is not a collection of served requests (no "
            "request_id column); collect them with `mlops-lab monitor ... --collect`."
        )
    fill = dict(fill or {})
    missing = [c for c in frame.columns if c not in served.columns]
    aligned = pd.DataFrame(index=served.index)
    for column in frame.columns:
        if column in served.columns:
            values = served[column]
        elif column in fill:
            values = pd.Series(fill[column], index=served.index)
        else:
            values = pd.Series(None, index=served.index, dtype=object)
        aligned[column] = _cast(values, frame[column].dtype)
    attrs = dict(frame.attrs)
    combined = pd.concat([frame, aligned], ignore_index=True)
    combined.attrs = attrs
    times = pd.to_datetime(served.served_at, utc=True) if len(served) else None
    record = {
        "dataset": into,
        "base_rows": len(frame),
        "rows": len(combined),
        "served": {
            "dataset": source.name,
            "version": source.version,
            "rows": len(served),
            "from": times.min().isoformat() if times is not None else None,
            "to": times.max().isoformat() if times is not None else None,
            "filled": [c for c in missing if c in fill],
            "left_null": [c for c in missing if c not in fill],
        },
    }
    return combined, record


def _cast(values: pd.Series, dtype: Any) -> pd.Series:
    """``values`` in the frame's dtype when they fit it (no nulls in an int column)."""
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values
