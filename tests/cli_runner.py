"""Run the ``mlops-lab`` command line in-process, and every command it has."""

from __future__ import annotations

import click
from click.testing import CliRunner

from mlops_lab.cli import cli


def run_cli(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``mlops-lab ARGS``; an unexpected exception is raised."""
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def command_at(path: tuple[str, ...]) -> click.Command:
    """The click command of a path such as ``("runs", "list")``."""
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


# Every command path, the group itself first: ``()``, ``("init",)``, ``("runs", "list")``...
ALL_COMMANDS = _commands(cli)

# The commands that run something (groups left out): ``("init",)``, ``("runs", "list")``...
LEAF_COMMANDS = [
    path for path in ALL_COMMANDS if path and not isinstance(command_at(path), click.Group)
]
