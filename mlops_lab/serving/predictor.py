"""One prediction: route, fetch online features, check the signature, predict, log.

Kept free of HTTP so it is tested directly; :mod:`mlops_lab.serving.app` only
parses requests and writes what :meth:`Predictor.predict` answers. What a
model version needs as inputs is in :mod:`mlops_lab.serving.inputs`; running
the model on a row, in :mod:`mlops_lab.serving.scoring`.
"""

from __future__ import annotations

import json
import math
import secrets
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from mlops_lab.errors import (
    InvalidInputError,
    NotFoundError,
    OnlineStoreUnavailableError,
    UnknownEntityError,
)
from mlops_lab.models.lookup import LoadedModel
from mlops_lab.serving.inputs import ModelInputs, check_given, model_inputs
from mlops_lab.serving.limits import check_entity, check_features
from mlops_lab.serving.models import ModelSlot, TrafficSplit, variant_for
from mlops_lab.serving.predlog import PredictionLog, Record, make_record
from mlops_lab.serving.scoring import FastPath, score_row
from mlops_lab.workspace import Workspace

__all__ = ["Predictor"]


@dataclass(kw_only=True)
class _Served:
    """What the online store answered for one request."""

    row: dict[str, Any] = field(default_factory=dict)  # features (and event times) read
    stale: dict[str, str] = field(default_factory=dict)  # plain view -> event time past TTL
    values: dict[str, Any] = field(default_factory=dict)  # window feature -> value (None: empty)
    logged: dict[str, Any] | None = None  # "view@version:feature" -> value, for consistency
    as_of: datetime | None = None  # the time the windows were computed as of
    views: dict[str, str | None] = field(default_factory=dict)  # view -> its values' time


def _iso(stamp: Any) -> str | None:
    if stamp is None:
        return None
    when = pd.Timestamp(stamp)
    return (when.tz_localize(UTC) if when.tzinfo is None else when).isoformat()


