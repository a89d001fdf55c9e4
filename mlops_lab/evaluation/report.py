"""A drift report as the notebook sees it: a table, a verdict and overlaid histograms."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from mlops_lab.evaluation.drift import ColumnDrift

__all__ = ["DriftReport", "drift_counts"]


def drift_counts(drifted: Sequence[str], *, checked: int, with_model: bool) -> dict[str, Any]:
    """What a drift report counts, the one place the header, the alert and the CLI read.

    With a model, ``prediction`` is the model's output, not a feature: it is
    counted apart (``prediction_drifted``), never in ``features``/``features_drifted``.
    """
    prediction = with_model and "prediction" in drifted
    features_drifted = [c for c in drifted if not (with_model and c == "prediction")]
    features = max(checked - (1 if with_model else 0), 0)
    share = len(features_drifted) / features if features else 0.0
    summary = f"{len(features_drifted)} of {features} feature columns drifted"
    return {
        "features": features,
        "features_drifted": len(features_drifted),
        "drifted_features": features_drifted,
        "share": share,
        "prediction_checked": with_model,
        "prediction_drifted": prediction,
        "summary": summary,
    }


@dataclass(frozen=True, kw_only=True)
class DriftReport:
    columns: list[dict[str, Any]]
    drifted: list[str]
    drifted_share: float
    verdict: str  # drift | ok
    alert_reason: str | None
    reference: dict[str, Any]
    current: dict[str, Any]
    model: dict[str, Any] | None = None
    id: str | None = None  # None until the stage that checked it commits
    alert_id: str | None = None

    @classmethod
    def from_results(
        cls,
        results: list[ColumnDrift],
        *,
        reference: dict[str, Any],
        current: dict[str, Any],
        model: dict[str, Any] | None,
        max_drifted_share: float,
    ) -> DriftReport:
        columns = [r.to_dict() for r in results]
        drifted = [r.column for r in results if r.drifted]
        counts = drift_counts(drifted, checked=len(results), with_model=model is not None)
        share = counts["share"]
        reasons = []
        if share > max_drifted_share:
            reasons.append(
                f"{counts['summary']} ({share:.0%} > {max_drifted_share:.0%}): "
                + ", ".join(counts["drifted_features"])
            )
        if counts["prediction_drifted"]:
            reasons.append("the model's predictions drifted")
        return cls(
            columns=columns,
            drifted=drifted,
            drifted_share=share,
            verdict="drift" if drifted else "ok",
            alert_reason="; ".join(reasons) or None,
            reference=reference,
            current=current,
            model=model,
        )

    @property
    def counts(self) -> dict[str, Any]:
        """Drifted feature columns of the checked ones, the predictions apart."""
        return drift_counts(
            self.drifted, checked=len(self.columns), with_model=self.model is not None
        )

    def stored(self, created: dict[str, Any]) -> DriftReport:
        return replace(self, id=created["id"], alert_id=created.get("alert_id"))

    def to_frame(self) -> pd.DataFrame:
        """One row per column, drifted first, then by effect size."""
        frame = pd.DataFrame(self.columns).drop(columns=["histogram"])
        return frame.sort_values(
            ["drifted", "effect_size"],
            ascending=False,
            key=lambda s: pd.to_numeric(s, errors="coerce"),
        ).reset_index(drop=True)

    def plot(self, column: str) -> Any:
        """Overlaid reference/current histograms of one column (plotly)."""
        from mlops_lab.evaluation.plots import drift_histogram

        found = [c for c in self.columns if c["column"] == column]
        if not found:
            from mlops_lab.errors import InvalidInputError

            names = ", ".join(c["column"] for c in self.columns)
            raise InvalidInputError(f"Column {column!r} was not checked (checked: {names}).")
        return drift_histogram(found[0])

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{:.3g}</td><td>{:.3g}</td><td>{}</td>"
            "<td>{:.3f}</td><td>{:.3f}</td></tr>".format(
                ' style="font-weight:bold"' if c["drifted"] else "",
                html.escape(c["column"]),
                "drifted" if c["drifted"] else "",
                c["test"],
                c["p_adjusted"],
                c["statistic"],
                c["effect"],
                _num(c["effect_size"]),
                c["psi"],
            )
            for c in sorted(self.columns, key=lambda c: not c["drifted"])
        )
        ref = f"{self.reference['name']}@{self.reference['version'] or 'new'}"
        cur = f"{self.current['name']}@{self.current['version'] or 'new'}"
        alert = f"<p>Alert: {html.escape(self.alert_reason)}</p>" if self.alert_reason else ""
        return (
            f"<p><b>Drift {html.escape(cur)} vs {html.escape(ref)}</b>: {self.verdict}, "
            f"{html.escape(self.counts['summary'])}"
            f"{'; the predictions drifted' if self.counts['prediction_drifted'] else ''}.</p>"
            f"{alert}"
            "<table><thead><tr><th>column</th><th></th><th>test</th><th>p (BH)</th>"
            "<th>statistic</th><th>effect</th><th>size</th><th>PSI</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")
