"""A drift report as the notebook sees it: a table, a verdict and overlaid histograms."""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from mlops_lab.evaluation.drift import ColumnDrift

__all__ = ["DriftReport"]


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
        features = [r for r in results if r.column != "prediction" or model is None]
        drifted = [r.column for r in results if r.drifted]
        feature_drifted = [r.column for r in features if r.drifted]
        share = len(feature_drifted) / len(features) if features else 0.0
        reasons = []
        if share > max_drifted_share:
            reasons.append(
                f"{len(feature_drifted)} of {len(features)} columns drifted "
                f"({share:.0%} > {max_drifted_share:.0%}): {', '.join(feature_drifted)}"
            )
        if model is not None and "prediction" in drifted:
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
            f"{len(self.drifted)} of {len(self.columns)} checked columns drifted.</p>{alert}"
            "<table><thead><tr><th>column</th><th></th><th>test</th><th>p (BH)</th>"
            "<th>statistic</th><th>effect</th><th>size</th><th>PSI</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")
