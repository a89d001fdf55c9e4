"""ipywidgets + plotly views for use inside notebooks (thin: they call the services)."""

from mlops_lab.widgets.features import FeatureBrowser, feature_histogram
from mlops_lab.widgets.models import EvaluationBrowser, ModelBrowser, metric_over_versions

__all__ = [
    "EvaluationBrowser",
    "FeatureBrowser",
    "ModelBrowser",
    "feature_histogram",
    "metric_over_versions",
]
