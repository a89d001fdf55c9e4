"""Which kernel runs a notebook: the one asked for, the notebook's own, or the workspace's.

An explicit kernel (``--kernel``, a stage's ``kernel:``) must be installed:
otherwise the run does not start (:class:`~mlops_lab.errors.KernelNotFoundError`,
listing the installed kernels). Without one, the notebook's
``metadata.kernelspec.name`` is used when that kernel is installed; when the
notebook names none (saved by VS Code, say) or one not installed here (``python``,
a conda environment's name), a Python notebook runs in the workspace's Python
kernel (the kernelspec ``python3``, or the one whose command runs this
interpreter) and the choice says so in :attr:`KernelChoice.note`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_lab.errors import KernelNotFoundError

__all__ = ["KernelChoice", "choose_kernel", "installed_kernels", "notebook_kernel"]

#: The kernelspec jupyter_client installs for the Python it runs in (ipykernel's).
NATIVE_KERNEL = "python3"


@dataclass(frozen=True, kw_only=True)
class KernelChoice:
    name: str  # the kernelspec that runs the notebook
    asked: str | None  # what the notebook (or the caller) asked for
    note: str | None = None  # why it is not the notebook's own kernel, when it is not
    language: str | None = None  # the kernel's language (papermill writes parameters in it)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "asked": self.asked, "note": self.note}


def installed_kernels() -> dict[str, dict[str, Any]]:
    """Installed kernelspecs: name -> {"argv": [...], "language": ...}."""
    from jupyter_client.kernelspec import KernelSpecManager

    found: dict[str, dict[str, Any]] = {}
    for name, spec in KernelSpecManager().get_all_specs().items():
        inner = spec.get("spec") or {}
        found[name] = {"argv": list(inner.get("argv") or []), "language": inner.get("language")}
    return found


def notebook_kernel(document: dict[str, Any]) -> tuple[str | None, str | None]:
    """The notebook's kernelspec name and language (each None when it does not say)."""
    metadata = document.get("metadata") or {}
    spec = metadata.get("kernelspec") or {}
    name = spec.get("name") if isinstance(spec, dict) else None
    language = spec.get("language") if isinstance(spec, dict) else None
    info = metadata.get("language_info") or {}
    if not language and isinstance(info, dict):
        language = info.get("name")
    return (name if isinstance(name, str) and name else None), (
        language.lower() if isinstance(language, str) and language else None
    )


def _runs_this_python(argv: list[str]) -> bool:
    if not argv:
        return False
    program = argv[0]
    if program in ("python", "python3"):  # jupyter_client runs these with sys.executable
        return True
    resolved = shutil.which(program) or program
    try:
        return os.path.samefile(resolved, sys.executable)
    except OSError:
        return False


def _workspace_python(installed: dict[str, dict[str, Any]]) -> str | None:
    if NATIVE_KERNEL in installed:
        return NATIVE_KERNEL
    return next(
        (name for name, spec in sorted(installed.items()) if _runs_this_python(spec["argv"])),
        None,
    )


def choose_kernel(notebook: Path | dict[str, Any], explicit: str | None = None) -> KernelChoice:
    """The kernel that runs ``notebook`` (a path or its parsed JSON).

    Raises :class:`KernelNotFoundError` for an explicit kernel that is not
    installed, and when no installed kernel can stand in for the notebook's.
    """
    installed = installed_kernels()
    if explicit:
        if explicit not in installed:
            raise KernelNotFoundError(
                explicit,
                sorted(installed),
                problem=f"The kernel {explicit!r} is not installed here",
            )
        return KernelChoice(name=explicit, asked=explicit, language=installed[explicit]["language"])
    document = (
        json.loads(notebook.read_text(encoding="utf-8")) if isinstance(notebook, Path) else notebook
    )
    name, language = notebook_kernel(document)
    if name and name in installed:
        return KernelChoice(name=name, asked=name, language=installed[name]["language"])
    fallback = _workspace_python(installed)
    if fallback is None or (language and language != "python"):
        wanted = f"The notebook's kernel {name!r}" if name else "The notebook names no kernel"
        problem = (
            f"{wanted} is not installed here, and it is a {language} notebook: no Python "
            "kernel can stand in"
            if language and language != "python"
            else f"{wanted}{' is not installed here' if name else ''}, and no Python kernel is "
            "installed to stand in"
        )
        raise KernelNotFoundError(name, sorted(installed), problem=problem)
    note = (
        f"the notebook asks for kernel {name!r}, not installed here; ran it with {fallback!r}"
        if name
        else f"the notebook names no kernel (no metadata.kernelspec); ran it with {fallback!r}"
    )
    return KernelChoice(
        name=fallback, asked=name, note=note, language=installed[fallback]["language"]
    )