class Predictor:
    """Champion (and optional challenger) behind a sticky traffic split."""

    def __init__(
        self,
        workspace: Workspace | None,
        champion: str | ModelSlot,
        *,
        challenger: str | None = None,
        split: float = 0.0,
        log: PredictionLog | None = None,
        inputs: dict[tuple[str, int], ModelInputs] | None = None,
        about: dict[str, Any] | None = None,
    ) -> None:
        """Without a workspace (a model bundle): ``champion`` is a slot holding its model,
        ``inputs`` what it reads, ``about`` what ``/metadata`` adds (the bundle)."""
        self.workspace = workspace
        self.slots = {
            "champion": champion
            if isinstance(champion, ModelSlot)
            else ModelSlot(workspace, champion, variant="champion")
        }
        if challenger:
            self.slots["challenger"] = ModelSlot(workspace, challenger, variant="challenger")
        elif split:
            raise InvalidInputError("A split needs a challenger (--challenger name@alias).")
        self.split = TrafficSplit(split)
        self.log = log
        self.about = dict(about or {})
        self._inputs: dict[tuple[str, int], ModelInputs] = dict(inputs or {})
        self._fast: FastPath = {}
        # The fast path feeds numpy rows in the fitted column order; scikit-learn would
        # warn on every request that they carry no column names.
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        for slot in self.slots.values():
            self.inputs_of(slot.current)

    def inputs_of(self, loaded: LoadedModel) -> ModelInputs:
        key = (loaded.version.name, int(loaded.version.version or 0))
        if key not in self._inputs:
            if self.workspace is None:
                raise InvalidInputError(f"No inputs known for {key[0]}/{key[1]}.")
            self._inputs[key] = model_inputs(self.workspace, loaded)
        return self._inputs[key]

    def refresh(self) -> list[str]:
        """Follow alias moves; the new version's inputs are resolved before it serves."""
        moved = []
        for name, slot in self.slots.items():
            before = slot.current
            if slot.refresh():
                try:
                    self.inputs_of(slot.current)
                except Exception as exc:
                    slot.current, slot.last_error = before, f"{type(exc).__name__}: {exc}"
                    continue
                moved.append(name)
        return moved

    def variant(self, entity: dict[str, Any]) -> str:
        if "challenger" not in self.slots:
            return "champion"
        key = json.dumps(entity, sort_keys=True, default=str)
        return variant_for(key, self.split.share)

    def predict(
        self, entity: dict[str, Any], features: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Predict for one entity and log it; raw ``features`` override or complete the
        online ones."""
        entity = check_entity(entity)
        answer, record = self.score(entity, check_features(features))
        self.commit([record])
        return answer

    def commit(self, records: list[Record | None]) -> None:
        """Log answered predictions: called once the answer is certain (all of a batch)."""
        if self.log is not None:
            self.log.extend([r for r in records if r is not None])

    def score(
        self, entity: dict[str, Any], features: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], Record | None]:
        """The answer for one checked entity, and its log record; nothing is logged yet."""
        variant = self.variant(entity)
        loaded = self.slots[variant].current  # this request keeps this version
        inputs = self.inputs_of(loaded)
        given = check_given(inputs, features or {})
        served = self._online(inputs, entity, given)
        row = served.row
        row.update(given)
        # A window feature may be null (no events in the window): a value, passed as NaN.
        empty = {c for c in served.values if served.values[c] is None and c not in given}
        for column in empty:
            row[column] = math.nan
        missing = [c for c in inputs.columns if row.get(c) is None]
        if missing:
            raise InvalidInputError(
                f"Missing feature(s) for {entity}: {', '.join(missing)} (neither in the online "
                "store nor in 'features')."
            )
        try:
            answer = score_row(self._fast, loaded, inputs, row)
        except ValueError as exc:  # the model refused the values it was given
            if not empty or "NaN" not in str(exc):
                raise InvalidInputError(
                    f"The model cannot predict for these inputs ({str(exc)[:300]}); check the "
                    "features' values against the training data's ranges."
                ) from None
            raise InvalidInputError(
                f"Window feature(s) {', '.join(sorted(empty))} are empty for {entity} (no events "
                "in the window: null) and the model does not accept missing values. Train it "
                "with missing values handled (an imputer in a Pipeline, or a model that takes "
                "NaN), or pass the values in 'features'."
            ) from None
        request_id = secrets.token_hex(8)
        record = None
        if self.log is not None:
            record = make_record(
                request_id,
                variant,
                loaded.version.name,
                int(loaded.version.version or 0),
                entity,
                {c: None if c in empty else row[c] for c in inputs.columns},
                answer["score"],
                online=served.logged,
                features_at=served.as_of,
            )
        answer = {
            "request_id": request_id,
            "variant": variant,
            "model": loaded.version.name,
            "version": loaded.version.version,
            **answer,
            "online_features": served.views,
            "stale_features": served.stale,
        }
        return answer, record

    def _online(
        self, inputs: ModelInputs, entity: dict[str, Any], given: dict[str, Any]
    ) -> _Served:
        if inputs.reader is None:
            return _Served()
        needed = [f for fs in inputs.online.values() for f in fs if f not in given]
        if not needed:
            return _Served()
        now = datetime.now(UTC)
        try:
            found = inputs.reader.get(entity, as_of=now)
        except (InvalidInputError, NotFoundError, OnlineStoreUnavailableError):
            raise
        except Exception as exc:
            raise OnlineStoreUnavailableError(
                inputs.reader.store.url, f"{type(exc).__name__}: {exc}"
            ) from exc
        stale: dict[str, str] = {}
        # Window views know every entity: one without events has count 0 / null windows.
        known = bool(inputs.windowed)
        versions = inputs.reader.versions
        logged = {
            f"{view}@{versions[view]}:{feature}": found.get(feature)
            for view, features in inputs.online.items()
            for feature in features
        }
        values = {
            feature: found.get(feature)
            for view in inputs.windowed
            for feature in inputs.online[view]
        }
        for view in inputs.online:
            if view in inputs.windowed:
                continue
            stamp = found.get(f"{view}__event_timestamp")
            if stamp is not None:
                known = True
                ttl = inputs.ttl.get(view)
                when = pd.Timestamp(stamp)
                when = when.tz_localize(UTC) if when.tzinfo is None else when
                if ttl is not None and (now - when.to_pydatetime()).total_seconds() > ttl:
                    stale[view] = when.isoformat()
        if not known:
            raise UnknownEntityError(
                f"Unknown entity {entity}: the online store has no features for it "
                f"({', '.join(inputs.online)}). Pass them in 'features' or materialize the view."
            )
        views = {
            view: (
                now.isoformat()
                if view in inputs.windowed
                else _iso(found.get(f"{view}__event_timestamp"))
            )
            for view in inputs.online
        }
        return _Served(row=found, stale=stale, values=values, logged=logged, as_of=now, views=views)

    def metadata(self) -> dict[str, Any]:
        from mlops_lab.features.serving import freshness

        served = {}
        for name, slot in self.slots.items():
            inputs = self.inputs_of(slot.current)
            served[name] = {
                "ref": slot.ref,
                "model": slot.current.version.name,
                "version": slot.version,
                "signature": slot.current.version.signature,
                "online_features": inputs.online,
                "swaps": slot.swaps,
                "last_error": slot.last_error,
            }
        return {
            "served": served,
            "split": self.split.share,
            "split_history": self.split.history,
            "feature_freshness": freshness(self.workspace) if self.workspace is not None else {},
            "at": time.time(),
            **self.about,
        }
