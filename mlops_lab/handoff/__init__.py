"""The scientist-to-engineer handoff: checks that turn a notebook into a pipeline stage."""

from mlops_lab.handoff.contract import check_notebook
from mlops_lab.handoff.findings import CHECKS, Finding
from mlops_lab.handoff.store import get_handoff, handoff_report, list_handoffs

__all__ = ["CHECKS", "Finding", "check_notebook", "get_handoff", "handoff_report", "list_handoffs"]
