"""``FeatureBrowser(store)``: search feature views and look at a feature's histogram."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_lab.features import FeatureStore

__all__ = ["FeatureBrowser", "feature_histogram"]


def feature_histogram(feature: dict[str, Any], *, title: str | None = None) -> Any:
    """A plotly bar chart of a feature's stored histogram (numeric bins or top values)."""
    import plotly.graph_objects as go

    histogram = feature.get("histogram") or {}
    counts = histogram.get("counts", [])
    if "edges" in histogram:
        edges = histogram["edges"]
        x = [(edges[i] + edges[i + 1]) / 2 for i in range(len(counts))]
        width = [edges[i + 1] - edges[i] for i in range(len(counts))]
        bars = go.Bar(x=x, y=counts, width=width, name=feature["name"])
    else:
        bars = go.Bar(x=histogram.get("labels", []), y=counts, name=feature["name"])
    figure = go.Figure(bars)
    nulls = feature.get("null_share", 0.0)
    about = feature.get("stats_as_of") or {}
    when = f", as of {about['as_of'][:16].replace('T', ' ')}" if about.get("as_of") else ""
    figure.update_layout(
        title=title or f"{feature['name']} ({feature.get('dtype', '')}, {nulls:.1%} null{when})",
        xaxis_title=feature["name"],
        yaxis_title="entities" if about else "rows",
        bargap=0.02,
        height=320,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return figure


class FeatureBrowser:
    """A search box, the matching views, their features, statistics and a histogram."""

    def __init__(self, store: FeatureStore, query: str = "") -> None:
        import ipywidgets as widgets

        self.store = store
        self.search = widgets.Text(
            value=query, placeholder="search views, features, tags...", description="Search"
        )
        self.views = widgets.Select(description="Views", rows=8)
        self.features = widgets.Select(description="Features", rows=8)
        self.details = widgets.HTML()
        self.plot = widgets.Output()
        self.search.observe(lambda _: self._refresh_views(), names="value")
        self.views.observe(lambda _: self._show_view(), names="value")
        self.features.observe(lambda _: self._show_feature(), names="value")
        self.widget = widgets.VBox(
            [
                self.search,
                widgets.HBox([self.views, self.features]),
                self.details,
                self.plot,
            ]
        )
        self._view: Any = None
        self._refresh_views()

    def _refresh_views(self) -> None:
        found = (
            self.store.search(self.search.value)
            if self.search.value
            else (self.store.list_feature_views())
        )
        self.views.options = [v["name"] for v in found]

    def _show_view(self) -> None:
        if not self.views.value:
            return
        self._view = self.store.get_feature_view(self.views.value)
        self.features.options = self._view.feature_names

    def _show_feature(self) -> None:
        from html import escape

        from IPython.display import display

        if self._view is None or not self.features.value:
            return
        feature = next(f for f in self._view.features if f["name"] == self.features.value)
        cells = "".join(
            f"<td>{escape(str(feature.get(k)))}</td>"
            for k in ("dtype", "null_share", "min", "max", "mean", "distinct")
        )
        about = feature.get("stats_as_of") or {}
        window = (
            f"<div>{escape(feature.get('definition', ''))}</div>"
            f"<div><i>Statistics as of {escape(str(about.get('as_of')))} (the source's last "
            "event), one value per entity with events.</i></div>"
            if about
            else ""
        )
        self.details.value = (
            f"<b>{escape(self._view.name)} v{self._view.version}</b> "
            f"({escape(self._view.entity)}) &mdash; {escape(self._view.description)}{window}"
            "<table><tr><th>dtype</th><th>null share</th><th>min</th><th>max</th><th>mean</th>"
            f"<th>distinct</th></tr><tr>{cells}</tr></table>"
        )
        self.plot.clear_output(wait=True)
        with self.plot:
            display(feature_histogram(feature))  # type: ignore[no-untyped-call]

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]
