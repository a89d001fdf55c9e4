"""REST handlers for the evaluation store: evaluations, comparisons, drift, A/B tests, alerts."""

from __future__ import annotations

import tornado.web

from mlops_lab.evaluation.actions import acknowledge_alert, close_ab_test, close_alert
from mlops_lab.evaluation.store import (
    ALERT_STATUSES,
    get_ab_test,
    get_drift_report,
    get_evaluation,
    list_ab_tests,
    list_alerts,
    list_comparisons,
    list_drift_reports,
    list_evaluations,
)
from mlops_lab.server.handlers import BaseHandler, user_name
from mlops_lab.server.validation import page, query_text

__all__ = [
    "ABTestCloseHandler",
    "ABTestHandler",
    "ABTestsHandler",
    "AlertAcknowledgeHandler",
    "AlertCloseHandler",
    "AlertsHandler",
    "ComparisonsHandler",
    "DriftReportHandler",
    "DriftReportsHandler",
    "EvaluationHandler",
    "EvaluationsHandler",
]


class EvaluationsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit, offset = page(self, default_limit=100)
        evaluations, total = await self.in_workspace(
            list_evaluations, model=query_text(self, "model"), limit=limit, offset=offset
        )
        self.write_json(
            {"evaluations": evaluations, "total": total, "limit": limit, "offset": offset}
        )


class EvaluationHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, evaluation_id: str) -> None:
        evaluation = await self.in_workspace(get_evaluation, evaluation_id)
        self.write_json(evaluation.to_dict())


class ComparisonsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        found = await self.in_workspace(list_comparisons, model=query_text(self, "model"))
        self.write_json({"comparisons": found})


class DriftReportsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit, offset = page(self, default_limit=20)
        reports, total = await self.in_workspace(list_drift_reports, limit=limit, offset=offset)
        self.write_json({"reports": reports, "total": total, "limit": limit, "offset": offset})


class DriftReportHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, report_id: str) -> None:
        self.write_json(await self.in_workspace(get_drift_report, report_id))


class ABTestsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        status = query_text(self, "status", choices=("active", "closed", "all")) or "all"
        tests = await self.in_workspace(list_ab_tests, status=None if status == "all" else status)
        self.write_json({"tests": tests})


class ABTestHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, test_id: str) -> None:
        self.write_json(await self.in_workspace(get_ab_test, test_id))


class AlertsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        status = query_text(self, "status", choices=ALERT_STATUSES) or "open"
        alerts = await self.in_workspace(list_alerts, status=None if status == "all" else status)
        self.write_json({"alerts": alerts})


class ABTestCloseHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, test_id: str) -> None:
        reason, by = self.body["reason"], user_name(self)
        self.write_json(await self.in_workspace(close_ab_test, test_id, reason=reason, by=by))


class AlertAcknowledgeHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, alert_id: str) -> None:
        reason, by = self.body["reason"], user_name(self)
        self.write_json(await self.in_workspace(acknowledge_alert, alert_id, reason=reason, by=by))


class AlertCloseHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, alert_id: str) -> None:
        reason, by = self.body["reason"], user_name(self)
        self.write_json(await self.in_workspace(close_alert, alert_id, reason=reason, by=by))
