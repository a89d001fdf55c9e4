"""ipywidgets + plotly views for use inside notebooks (thin: they call the services)."""

from mlops_lab.widgets.features import FeatureBrowser, feature_histogram

__all__ = ["FeatureBrowser", "feature_histogram"]
