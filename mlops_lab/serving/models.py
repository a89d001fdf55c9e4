"""What a model server serves: model slots that follow their alias, and the traffic split.

A :class:`ModelSlot` holds the loaded version of a reference such as
``churn@champion``. A watcher thread checks the catalog's write counter (a
file read) every ``poll`` seconds; when the alias points elsewhere it loads
the new version *beside* the old one and swaps a single reference, so
requests in flight finish on the version they started with and none is
dropped. A version that fails to load leaves the old one serving (the error
is kept for ``/metadata`` and the log).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from mlops_lab.errors import InvalidInputError
from mlops_lab.models.lookup import LoadedModel, get_model_version, load_model
from mlops_lab.workspace import Workspace

__all__ = ["ModelSlot", "TrafficSplit", "variant_for"]

_HISTORY = 1000

log = logging.getLogger("mlops_lab.serving")


class ModelSlot:
    """One served reference (``name@alias``, ``name/3`` or ``name``), kept current."""

    def __init__(
        self,
        workspace: Workspace | None,
        ref: str,
        *,
        variant: str,
        loaded: LoadedModel | None = None,
    ) -> None:
        """``loaded`` without a workspace: a fixed version (a model bundle's), never swapped."""
        self.workspace = workspace
        self.ref = ref
        self.variant = variant
        if loaded is None:
            if workspace is None:
                raise InvalidInputError(f"{ref}: a model slot needs a workspace or a model.")
            loaded = load_model(workspace, ref)
        self.current: LoadedModel = loaded
        self.last_error: str | None = None
        self.swaps = 0
        self._generation = workspace.catalog.generation() if workspace is not None else 0

    @property
    def version(self) -> int:
        return int(self.current.version.version or 0)

    def refresh(self) -> bool:
        """Load the version the reference points at now, if it changed; True if swapped."""
        if self.workspace is None:  # a fixed version
            return False
        generation = self.workspace.catalog.generation()
        if generation == self._generation:
            return False
        self._generation = generation
        try:
            wanted = get_model_version(self.workspace, self.ref)
            if wanted.version == self.current.version.version:
                return False
            loaded = load_model(self.workspace, f"{wanted.name}/{wanted.version}")
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error(
                "mlops-lab serve: %s could not load its new version: %s", self.ref, self.last_error
            )
            return False
        previous = self.version
        self.current = loaded  # one reference swap: requests in flight keep theirs
        self.swaps += 1
        self.last_error = None
        log.info(
            "mlops-lab serve: %s moved from version %s to %s", self.ref, previous, self.version
        )
        return True


def variant_for(entity_key: str, split: float) -> str:
    """Sticky routing: the same entity always lands on the same side of ``split``."""
    if split <= 0:
        return "champion"
    if split >= 1:
        return "challenger"
    digest = hashlib.blake2b(entity_key.encode(), digest_size=8).digest()
    return "challenger" if int.from_bytes(digest, "big") / 2**64 < split else "champion"


@dataclass
class TrafficSplit:
    """The challenger's share of traffic; changed at run time, history kept."""

    share: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.history: list[dict[str, Any]] = []
        self.set(self.share, reason="start")

    def set(self, share: float, *, reason: str = "") -> dict[str, Any]:
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise InvalidInputError(f"The split is a share between 0 and 1, got {share!r}.")
        with self._lock:
            previous = self.share
            self.share = float(share)
            change = {"from": previous, "to": self.share, "reason": reason, "at": time.time()}
            self.history.append(change)
            del self.history[:-_HISTORY]  # the latest changes: /metadata stays small
            return change
