"""Notebook browsers of the model and evaluation stores (ipywidgets + plotly).

``ModelBrowser(ws)``: models, their versions with aliases and metrics, the
chosen version's signature and lineage, and its alias history.
``EvaluationBrowser(ws, "churn")``: the model's evaluations as a table, a
metric across versions, the chosen evaluation's curves, the latest drift report.
"""

from __future__ import annotations

from html import escape
from typing import Any

from mlops_lab.workspace import Workspace

__all__ = ["EvaluationBrowser", "ModelBrowser", "metric_over_versions"]


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_text(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _show(output: Any, figure: Any) -> None:
    from IPython.display import display

    output.clear_output(wait=True)
    with output:
        display(figure)  # type: ignore[no-untyped-call]


class ModelBrowser:
    """Pick a model and a version: aliases, metrics, signature, lineage, alias history."""

    def __init__(self, workspace: Workspace, query: str = "") -> None:
        import ipywidgets as widgets

        self.workspace = workspace
        self.search = widgets.Text(
            value=query, placeholder="search models...", description="Search"
        )
        self.models = widgets.Select(description="Models", rows=6)
        self.versions = widgets.Select(description="Versions", rows=6)
        self.details = widgets.HTML()
        self.search.observe(lambda _: self._refresh(), names="value")
        self.models.observe(lambda _: self._show_model(), names="value")
        self.versions.observe(lambda _: self._show_version(), names="value")
        self.widget = widgets.VBox(
            [self.search, widgets.HBox([self.models, self.versions]), self.details]
        )
        self._refresh()

    def _refresh(self) -> None:
        from mlops_lab.pages.models import list_models_page

        page = list_models_page(self.workspace, query=self.search.value or None, limit=200)
        self.models.options = [m["name"] for m in page["models"]]

    def _show_model(self) -> None:
        from mlops_lab.pages.models import model_detail

        if not self.models.value:
            return
        detail = model_detail(self.workspace, self.models.value, limit=200)
        self.versions.options = [
            (
                f"{v['version']}" + (f" ({', '.join(v['aliases'])})" if v["aliases"] else ""),
                v["version"],
            )
            for v in detail["versions"]
        ]
        self.details.value = "<b>Alias history</b>" + _table(
            ["alias", "from", "to", "by", "when", "reason"],
            [
                [
                    h["alias"],
                    h["from_version"],
                    h["to_version"],
                    h["changed_by"],
                    h["changed_at"],
                    h["reason"],
                ]
                for h in detail["history"]
            ],
        )

    def _show_version(self) -> None:
        from mlops_lab.pages.models import version_detail

        if not self.models.value or self.versions.value is None:
            return
        v = version_detail(self.workspace, self.models.value, int(self.versions.value))
        inputs = (v["signature"] or {}).get("inputs") or []
        lineage = [
            ["run", f"{v['run_id'] or ''} {v['stage'] or ''}".strip()],
            ["notebook", f"{v['notebook'] or ''} {(v['notebook_hash'] or '')[:12]}".strip()],
            ["training data", v["training_dataset"]],
            ["feature views", ", ".join(v["feature_views"])],
            ["parameters", ", ".join(f"{k}={val}" for k, val in v["parameters"].items())],
        ]
        flavor = v["flavor"] + (" (trusted)" if v["trusted"] else "")
        shown = ("accuracy", "roc_auc", "f1", "r2", "rmse")
        metrics = [
            [e["dataset"], e["dataset_version"], *(e["metrics"].get(m) for m in shown)]
            for e in v["evaluations"]
        ]
        self.details.value = (
            f"<b>{escape(v['name'])}/{v['version']}</b> {escape(flavor)} "
            f"{escape(', '.join(v['aliases']))} &mdash; {escape(v['description'])}"
            + _table(["lineage", ""], lineage)
            + "<b>Signature</b>"
            + _table(["column", "dtype"], [[c["name"], c["dtype"]] for c in inputs])
            + "<b>Evaluations</b>"
            + _table(["dataset", "version", *shown], metrics)
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]


def metric_over_versions(evaluations: list[dict[str, Any]], metric: str) -> Any:
    """A plotly line of ``metric`` by model version, one line per dataset."""
    import plotly.graph_objects as go

    figure = go.Figure()
    by_dataset: dict[str, list[tuple[int, float]]] = {}
    for e in evaluations:
        value = e["metrics"].get(metric)
        if value is not None:
            by_dataset.setdefault(e["dataset"], []).append((e["version"], value))
    for dataset, points in sorted(by_dataset.items()):
        points.sort()
        figure.add_scatter(
            x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers", name=dataset
        )
    figure.update_layout(
        title=f"{metric} by version",
        xaxis_title="version",
        yaxis_title=metric,
        height=320,
        xaxis_dtick=1,
    )
    return figure


class EvaluationBrowser:
    """A model's evaluations: table, metric over versions, curves, the latest drift report."""

    def __init__(self, workspace: Workspace, model: str, *, metric: str = "roc_auc") -> None:
        import ipywidgets as widgets

        from mlops_lab.evaluation.store import list_evaluations

        self.workspace = workspace
        self.evaluations, _ = list_evaluations(workspace, model=model, limit=1000)
        names = sorted({m for e in self.evaluations for m in e["metrics"]})
        self.table = widgets.HTML(
            _table(
                ["version", "dataset", *names],
                [
                    [
                        e["version"],
                        f"{e['dataset']}@{e['dataset_version']}",
                        *(e["metrics"].get(n) for n in names),
                    ]
                    for e in self.evaluations
                ],
            )
        )
        first = metric if metric in names else (names[0] if names else None)
        self.metric = widgets.Dropdown(options=names, value=first, description="Metric")
        self.chosen = widgets.Dropdown(
            options=[
                (f"{e['model']}/{e['version']} on {e['dataset']}@{e['dataset_version']}", e["id"])
                for e in self.evaluations
            ],
            description="Evaluation",
        )
        self.kind = widgets.ToggleButtons(options=["roc", "pr", "calibration", "confusion"])
        self.trend, self.plot, self.drift = widgets.Output(), widgets.Output(), widgets.HTML()
        self.metric.observe(lambda _: self._show_trend(), names="value")
        self.chosen.observe(lambda _: self._show_plot(), names="value")
        self.kind.observe(lambda _: self._show_plot(), names="value")
        self.widget = widgets.VBox(
            [self.table, self.metric, self.trend, self.chosen, self.kind, self.plot, self.drift]
        )
        self._show_trend()
        self._show_plot()
        self._show_drift()

    def _show_trend(self) -> None:
        if self.metric.value:
            _show(self.trend, metric_over_versions(self.evaluations, self.metric.value))

    def _show_plot(self) -> None:
        from mlops_lab.errors import InvalidInputError
        from mlops_lab.evaluation.store import get_evaluation

        if not self.chosen.value:
            return
        evaluation = get_evaluation(self.workspace, self.chosen.value)
        kind = self.kind.value if evaluation.task == "classification" else "residuals"
        try:
            _show(self.plot, evaluation.plot(kind))
        except InvalidInputError as exc:
            self.plot.clear_output()
            with self.plot:
                print(exc.message)

    def _show_drift(self) -> None:
        from mlops_lab.evaluation.store import get_drift_report, list_drift_reports

        reports, _ = list_drift_reports(self.workspace, limit=1)
        if not reports:
            self.drift.value = "<i>No drift report yet.</i>"
            return
        report = get_drift_report(self.workspace, reports[0]["id"])
        rows = [
            [
                c["column"],
                "drifted" if c["drifted"] else "",
                c["test"],
                c["p_adjusted"],
                c["effect"],
                c["effect_size"],
                c["psi"],
            ]
            for c in sorted(report["columns"], key=lambda c: not c["drifted"])
        ]
        self.drift.value = (
            f"<b>Latest drift report</b>: {escape(report['current'])} vs "
            f"{escape(report['reference'])}, {report['verdict']}"
            + _table(["column", "", "test", "p (BH)", "effect", "size", "PSI"], rows)
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]
