"""The evaluation store: metrics per model version x dataset version, comparisons with a
gate, drift reports with alerts, and A/B tests."""

from mlops_lab.evaluation.actions import acknowledge_alert, close_ab_test, close_alert, get_alert
from mlops_lab.evaluation.drift import ColumnRule
from mlops_lab.evaluation.monitoring import ab_test, check_drift
from mlops_lab.evaluation.report import DriftReport
from mlops_lab.evaluation.store import (
    Evaluation,
    get_drift_report,
    get_evaluation,
    list_ab_tests,
    list_alerts,
    list_comparisons,
    list_drift_reports,
    list_evaluations,
)
from mlops_lab.evaluation.tracking import compare, evaluate

__all__ = [
    "ColumnRule",
    "DriftReport",
    "Evaluation",
    "ab_test",
    "acknowledge_alert",
    "check_drift",
    "close_ab_test",
    "close_alert",
    "compare",
    "evaluate",
    "get_alert",
    "get_drift_report",
    "get_evaluation",
    "list_ab_tests",
    "list_alerts",
    "list_comparisons",
    "list_drift_reports",
    "list_evaluations",
]
