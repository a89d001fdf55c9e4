from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from mlops_lab import Workspace
from mlops_lab.cli import cli
from tests.cli_runner import ALL_COMMANDS, run_cli


def test_init_then_status_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_cli("init", str(tmp_path / "ws"), "--name", "demo")
    assert code == 0
    assert "Created workspace 'demo'" in out
    monkeypatch.chdir(tmp_path / "ws")
    code, out, _ = run_cli("status", "--json")
    assert code == 0
    status = json.loads(out)
    assert status["workspace"]["name"] == "demo"
    assert status["counts"] == {
        "datasets": 0,
        "feature_views": 0,
        "models": 0,
        "evaluations": 0,
        "runs": 0,
        "artifacts": 0,
    }
    assert status["catalog"]["schema_version"] >= 1


def test_init_again_says_so_and_keeps_the_workspace(tmp_path: Path) -> None:
    run_cli("init", str(tmp_path))
    code, out, _ = run_cli("init", str(tmp_path), "--json")
    assert code == 0
    assert json.loads(out)["created"] is False


def test_status_text_shows_counts_and_sizes(in_workspace: Workspace) -> None:
    in_workspace.artifacts.put_bytes(b"x" * 2048)
    code, out, _ = run_cli("status")
    assert code == 0
    assert "Artifacts      1 (2.0 KiB)" in out
    assert f"schema v{in_workspace.catalog.supported_version}" in out


@pytest.mark.parametrize("args", [("status",), ("artifacts", "list")])
def test_outside_a_workspace_the_error_is_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(*args)
    assert code == 1
    assert "No mlops-lab workspace found" in err
    assert "mlops-lab init" in err
    code, out, _ = run_cli(*args, "--json")
    assert code == 1
    assert json.loads(out)["error"]["type"] == "WorkspaceNotFoundError"


def test_workspace_option_points_anywhere(workspace: Workspace, tmp_path: Path) -> None:
    code, out, _ = run_cli("--workspace", str(workspace.root), "status", "--json")
    assert code == 0
    assert json.loads(out)["workspace"]["path"] == str(workspace.root)


def test_artifacts_put_show_get_list(in_workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello artifacts")
    code, out, _ = run_cli("artifacts", "put", str(source))
    assert code == 0
    digest = out.strip()
    code, out, _ = run_cli("artifacts", "show", digest, "--json")
    assert json.loads(out)["media_type"] == "text/plain"
    target = tmp_path / "copy.txt"
    assert run_cli("artifacts", "get", digest, "-o", str(target))[0] == 0
    assert target.read_text() == "hello artifacts"
    code, out, _ = run_cli("artifacts", "list", "--json")
    assert [a["hash"] for a in json.loads(out)] == [digest]
    assert digest in run_cli("artifacts", "list")[1]


def test_artifacts_verify_reports_corruption(in_workspace: Workspace) -> None:
    good = in_workspace.artifacts.put_bytes(b"good")
    bad = in_workspace.artifacts.put_bytes(b"bad")
    blob = in_workspace.state_dir / "artifacts" / bad.hash[:2] / bad.hash
    blob.write_bytes(b"bad!")
    code, out, _ = run_cli("artifacts", "verify", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["checked"] == 2
    assert list(report["problems"]) == [bad.hash]
    assert run_cli("artifacts", "verify", good.hash)[0] == 0


@pytest.mark.parametrize("digest", ["../../etc/passwd", "nothex"])
def test_artifacts_show_rejects_malformed_ids(in_workspace: Workspace, digest: str) -> None:
    code, _, err = run_cli("artifacts", "show", digest)
    assert code == 1
    assert "Invalid artifact id" in err


def test_artifacts_get_unknown_is_not_found(in_workspace: Workspace) -> None:
    code, _, err = run_cli("artifacts", "get", "0" * 64)
    assert code == 1
    assert "No artifact" in err


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "mlops-lab")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    code, out, _ = run_cli(*path, "--help")
    assert code == 0
    assert "Usage: " in out
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help and len(command.help.strip()) > 10


def test_read_commands_all_take_json() -> None:
    read_commands = [
        ("status",),
        ("init",),
        ("artifacts", "list"),
        ("artifacts", "show"),
        ("artifacts", "verify"),
        ("artifacts", "put"),
        ("run",),
        ("ci",),
        ("ct",),
        ("runs", "list"),
        ("runs", "show"),
        ("pipelines", "list"),
    ]
    for path in read_commands:
        assert "--json" in run_cli(*path, "--help")[1], path


def test_run_prints_where_to_look_and_exits_1_on_failure(in_workspace: Workspace) -> None:
    from tests.notebooks import two_stage_workspace, write_notebook

    ws = two_stage_workspace(in_workspace)
    write_notebook(ws.root / "total.ipynb", "factor = 2.0", "raise KeyError('amount')")
    code, out, err = run_cli("run", "demo", "-p", "n=2")
    assert code == 1
    assert "total: failed" in err  # live progress on stderr
    # The report itself on stdout (survives a redirect), the cell counted from 1.
    assert "KeyError in cell 2" in out
    run_id = json.loads(run_cli("runs", "list", "--json")[1])["runs"][0]["id"]
    assert f"mlops-lab runs notebook {run_id} total" in out
    code, out, _ = run_cli("runs", "show", run_id, "--json")
    shown = json.loads(out)
    assert shown["status"] == "failed" and shown["parameters"] == {"n": 2}
    assert [s["status"] for s in shown["stages"]] == ["succeeded", "failed"]
    target = ws.root / "failed.ipynb"
    assert run_cli("runs", "notebook", run_id, "total", "-o", str(target))[0] == 0
    assert "KeyError" in target.read_text()
    code, out, _ = run_cli("pipelines", "list", "--json")
    assert [s["name"] for s in json.loads(out)["pipelines"][0]["stages"]] == ["make", "total"]


def test_run_json_and_ci_nothing_to_do(in_workspace: Workspace) -> None:
    from tests.notebooks import two_stage_workspace

    two_stage_workspace(in_workspace)
    code, out, _ = run_cli("run", "--json")
    assert code == 0 and json.loads(out)["status"] == "succeeded"
    code, out, _ = run_cli("ci", "--json")
    assert code == 0
    assert json.loads(out)["run"] is None
    code, out, _ = run_cli("ct")
    assert code == 0 and "Nothing to run for demo: no new input data" in out


def test_run_refuses_bad_overrides_without_recording(in_workspace: Workspace) -> None:
    from tests.notebooks import two_stage_workspace

    two_stage_workspace(in_workspace)
    code, _, err = run_cli("run", "-p", "n=lots")
    assert code == 1 and "parameter 'n' expects int" in err
    code, _, err = run_cli("run", "-p", "oops")
    assert code == 1 and "must look like name=value" in err
    assert json.loads(run_cli("runs", "list", "--json")[1])["total"] == 0
