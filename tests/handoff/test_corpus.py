"""The handoff on the corpus of stranger-written notebooks (tests/handoff/corpus.py)."""

from __future__ import annotations

import pytest

from mlops_lab import Workspace
from mlops_lab.handoff import check_notebook
from tests.handoff.corpus import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_notebook_gets_its_finding(workspace: Workspace, case: Case) -> None:
    case.build(workspace.root / "strangers" / f"{case.name}.ipynb")
    handoff = check_notebook(
        workspace,
        f"strangers/{case.name}.ipynb",
        repeat=case.repeat,
        write_pipeline=False,
        **case.options,
    )
    findings = handoff["findings"]
    for expected in case.expected:
        matching = [
            f
            for f in findings
            if f["check"] == expected.check
            and f["status"] == expected.status
            and (expected.cell is None or f["cell"] == expected.cell)
            and all(word in f["message"] for word in expected.says)
            and not any(word in f["message"] for word in expected.not_says)
        ]
        assert matching, (
            expected,
            [(f["check"], f["status"], f["cell"], f["message"]) for f in findings],
        )
    # "Not valid Python" is never said of a magic (only of code that is not).
    if not any("not valid Python" in word for e in case.expected for word in e.says):
        assert not any("not valid Python" in f["message"] for f in findings)


def test_the_corpus_covers_every_case_of_the_issue() -> None:
    names = {c.name for c in CASES}
    assert {
        "no_parameters_cell",
        "none_default",
        "python_kernelspec",
        "no_kernelspec",
        "sys_exit",
        "magic_failure",
        "old_error_banner",
        "unseeded_random",
        "isfile_read",
        "url_read",
        "missing_imports",
        "saved_interrupt",
    } <= names
