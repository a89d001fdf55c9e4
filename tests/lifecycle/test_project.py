"""The project: section: every problem listed with its field; written back with comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_lab.errors import InvalidFieldError, WorkspaceConfigError
from mlops_lab.lifecycle import check_project, read_project, write_project
from mlops_lab.project import GateRule, ProjectError, parse_duration_seconds, parse_project
from mlops_lab.workspace import Workspace, init_workspace

GOOD = {
    "problem": "Who churns",
    "objective": {"metric": "roc_auc", "min": 0.85},
    "guardrails": [{"metric": "recall", "min": 0.7, "slice": "segment"}],
    "serving": {"p99_ms": 20, "error_rate": 0.01, "window": "2m"},
    "drift": {"max_drifted_share": 0.2},
    "owners": {"science": "churn-science"},
}


def test_a_valid_definition_is_normalised() -> None:
    project = parse_project(GOOD)
    assert project.task == "classification"
    assert project.gate == GateRule(min_improvement=0.0)
    assert project.serving is not None and project.serving.window_s == 120
    assert [r.name for r in project.rules] == ["project.objective", "project.guardrails[0]"]
    assert project.to_dict()["serving"] == {"window": "120s", "p99_ms": 20.0, "error_rate": 0.01}
    assert parse_project(project.to_dict()) == project


def test_every_problem_is_listed_with_its_field() -> None:
    bad = {
        "task": "ranking",
        "objective": {"metric": "log_loss"},
        "guardrails": [{"metric": "recall", "min": "high", "slice": "a b"}, "x"],
        "gate": {"min_improvement": 0.01, "non_inferiority": 0.02},
        "serving": {"error_rate": 2, "window": "soon"},
        "drift": {"max_drifted_share": -1},
        "owners": ["team"],
        "deadline": "tomorrow",
    }
    with pytest.raises(ProjectError) as raised:
        parse_project(bad)
    assert raised.value.problems == [
        "project: unknown key(s) deadline (known: problem, task, entity, label, objective, "
        "guardrails, gate, serving, drift, owners)",
        "project.problem: is required",
        "project.task: must be one of classification, regression, got 'ranking'",
        "project.objective: needs a bound: max: VALUE",  # a loss: lower is better
        "project.guardrails[0].min: must be a number, got 'high'",
        "project.guardrails[0].slice: 'a b' is not a name (letters, digits, _ . -)",
        "project.guardrails[1]: must be a mapping, got str",
        "project.gate: state one rule: min_improvement or non_inferiority",
        "project.serving.error_rate: must be between 0 and 1, got 2",
        "project.serving.window: 'soon' is not a duration such as 60s, 500ms, 5m or 1h",
        "project.drift.max_drifted_share: must be between 0 and 1, got -1",
        "project.owners: must be a mapping of role: team, got list",
    ]
    assert check_project(bad)["valid"] is False


def test_the_gate_rules() -> None:
    improve = GateRule(min_improvement=0.0)
    assert not improve.passes(0.0, 0.0)  # identical: no better
    assert improve.passes(0.01, 0.0) and not improve.passes(0.01, -0.001)
    margin = GateRule(min_improvement=None, non_inferiority=0.01)
    assert margin.passes(0.0, 0.0) and margin.passes(-0.005, -0.009)
    assert not margin.passes(-0.005, -0.02)
    assert parse_duration_seconds("500ms") == 0.5 and parse_duration_seconds(90) == 90


def test_an_invalid_section_fails_opening_the_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceConfigError, match=r"project\.objective: needs a bound"):
        init_workspace(tmp_path, project="project:\n  problem: x\n  objective: {metric: auc}\n")
    with pytest.raises(WorkspaceConfigError, match=r"project\.objective: needs a bound"):
        Workspace(tmp_path).config  # noqa: B018


def test_writing_keeps_the_files_comments_and_refuses_an_invalid_one(tmp_path: Path) -> None:
    init_workspace(
        tmp_path,
        project=(
            "project:\n"
            "  problem: Who churns   # ask sales\n"
            "  objective: {metric: roc_auc, min: 0.8}  # agreed in March\n"
            "  guardrails:\n"
            "    - {metric: recall, min: 0.7, slice: segment}   # every segment\n"
            "  owners: {science: a}\n"
        ),
    )
    config = tmp_path / "mlops_lab.yaml"
    edited = {**GOOD, "objective": {"metric": "roc_auc", "min": 0.9}}
    edited.pop("owners")
    saved = write_project(tmp_path, edited)
    text = config.read_text()
    assert "problem: Who churns   # ask sales" in text
    assert "objective: {metric: roc_auc, min: 0.9}  # agreed in March" in text
    assert "# every segment" in text and "owners" not in text
    assert "# Settings shared by every notebook" in text  # outside the section too
    assert saved["objective"] == {"metric": "roc_auc", "min": 0.9}
    assert read_project(Workspace(tmp_path))["serving"]["p99_ms"] == 20
    with pytest.raises(InvalidFieldError, match=r"project\.problem: is required"):
        write_project(tmp_path, {"objective": {"metric": "roc_auc", "min": 0.5}})
    assert config.read_text() == text
