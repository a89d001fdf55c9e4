"""How long to keep trying when the catalog is busy: jittered exponential backoff."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How long to keep trying when the catalog is busy.

    ``timeout`` defaults to the ``MLOPS_LAB_CATALOG_TIMEOUT`` environment
    variable (seconds), else 60 s.
    """

    timeout: float = float(os.environ.get("MLOPS_LAB_CATALOG_TIMEOUT", "60"))
    first_delay: float = 0.002
    max_delay: float = 0.2

    def delays(self) -> Iterator[float]:
        """Full-jitter exponential backoff: random sleeps in growing windows."""
        window = self.first_delay
        while True:
            yield random.uniform(0, window)
            window = min(window * 2, self.max_delay)
