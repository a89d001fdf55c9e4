"""The README documents every CLI command and every REST route."""

from __future__ import annotations

import re

import pytest
import yaml

from mlops_lab.server.routes import API_PREFIX, ROUTES
from tests import paths
from tests.cli_runner import ALL_COMMANDS

SPEC = yaml.safe_load(paths.OPENAPI.read_text())
README = paths.README.read_text()


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]


@pytest.mark.parametrize("path", [p for p in ALL_COMMANDS if p], ids=" ".join)
def test_every_cli_command_is_documented(path: tuple[str, ...]) -> None:
    assert f"`mlops-lab {' '.join(path)}" in README


@pytest.mark.parametrize(
    "operation",
    [
        f"{method.upper()} {API_PREFIX}{path}"
        for path, ops in SPEC["paths"].items()
        for method in ops
    ],
)
def test_every_route_is_documented(operation: str) -> None:
    assert f"`{operation}`" in README


def test_the_spec_and_the_route_table_agree() -> None:
    assert set(SPEC["paths"]) == {path for path, _ in ROUTES}
