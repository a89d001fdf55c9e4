"""The Python environment a run used: interpreter and the versions of imported packages."""

from __future__ import annotations

import platform
import sys
from functools import lru_cache
from importlib import metadata
from typing import Any

__all__ = ["ENV_CAPTURE", "capture_environment", "package_versions"]

ENV_CAPTURE = "MLOPS_LAB_CAPTURE_ENV"  # set: a stage records its environment (handoff checks)


@lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def package_versions(modules: set[str]) -> dict[str, str]:
    """``{distribution: version}`` for the top-level modules given (stdlib ones are skipped)."""
    found: dict[str, str] = {}
    by_module = _distributions()
    for module in sorted(modules):
        for dist in by_module.get(module, []):
            try:
                found[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
    return found


def capture_environment(extra_modules: set[str] | None = None) -> dict[str, Any]:
    """This process: Python version and the versions of every imported distribution."""
    imported = {name.split(".")[0] for name in list(sys.modules)} | (extra_modules or set())
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": package_versions(imported),
    }
