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
        workspace = await self.call(self.workspace)
        limit, offset = page(self, default_limit=100)
        evaluations, total = await self.call(
            list_evaluations, workspace, model=query_text(self, "model"),
            limit=limit, offset=offset,
        )  # fmt: skip
        self.write_json({"evaluations": evaluations, "total": total, "limit": limit,
                         "offset": offset})  # fmt: skip


class EvaluationHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, evaluation_id: str) -> None:
        workspace = await self.call(self.workspace)
        evaluation = await self.call(get_evaluation, workspace, evaluation_id)
        self.write_json(evaluation.to_dict())


class ComparisonsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        workspace = await self.call(self.workspace)
        found = await self.call(list_comparisons, workspace,
                                model=query_text(self, "model"))  # fmt: skip
        self.write_json({"comparisons": found})


class DriftReportsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        workspace = await self.call(self.workspace)
        limit, offset = page(self, default_limit=20)
        reports, total = await self.call(list_drift_reports, workspace, limit=limit,
                                         offset=offset)  # fmt: skip
        self.write_json({"reports": reports, "total": total, "limit": limit, "offset": offset})


class DriftReportHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, report_id: str) -> None:
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(get_drift_report, workspace, report_id))


class ABTestsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        workspace = await self.call(self.workspace)
        self.write_json({"tests": await self.call(list_ab_tests, workspace)})


class ABTestHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, test_id: str) -> None:
        workspace = await self.call(self.workspace)
        self.write_json(await self.call(get_ab_test, workspace, test_id))


class AlertsHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        status = query_text(self, "status", choices=("open", "closed", "all")) or "open"
        workspace = await self.call(self.workspace)
        alerts = await self.call(list_alerts, workspace,
                                 status=None if status == "all" else status)  # fmt: skip
        self.write_json({"alerts": alerts})
