"""Under ``--json`` every command's error is one JSON object, whatever the command."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mlops_lab.cli import cli
from tests.cli_runner import LEAF_COMMANDS, command_at


def _arguments(command: click.Command, *, required: bool = False) -> list[click.Argument]:
    return [
        p for p in command.params if isinstance(p, click.Argument) and (p.required or not required)
    ]


COMMANDS = LEAF_COMMANDS


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # nothing a command might create lands elsewhere
    monkeypatch.delenv("MLOPS_LAB_HOME", raising=False)
    (tmp_path / "blocker").write_text("a file where a folder, a name or a number is expected\n")
    return tmp_path


def _json_error(args: list[str]) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code != 0, result.output
    body = json.loads(result.stdout)  # exactly one JSON document, nothing else
    assert set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict)
    assert error["message"] and error["type"] and isinstance(error["status"], int)
    return result.exit_code, error


def test_every_command_is_covered() -> None:
    assert len(COMMANDS) >= 30 and ("monitor",) in COMMANDS and ("serve",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_an_error_under_json_is_one_json_object(path: tuple[str, ...], scratch: Path) -> None:
    # No workspace there; every argument a file (where a folder, a name or a number goes).
    blocker = str(scratch / "blocker")
    values = [blocker for _ in _arguments(command_at(path))]
    code, _ = _json_error(["-w", str(scratch / "missing"), *path, *values, "--json"])
    assert code in (1, 2)


@pytest.mark.parametrize(
    "path", [p for p in COMMANDS if _arguments(command_at(p), required=True)], ids=" ".join
)
def test_a_missing_argument_under_json_is_one_json_object(
    path: tuple[str, ...], scratch: Path
) -> None:
    code, error = _json_error([*path, "--json"])
    assert code == 2 and error["type"] == "MissingParameter"
    assert "Missing argument" in str(error["message"])


def test_an_unknown_option_under_json_is_one_json_object(scratch: Path) -> None:
    code, error = _json_error(["models", "show", "churn", "--bogus", "--json"])
    assert code == 2 and error["type"] == "NoSuchOption" and "--bogus" in str(error["message"])
    code, error = _json_error(["serve", "churn@prod", "--json", "--port", "many"])
    assert code == 2 and error["type"] == "BadParameter" and "many" in str(error["message"])


def test_monitor_json_keeps_its_spelling_and_its_errors_are_json(scratch: Path) -> None:
    code, error = _json_error(["-w", str(scratch / "missing"), "monitor", "churn@prod", "--json"])
    assert code == 1 and error["type"] == "WorkspaceNotFoundError" and error["status"] == 404


def test_without_json_errors_stay_text(scratch: Path) -> None:
    result = CliRunner().invoke(cli, ["-w", str(scratch / "missing"), "monitor", "churn@prod"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: No mlops-lab workspace found")
    result = CliRunner().invoke(cli, ["models", "show"])
    assert result.exit_code == 2 and "Missing argument 'NAME" in result.stderr
