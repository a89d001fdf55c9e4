"""Plotly figures of stored evaluations and drift reports (for notebooks)."""

from __future__ import annotations

import html
import itertools
from typing import TYPE_CHECKING, Any

from mlops_lab.errors import InvalidInputError

if TYPE_CHECKING:
    from mlops_lab.evaluation.store import Evaluation

__all__ = ["PLOTS", "drift_histogram", "evaluation_figure", "evaluation_html"]

PLOTS = ("roc", "pr", "calibration", "confusion", "residuals")
_AXES = {
    "roc": ("False positive rate", "True positive rate"),
    "pr": ("Recall", "Precision"),
    "calibration": ("Mean predicted probability", "Fraction of positives"),
}


def _title(evaluation: Evaluation) -> str:
    version = evaluation.version if evaluation.version is not None else "new"
    dataset = evaluation.dataset_version if evaluation.dataset_version is not None else "new"
    return f"{evaluation.model}/{version} on {evaluation.dataset}@{dataset}"


def evaluation_figure(evaluation: Evaluation, kind: str) -> Any:
    import plotly.graph_objects as go

    if kind not in PLOTS:
        raise InvalidInputError(f"Unknown plot {kind!r}; use one of {', '.join(PLOTS)}.")
    details = evaluation.details or {}
    curves = details.get("curves") or {}
    fig = go.Figure()
    if kind in ("roc", "pr", "calibration"):
        if not curves:
            raise InvalidInputError(
                f"No {kind} curve: curves exist for binary classifiers with both classes present."
            )
        curve = curves[kind]
        names = _AXES[kind]
        fig.add_scatter(
            x=curve["x"],
            y=curve["y"],
            mode="lines+markers" if kind == "calibration" else "lines",
            name=kind.upper(),
        )
        if kind in ("roc", "calibration"):
            fig.add_scatter(
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                name="chance",
                line={"dash": "dash", "color": "grey"},
            )
        fig.update_layout(xaxis_title=names[0], yaxis_title=names[1])
        if kind == "roc" and evaluation.metrics.get("roc_auc") is not None:
            fig.update_layout(
                title=f"{_title(evaluation)}: AUC {evaluation.metrics['roc_auc']:.3f}"
            )
    elif kind == "confusion":
        matrix = details.get("confusion_matrix")
        if not matrix:
            raise InvalidInputError("No confusion matrix: this is a regression evaluation.")
        labels = [str(v) for v in matrix["labels"]]
        fig.add_heatmap(
            z=matrix["matrix"],
            x=labels,
            y=labels,
            text=matrix["matrix"],
            texttemplate="%{text}",
            colorscale="Blues",
        )
        fig.update_layout(xaxis_title="Predicted", yaxis_title="Actual", yaxis_autorange="reversed")
    else:
        residuals = details.get("residuals")
        if not residuals:
            raise InvalidInputError("No residuals: this is a classification evaluation.")
        edges, counts = residuals["histogram"]["edges"], residuals["histogram"]["counts"]
        centers = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        fig.add_bar(x=centers, y=counts, name="residuals")
        fig.update_layout(xaxis_title="Actual - predicted", yaxis_title="Rows", bargap=0.02)
    if not fig.layout.title.text:
        fig.update_layout(title=f"{_title(evaluation)}: {kind}")
    fig.update_layout(height=380, margin={"l": 50, "r": 20, "t": 50, "b": 50})
    return fig


def drift_histogram(column: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    hist = column["histogram"]
    if hist["categories"] is not None:
        x: list[Any] = hist["categories"]
    else:
        edges = hist["edges"]
        x = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    fig = go.Figure()
    fig.add_bar(x=x, y=hist["reference"], name="reference", opacity=0.6)
    fig.add_bar(x=x, y=hist["current"], name="current", opacity=0.6)
    verdict = "drifted" if column["drifted"] else "no drift"
    tails = [
        f"{side} the bins: {hist[side]['reference']:.1%} / {hist[side]['current']:.1%}"
        for side in ("below", "above")
        if hist.get(side)
    ]
    if tails:  # the 1st-99th percentile bins leave the tails apart (reference / current)
        fig.add_annotation(
            text="; ".join(tails), showarrow=False, xref="paper", yref="paper", x=0, y=1.08
        )
    fig.update_layout(
        barmode="overlay",
        height=320,
        yaxis_title="Share of rows",
        title=f"{column['column']}: {verdict} ({column['effect']} {column['effect_size']:.3f})"
        if isinstance(column["effect_size"], float)
        else column["column"],
        margin={"l": 50, "r": 20, "t": 50, "b": 50},
    )
    return fig


def evaluation_html(evaluation: Evaluation) -> str:
    cells = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{'' if v is None else f'{v:.4f}'}</td></tr>"
        for k, v in evaluation.metrics.items()
    )
    return (
        f"<p><b>{html.escape(_title(evaluation))}</b> ({evaluation.task}, label "
        f"{html.escape(evaluation.label)}, {evaluation.rows} rows)</p>"
        f"<table><tbody>{cells}</tbody></table>"
    )
