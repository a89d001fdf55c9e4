"""The demo workspace's offline features for a customer, as a client would send them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mlops_lab import Workspace
from mlops_lab.datasets import load_dataset

OFFLINE = [
    "days_since_last",
    "tenure_days",
    "segment_consumer",
    "segment_enterprise",
    "segment_smb",
]


def training_row(ws: Workspace, customer: str) -> pd.Series:
    frame = load_dataset(ws, "training_frame")
    return frame.set_index("customer_id").loc[customer]


def offline_features(ws: Workspace, customer: str) -> dict[str, Any]:
    row = training_row(ws, customer)
    return {c: row[c].item() if hasattr(row[c], "item") else row[c] for c in OFFLINE}
