"""The ML lifecycle over the stores: the project definition file and (built on it) the
state of each step (define, data, train, deploy/monitor) with the loops that fired.

:mod:`.definition`: read, check and write ``mlops_lab.yaml``'s ``project:`` section.
"""

from __future__ import annotations

from mlops_lab.lifecycle.definition import check_project, read_project, write_project

__all__ = ["check_project", "read_project", "write_project"]
