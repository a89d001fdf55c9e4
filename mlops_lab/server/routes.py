"""The one route table of the mlops-lab REST API (documented in openapi.yaml)."""

from __future__ import annotations

import re
from typing import Any

from jupyter_server.utils import url_path_join

from mlops_lab.server.datasets_handlers import DatasetChecksHandler
from mlops_lab.server.evaluations_handlers import (
    ABTestCloseHandler,
    ABTestHandler,
    ABTestsHandler,
    AlertAcknowledgeHandler,
    AlertCloseHandler,
    AlertsHandler,
    ComparisonsHandler,
    DriftReportHandler,
    DriftReportsHandler,
    EvaluationHandler,
    EvaluationsHandler,
)
from mlops_lab.server.features_handlers import (
    FeatureConsistencyHandler,
    FeatureStreamsHandler,
    FeatureViewDiffHandler,
    FeatureViewHandler,
    FeatureViewsHandler,
)
from mlops_lab.server.handlers import OpenAPIHandler, StatusHandler
from mlops_lab.server.handoff_handlers import (
    HandoffHandler,
    HandoffParametersHandler,
    HandoffReportHandler,
    HandoffsHandler,
    HandoffStageHandler,
)
from mlops_lab.server.lifecycle_handlers import (
    LifecycleHandler,
    ProjectHandler,
    ProjectValidateHandler,
)
from mlops_lab.server.models_handlers import (
    DatasetVersionHandler,
    ModelAliasesHandler,
    ModelBundlesHandler,
    ModelCompareHandler,
    ModelExampleHandler,
    ModelHandler,
    ModelsHandler,
    ModelVersionHandler,
)
from mlops_lab.server.runs_handlers import (
    CancelRunHandler,
    CompareRunsHandler,
    ExecutedNotebookHandler,
    OpenNotebookHandler,
    PipelinesHandler,
    RunHandler,
    RunsHandler,
)
from mlops_lab.server.serving_handlers import (
    DeploymentHandler,
    DeploymentHistoryHandler,
    DeploymentRolloutsHandler,
    DeploymentsHandler,
    DeploymentSplitHandler,
    ModelPredictHandler,
    RolloutActionHandler,
    RolloutHandler,
)
from mlops_lab.server.streams_handlers import FeaturePushHandler
from mlops_lab.serving.quick import QuickPredictors

__all__ = ["API_PREFIX", "ROUTES", "setup_handlers"]

API_PREFIX = "/mlops-lab/api"

# Paths relative to API_PREFIX, as written in openapi.yaml ({name} is a path segment).
ROUTES: list[tuple[str, type]] = [
    ("/status", StatusHandler),
    ("/openapi.yaml", OpenAPIHandler),
    ("/project", ProjectHandler),
    ("/project/validate", ProjectValidateHandler),
    ("/lifecycle", LifecycleHandler),
    ("/pipelines", PipelinesHandler),
    ("/runs", RunsHandler),
    ("/runs/compare", CompareRunsHandler),
    ("/runs/{run_id}", RunHandler),
    ("/runs/{run_id}/cancel", CancelRunHandler),
    ("/runs/{run_id}/stages/{stage}/notebook", ExecutedNotebookHandler),
    ("/runs/{run_id}/stages/{stage}/open", OpenNotebookHandler),
    ("/features/streams", FeatureStreamsHandler),
    ("/features/views", FeatureViewsHandler),
    ("/features/views/{name}", FeatureViewHandler),
    ("/features/views/{name}/diff", FeatureViewDiffHandler),
    ("/features/views/{name}/consistency", FeatureConsistencyHandler),
    ("/features/views/{name}/push", FeaturePushHandler),
    ("/features/{name}/push", FeaturePushHandler),
    ("/models", ModelsHandler),
    ("/models/{name}", ModelHandler),
    ("/models/{name}/versions/{version}", ModelVersionHandler),
    ("/models/{name}/versions/{version}/example", ModelExampleHandler),
    ("/models/{name}/versions/{version}/bundles", ModelBundlesHandler),
    ("/models/{name}/compare", ModelCompareHandler),
    ("/models/{name}/aliases", ModelAliasesHandler),
    ("/models/{name}/predict", ModelPredictHandler),
    ("/datasets/{name}/versions/{version}", DatasetVersionHandler),
    ("/datasets/{name}/versions/{version}/checks", DatasetChecksHandler),
    ("/evaluations", EvaluationsHandler),
    ("/evaluations/{evaluation_id}", EvaluationHandler),
    ("/comparisons", ComparisonsHandler),
    ("/drift", DriftReportsHandler),
    ("/drift/{report_id}", DriftReportHandler),
    ("/ab-tests", ABTestsHandler),
    ("/ab-tests/{test_id}", ABTestHandler),
    ("/ab-tests/{test_id}/close", ABTestCloseHandler),
    ("/alerts", AlertsHandler),
    ("/alerts/{alert_id}/acknowledge", AlertAcknowledgeHandler),
    ("/alerts/{alert_id}/close", AlertCloseHandler),
    ("/handoffs", HandoffsHandler),
    ("/handoffs/parameters", HandoffParametersHandler),  # before {handoff_id}: matched first
    ("/handoffs/{handoff_id}", HandoffHandler),
    ("/handoffs/{handoff_id}/report", HandoffReportHandler),
    ("/handoffs/{handoff_id}/stage", HandoffStageHandler),
    ("/deployments", DeploymentsHandler),
    ("/deployments/{deployment_id}", DeploymentHandler),
    ("/deployments/{deployment_id}/split", DeploymentSplitHandler),
    ("/deployments/{deployment_id}/history", DeploymentHistoryHandler),
    ("/deployments/{deployment_id}/rollouts", DeploymentRolloutsHandler),
    ("/rollouts/{rollout_id}", RolloutHandler),
    ("/rollouts/{rollout_id}/{action}", RolloutActionHandler),
]

_SEGMENT = re.compile(r"\{\w+\}")


def _pattern(path: str) -> str:
    """``/runs/{run_id}`` -> a tornado pattern with one capture group per segment."""
    return _SEGMENT.sub(r"([^/]+)", path) + "$"


def setup_handlers(server_app: Any) -> None:
    web_app = server_app.web_app
    web_app.settings["mlops_lab_root_dir"] = str(server_app.root_dir)
    # The panel's quick predictions: models stay loaded while this server runs.
    web_app.settings["mlops_lab_quick_predictors"] = QuickPredictors()
    base_url = web_app.settings["base_url"]
    handlers = [
        (url_path_join(base_url, API_PREFIX + _pattern(path)), handler, {"route": path})
        for path, handler in ROUTES
    ]
    web_app.add_handlers(".*$", handlers)
