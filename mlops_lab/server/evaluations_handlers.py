"""REST handlers for the evaluation store: evaluations, comparisons, drift, A/B tests, alerts."""

from __future__ import annotations

import tornado.web

from mlops_lab.evaluation.store import (
    get_ab_test,
    get_drift_report,
    get_evaluation,
    list_ab_tests,
    list_alerts,
    list_comparisons,
    list_drift_reports,
    list_evaluations,
)
from mlops_lab.server.handlers import BaseHandler
from mlops_lab.server.validation import page, query_text

__all__ = [
    "ABTestHandler",
    "ABTestsHandler",
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
        self.write_json({"tests": await self.in_workspace(list_ab_tests)})


class ABTestHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, test_id: str) -> None:
        self.write_json(await self.in_workspace(get_ab_test, test_id))


class AlertsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        status = query_text(self, "status", choices=("open", "closed", "all")) or "open"
        alerts = await self.in_workspace(list_alerts, status=None if status == "all" else status)
        self.write_json({"alerts": alerts})
