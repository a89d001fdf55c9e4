"""An interactive notebook's run context, for tests that log outside a pipeline stage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlops_lab
from mlops_lab import run_context


@contextmanager
def interactive(root: Path) -> Iterator[mlops_lab.RunContext]:
    """``mlops_lab.context()`` as a notebook open in ``root`` sees it; restored afterwards.

    The process-wide context is dropped before and after, and the working
    directory is ``root`` meanwhile, like a kernel started beside the notebook.
    """
    cwd = os.getcwd()
    os.chdir(root)
    run_context._reset_for_tests()
    try:
        yield mlops_lab.context()
    finally:
        run_context._reset_for_tests()
        os.chdir(cwd)
