"""Data drift between a reference and a current sample, column by column.

The rule (documented in the README, "Drift"):

* numeric columns: two-sample Kolmogorov-Smirnov test (p-value as
  ``scipy.stats.ks_2samp``: exact up to 10,000 rows a side, else Smirnov's
  asymptotic formula) and the Wasserstein distance divided by the
  reference's standard deviation (``wasserstein_norm``, the effect size);
* categorical columns: chi-square test of homogeneity on the 2 x k
  reference/current contingency table (``scipy.stats.chi2_contingency``) and
  the Jensen-Shannon distance in base 2 (the effect size, 0..1);
* PSI for both (numeric: ten reference-quantile bins; fractions floored at 1e-4);
* the p-values of all checked columns are adjusted with Benjamini-Hochberg;
  a column drifted when its adjusted p-value is below ``alpha`` (0.05) **and**
  its effect size reaches ``effect_floor`` (0.05). On large samples the test
  alone flags differences too small to matter; the distance alone (say
  "above 0.1") misses real shifts on small-cardinality columns.

Per column, ``ColumnRule`` overrides the alpha and floor, or replaces the
rule by a threshold on one statistic (``method="psi"``, ``threshold=0.2``).

The reference's side of every statistic (sorted values, bins, category
counts) is a :class:`Profile`, computed once per reference dataset version
and kept as an artifact; checks against new batches reuse it.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlops_lab.errors import InvalidInputError
from mlops_lab.evaluation.histograms import (
    PROFILE_FORMAT,
    bin_fractions,
    hist_edges,
    hist_fractions,
    histogram,
)

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_EFFECT_FLOOR",
    "PROFILE_FORMAT",
    "ColumnDrift",
    "ColumnRule",
    "Profile",
    "build_profile",
    "compare_to_profile",
]

DEFAULT_ALPHA = 0.05
DEFAULT_EFFECT_FLOOR = 0.05
_EXACT_KS_MAX = 10_000  # scipy's ks_2samp is exact up to this many rows a side
_PSI_BINS = 10
_PSI_FLOOR = 1e-4
_ARRAYS = ("values", "psi_edges", "psi_fractions", "hist_edges", "hist_fractions")
_METHODS = ("default", "ks", "chi2", "psi", "wasserstein_norm", "jensen_shannon")


@dataclass(frozen=True, kw_only=True)
class ColumnRule:
    """How one column is judged: the default test + floor, or a threshold on one statistic."""

    method: str = "default"
    alpha: float = DEFAULT_ALPHA
    effect_floor: float = DEFAULT_EFFECT_FLOOR
    threshold: float | None = None  # for method psi / wasserstein_norm / jensen_shannon / ks / chi2

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise InvalidInputError(
                f"Unknown drift method {self.method!r}; use one of {', '.join(_METHODS)}."
            )
        if self.method in ("psi", "wasserstein_norm", "jensen_shannon") and self.threshold is None:
            raise InvalidInputError(f"Drift method {self.method!r} needs a threshold.")

    @classmethod
    def parse(cls, value: ColumnRule | dict[str, Any]) -> ColumnRule:
        if isinstance(value, ColumnRule):
            return value
        if not isinstance(value, dict):
            raise InvalidInputError(f"A column rule is a dict or ColumnRule, got {value!r}.")
        unknown = set(value) - {"method", "alpha", "effect_floor", "threshold"}
        if unknown:
            raise InvalidInputError(f"Unknown column rule keys: {', '.join(sorted(unknown))}.")
        return cls(**value)


@dataclass(frozen=True, kw_only=True)
class NumericProfile:
    values: np.ndarray  # sorted, without NaN
    mean: float
    std: float
    missing: int
    psi_edges: np.ndarray
    psi_fractions: np.ndarray
    hist_edges: np.ndarray
    hist_fractions: np.ndarray


@dataclass(frozen=True, kw_only=True)
class CategoricalProfile:
    counts: dict[str, int]
    missing: int


@dataclass(frozen=True, kw_only=True)
class Profile:
    """The reference side of every statistic, per column."""

    rows: int
    numeric: dict[str, NumericProfile] = field(default_factory=dict)
    categorical: dict[str, CategoricalProfile] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"rows": self.rows, "numeric": {}, "categorical": {}}
        for i, (name, p) in enumerate(self.numeric.items()):
            for key in _ARRAYS:
                arrays[f"n{i}_{key}"] = getattr(p, key)
            meta["numeric"][name] = {"i": i, "mean": p.mean, "std": p.std, "missing": p.missing}
        for name, c in self.categorical.items():
            meta["categorical"][name] = {"counts": c.counts, "missing": c.missing}
        buffer = io.BytesIO()
        arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(npz["__meta__"].tobytes().decode())
            numeric = {
                name: NumericProfile(
                    mean=m["mean"],
                    std=m["std"],
                    missing=m["missing"],
                    **{key: npz[f"n{m['i']}_{key}"] for key in _ARRAYS},
                )
                for name, m in meta["numeric"].items()
            }
        categorical = {
            name: CategoricalProfile(counts=c["counts"], missing=c["missing"])
            for name, c in meta["categorical"].items()
        }
        return cls(rows=meta["rows"], numeric=numeric, categorical=categorical)


@dataclass(frozen=True, kw_only=True)
class ColumnDrift:
    column: str
    kind: str  # numeric | categorical
    test: str  # ks | chi2
    statistic: float
    p_value: float
    p_adjusted: float
    effect: str  # wasserstein_norm | jensen_shannon
    effect_size: float
    psi: float
    rule: ColumnRule
    drifted: bool
    reference_rows: int
    current_rows: int
    histogram: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        rule = data.pop("rule")
        data.update(
            method=rule.method,
            alpha=rule.alpha,
            effect_floor=rule.effect_floor,
            threshold=rule.threshold,
        )
        return {k: _finite(v) for k, v in data.items()}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def build_profile(frame: pd.DataFrame, columns: list[str]) -> Profile:
    """The reference profile of ``columns`` (numeric or categorical by dtype)."""
    numeric: dict[str, NumericProfile] = {}
    categorical: dict[str, CategoricalProfile] = {}
    for name in columns:
        series = frame[name]
        if is_numeric(series):
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            kept = np.sort(values[~np.isnan(values)])
            if kept.size == 0:
                raise InvalidInputError(f"Reference column {name!r} has no values.")
            psi_edges = np.unique(np.quantile(kept, np.linspace(0, 1, _PSI_BINS + 1)[1:-1]))
            edges = hist_edges(kept)
            numeric[name] = NumericProfile(
                values=kept,
                mean=float(kept.mean()),
                std=float(kept.std()),
                missing=int(values.size - kept.size),
                psi_edges=psi_edges,
                psi_fractions=bin_fractions(kept, psi_edges),
                hist_edges=edges,
                hist_fractions=hist_fractions(kept, edges),
            )
        else:
            counts = series.astype("string").value_counts(dropna=True)
            categorical[name] = CategoricalProfile(
                counts={str(k): int(v) for k, v in counts.items()},
                missing=int(series.isna().sum()),
            )
    return Profile(rows=len(frame), numeric=numeric, categorical=categorical)


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    r = np.maximum(reference, _PSI_FLOOR)
    c = np.maximum(current, _PSI_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def _numeric(name: str, ref: NumericProfile, series: pd.Series) -> dict[str, Any]:
    from scipy import stats

    values = series.to_numpy(dtype="float64", na_value=np.nan)
    cur = np.sort(values[~np.isnan(values)])
    if cur.size == 0:
        raise InvalidInputError(f"Current column {name!r} has no values.")
    n1, n2 = ref.values.size, cur.size
    merged, cdf1, cdf2 = _merged_cdfs(ref.values, cur)
    if max(n1, n2) <= _EXACT_KS_MAX:
        result = stats.ks_2samp(ref.values, cur)
        d, p = float(result.statistic), float(result.pvalue)
    else:
        diffs = cdf1 - cdf2
        d = float(max(np.clip(-diffs.min(), 0, 1), diffs.max()))
        m, n = sorted([float(n1), float(n2)], reverse=True)
        p = float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))
    wasserstein = float(np.dot(np.abs(cdf1[:-1] - cdf2[:-1]), np.diff(merged)))
    effect = wasserstein / ref.std if ref.std > 0 else (0.0 if wasserstein == 0 else math.inf)
    return {
        "kind": "numeric",
        "test": "ks",
        "statistic": d,
        "p_value": p,
        "effect": "wasserstein_norm",
        "effect_size": effect,
        "psi": _psi(ref.psi_fractions, bin_fractions(cur, ref.psi_edges)),
        "reference_rows": n1,
        "current_rows": n2,
        "histogram": histogram(ref.hist_edges, ref.hist_fractions, cur),
    }


def _merged_cdfs(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, ...]:
    """All values sorted, and each sample's empirical CDF at them (``side="right"``).

    Both inputs are sorted, so a stable argsort of the two runs is a linear
    merge; the CDFs come from running counts, taken at the last of equal values.
    """
    both = np.concatenate([ref, cur])
    order = np.argsort(both, kind="stable")
    merged = both[order]
    from_ref = np.cumsum(order < ref.size)
    position = np.arange(1, merged.size + 1)
    new_value = merged[1:] != merged[:-1]
    if not new_value.all():  # ties: every equal value takes the counts at its last copy
        last_of_run = np.flatnonzero(np.append(new_value, True))
        at_end = last_of_run[
            np.repeat(np.arange(last_of_run.size), np.diff(np.append(-1, last_of_run)))
        ]
        from_ref, position = from_ref[at_end], at_end + 1
    return merged, from_ref / ref.size, (position - from_ref) / cur.size


def _categorical(name: str, ref: CategoricalProfile, series: pd.Series) -> dict[str, Any]:
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    counts = series.astype("string").value_counts(dropna=True)
    current = {str(k): int(v) for k, v in counts.items()}
    categories = sorted(set(ref.counts) | set(current))
    table = np.array(
        [[ref.counts.get(c, 0) for c in categories], [current.get(c, 0) for c in categories]],
        dtype=float,
    )
    n1, n2 = int(table[0].sum()), int(table[1].sum())
    if n2 == 0:
        raise InvalidInputError(f"Current column {name!r} has no values.")
    if len(categories) < 2:
        statistic, p = 0.0, 1.0
    else:
        result = stats.chi2_contingency(table)
        statistic, p = float(result.statistic), float(result.pvalue)
    ref_p, cur_p = table[0] / max(n1, 1), table[1] / max(n2, 1)
    return {
        "kind": "categorical",
        "test": "chi2",
        "statistic": statistic,
        "p_value": p,
        "effect": "jensen_shannon",
        "effect_size": float(jensenshannon(ref_p, cur_p, base=2)),
        "psi": _psi(ref_p, cur_p),
        "reference_rows": n1,
        "current_rows": n2,
        "histogram": {
            "edges": None,
            "categories": categories,
            "reference": ref_p.tolist(),
            "current": cur_p.tolist(),
        },
    }


def compare_to_profile(
    profile: Profile, current: pd.DataFrame, rules: dict[str, ColumnRule] | None = None
) -> list[ColumnDrift]:
    """Every profiled column of ``current`` against the reference; drifted ones flagged."""
    from scipy import stats

    missing = [c for c in profile.columns if c not in current.columns]
    if missing:
        raise InvalidInputError(
            f"The current data lacks column(s) {', '.join(map(repr, missing))} of the reference."
        )
    rules = rules or {}
    raw: list[tuple[str, dict[str, Any]]] = []
    for name, num in profile.numeric.items():
        raw.append((name, _numeric(name, num, current[name])))
    for name, cat in profile.categorical.items():
        raw.append((name, _categorical(name, cat, current[name])))
    p_values = np.array([r["p_value"] for _, r in raw], dtype=float)
    adjusted = stats.false_discovery_control(p_values, method="bh") if raw else p_values
    results = []
    for (name, r), p_adj in zip(raw, adjusted, strict=True):
        rule = rules.get(name, ColumnRule())
        results.append(
            ColumnDrift(
                column=name,
                p_adjusted=float(p_adj),
                rule=rule,
                drifted=_verdict(rule, r, float(p_adj)),
                **r,
            )
        )
    return results


def _verdict(rule: ColumnRule, r: dict[str, Any], p_adjusted: float) -> bool:
    if rule.method == "default":
        return p_adjusted < rule.alpha and r["effect_size"] >= rule.effect_floor
    if rule.method in ("ks", "chi2"):
        return p_adjusted < (rule.threshold if rule.threshold is not None else rule.alpha)
    value = r["psi"] if rule.method == "psi" else r["effect_size"]
    if rule.method != "psi" and r["effect"] != rule.method:
        raise InvalidInputError(
            f"Column is {r['kind']}: method {rule.method!r} does not apply; use "
            f"{r['effect']!r}, 'psi' or the default."
        )
    return bool(value >= (rule.threshold or 0.0))
