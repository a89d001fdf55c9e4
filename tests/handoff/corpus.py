"""A corpus of notebooks as strangers write them, each with the finding a handoff must give.

Every case of issue #13 is one :class:`Case`: the notebook (built here with
nbformat, with saved outputs where the case needs them), and the finding
expected from ``check_notebook``: its check, status, cell (counted from 1, as
JupyterLab does) and words of its message. ``tests/handoff/test_corpus.py``
checks them all; the reproduction and determinism cases run two clean runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

PYTHON3 = {"name": "python3", "display_name": "Python 3", "language": "python"}


@dataclass(frozen=True, kw_only=True)
class Expected:
    check: str
    status: str
    cell: int | None = None  # None: any (or none)
    says: tuple[str, ...] = ()  # words the message contains
    not_says: tuple[str, ...] = ()  # words it must not contain


@dataclass(frozen=True, kw_only=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    expected: tuple[Expected, ...]
    repeat: int = 1  # clean runs: 2 for the determinism check
    options: dict[str, Any] = field(default_factory=dict)


def _code(
    source: str,
    *,
    count: int | None = None,
    outputs: list[Any] | None = None,
    tags: tuple[str, ...] = (),
) -> Any:
    cell = new_code_cell(source, execution_count=count, outputs=outputs or [])
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _stdout(text: str) -> Any:
    return new_output("stream", name="stdout", text=text)


def _write(
    path: Path,
    cells: list[Any],
    *,
    kernelspec: dict[str, str] | None = PYTHON3,
    language_version: str | None = None,
) -> Path:
    notebook = new_notebook(cells=cells)
    if kernelspec is not None:
        notebook.metadata["kernelspec"] = kernelspec
    if language_version is not None:
        notebook.metadata["language_info"] = {"name": "python", "version": language_version}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def no_parameters_cell(path: Path) -> Path:
    return _write(path, [_code("n = 3"), _code("print(n * 2)")])


def none_default(path: Path) -> Path:
    return _write(path, [_code("x = None", tags=("parameters",)), _code("print(x)")])


def python_kernelspec(path: Path) -> Path:
    spec = {"name": "python", "display_name": "Python", "language": "python"}
    return _write(path, [_code("print(1 + 1)")], kernelspec=spec)


def no_kernelspec(path: Path) -> Path:  # as VS Code saves a new notebook
    return _write(path, [_code("print(1 + 1)")], kernelspec=None)


def sys_exit(path: Path) -> Path:
    return _write(
        path,
        [_code("import sys"), _code("sys.exit(0)"), _code("print('never printed')")],
    )


def magic_failure(path: Path) -> Path:  # a line magic's UsageError has no error output
    return _write(path, [_code("x = 1"), _code("%notamagic"), _code("print(x)")])


def old_error_banner(path: Path) -> Path:
    """Saved from an earlier failed papermill run: its banner sits above the cells."""
    banner = new_markdown_cell(
        '<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; '
        'font-size:2em;">An Exception was encountered at '
        '<a href="#papermill-error-cell">In [2]</a>.</span>'
    )
    banner.metadata["tags"] = ["papermill-error-cell-tag"]
    return _write(path, [banner, _code("x = 1"), _code("print(x)"), _code("1 / 0")])


def unseeded_random(path: Path) -> Path:
    """A 'model score' from unseeded randomness, saved with the score of the scientist's run."""
    return _write(
        path,
        [
            _code("import numpy as np", count=1),
            _code(
                "scores = np.random.rand(200)\nprint(f'accuracy {scores.mean():.4f}')",
                count=2,
                outputs=[_stdout("accuracy 0.4871\n")],
            ),
        ],
    )


def isfile_read(path: Path) -> Path:  # papermill's own read_check notebook does this
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "check.txt").write_text("exists")
    return _write(
        path,
        [
            _code("import os"),
            _code("if not os.path.isfile('check.txt'):\n    raise RuntimeError('no check.txt')"),
        ],
    )


def url_read(path: Path) -> Path:
    # Defined, not called: the source says it reads the network; tests have no network.
    return _write(
        path,
        [
            _code("import pandas as pd"),
            _code("def fetch():\n    return pd.read_csv('http://bit.ly/example-data')"),
        ],
    )


def missing_imports(path: Path) -> Path:
    return _write(
        path,
        [_code("import numpy\nimport mlops_lab_no_such_module"), _code("import also_not_here")],
    )


