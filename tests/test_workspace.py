from __future__ import annotations

from pathlib import Path

import pytest

from mlops_lab import find_workspace, init_workspace, open_workspace
from mlops_lab.errors import WorkspaceConfigError, WorkspaceNotFoundError
from mlops_lab.workspace import ENV_HOME


def test_init_creates_config_state_and_catalog(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "proj")
    assert (tmp_path / "proj" / "mlops_lab.yaml").is_file()
    assert (tmp_path / "proj" / ".mlops_lab" / "catalog.duckdb").is_file()
    assert (tmp_path / "proj" / ".mlops_lab" / ".gitignore").read_text().strip().endswith("*")
    assert ws.name == "proj"
    assert ws.config.version == 1
    assert ws.catalog.schema_version() == ws.catalog.supported_version


def test_init_twice_keeps_existing_config(tmp_path: Path) -> None:
    init_workspace(tmp_path, name="first")
    config = tmp_path / "mlops_lab.yaml"
    config.write_text(config.read_text() + "# my own note\n")
    ws = init_workspace(tmp_path, name="second")
    assert ws.name == "first"
    assert "# my own note" in config.read_text()


def test_name_with_yaml_special_characters_round_trips(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path, name='churn: "v2" # test')
    assert open_workspace(tmp_path).name == 'churn: "v2" # test'
    assert ws.name == 'churn: "v2" # test'


def test_found_by_walking_up_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_workspace(tmp_path)
    deep = tmp_path / "notebooks" / "exploration"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_workspace() == tmp_path.resolve()
    assert open_workspace().root == tmp_path.resolve()


def test_mlops_lab_home_wins_over_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    other = tmp_path / "other"
    init_workspace(home)
    init_workspace(other)
    monkeypatch.chdir(other)
    monkeypatch.setenv(ENV_HOME, str(home))
    assert find_workspace() == home.resolve()


def test_mlops_lab_home_without_config_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_HOME, str(tmp_path))
    with pytest.raises(WorkspaceNotFoundError, match="MLOPS_LAB_HOME points at") as info:
        find_workspace()
    assert info.value.http_status == 404


def test_outside_a_workspace_the_error_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFoundError) as info:
        open_workspace(tmp_path)
    assert "mlops-lab init" in str(info.value)
    assert str(tmp_path) in str(info.value)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "mlops_lab.yaml").write_text("version: 1\nname: x\nsettings: [unclosed\n")
    with pytest.raises(WorkspaceConfigError, match=r"malformed YAML at line \d+"):
        open_workspace(tmp_path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a\n- b\n", "expected a mapping"),
        ("version: 99\n", "newer than this mlops-lab"),
        ("version: one\n", "'version' must be an integer"),
        ("settings: 3\n", "'settings' must be a mapping"),
        ("name: ''\n", "'name' must be a non-empty string"),
    ],
)
def test_invalid_config_is_refused_and_left_as_is(tmp_path: Path, text: str, problem: str) -> None:
    config = tmp_path / "mlops_lab.yaml"
    config.write_text(text)
    with pytest.raises(WorkspaceConfigError, match=problem) as info:
        open_workspace(tmp_path)
    assert info.value.http_status == 422
    assert config.read_text() == text


def test_duplicate_keys_are_refused_with_their_line(tmp_path: Path) -> None:
    (tmp_path / "mlops_lab.yaml").write_text("version: 1\nname: a\nsettings: {}\nname: b\n")
    with pytest.raises(WorkspaceConfigError, match=r"line 4.*duplicate key 'name'"):
        open_workspace(tmp_path)