def saved_interrupt(path: Path) -> Path:
    interrupted = new_output(
        "error", ename="KeyboardInterrupt", evalue="", traceback=["KeyboardInterrupt: "]
    )
    return _write(
        path,
        [
            _code("import time", count=1),
            _code("time.sleep(0.01)", count=2, outputs=[interrupted]),
            _code("print('done')"),
        ],
    )


def old_python(path: Path) -> Path:
    return _write(
        path,
        [_code("print('hello')", count=1, outputs=[_stdout("hello\n")])],
        language_version="3.7.3",
    )


def bare_assert(path: Path) -> Path:  # an exception without a message
    return _write(path, [_code("x = 1"), _code("assert x == 2")])


def broken_parameters(path: Path) -> Path:  # as papermill's complex_parameters notebook
    return _write(path, [_code("a: float = 2.25\n= 2", tags=("parameters",)), _code("print(a)")])


def bash_cell(path: Path) -> Path:
    return _write(path, [_code("%%bash\necho hello"), _code("x = 1")])


CASES = (
    Case(
        name="no_parameters_cell",
        build=no_parameters_cell,
        expected=(
            Expected(check="parameters", status="warn", says=("parameters",)),
            Expected(check="clean_run", status="pass"),
        ),
    ),
    Case(
        name="none_default",
        build=none_default,
        expected=(Expected(check="parameters", status="pass", cell=1, says=("x",)),),
    ),
    Case(
        name="python_kernelspec",
        build=python_kernelspec,
        expected=(
            Expected(check="environment", status="warn", says=("'python'", "python3")),
            Expected(check="clean_run", status="pass"),
        ),
    ),
    Case(
        name="no_kernelspec",
        build=no_kernelspec,
        expected=(
            Expected(check="environment", status="warn", says=("python3",)),
            Expected(check="clean_run", status="pass"),
        ),
    ),
    Case(
        name="sys_exit",
        build=sys_exit,
        expected=(Expected(check="clean_run", status="fail", cell=2, says=("3",)),),
    ),
    Case(
        name="magic_failure",
        build=magic_failure,
        expected=(Expected(check="clean_run", status="fail", cell=2, says=("UsageError",)),),
    ),
    Case(
        name="old_error_banner",
        build=old_error_banner,
        expected=(Expected(check="clean_run", status="fail", cell=4, says=("ZeroDivisionError",)),),
    ),
    Case(
        name="unseeded_random",
        build=unseeded_random,
        repeat=2,
        expected=(
            Expected(check="reproduction", status="fail", says=("2",)),
            Expected(check="determinism", status="fail", cell=2, says=("randomness",)),
        ),
    ),
    Case(
        name="isfile_read",
        build=isfile_read,
        expected=(Expected(check="paths", status="warn", says=("check.txt",)),),
    ),
    Case(
        name="url_read",
        build=url_read,
        expected=(Expected(check="paths", status="warn", cell=2, says=("network", "bit.ly")),),
    ),
    Case(
        name="missing_imports",
        build=missing_imports,
        expected=(
            Expected(
                check="environment",
                status="fail",
                says=("mlops_lab_no_such_module", "also_not_here"),
            ),
            Expected(check="clean_run", status="fail", says=("Not run",)),
        ),
    ),
    Case(
        name="saved_interrupt",
        build=saved_interrupt,
        expected=(
            Expected(check="execution_order", status="warn", cell=2, says=("KeyboardInterrupt",)),
        ),
    ),
    Case(
        name="old_python",
        build=old_python,
        expected=(Expected(check="environment", status="warn", says=("3.7",)),),
    ),
    Case(
        name="bare_assert",
        build=bare_assert,
        expected=(
            Expected(
                check="clean_run",
                status="fail",
                cell=2,
                says=("cell 2: AssertionError: raised without a message",),
                not_says=("Exception encountered", "----"),
            ),
        ),
    ),
    Case(
        name="broken_parameters",
        build=broken_parameters,
        expected=(
            Expected(check="parameters", status="fail", cell=1, says=("not valid Python",)),
            Expected(check="clean_run", status="fail", says=("parameters cell first",)),
        ),
    ),
    Case(
        name="bash_cell",
        build=bash_cell,
        expected=(Expected(check="clean_run", status="pass"),),
    ),
)
