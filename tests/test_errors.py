"""Every mlops-lab error lives in mlops_lab/errors.py and is drawn in its docstring's tree."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import mlops_lab
from mlops_lab import errors
from mlops_lab.errors import MlopsLabError

# The one error defined elsewhere, and why: it re-raises, in the parent process, an
# error the `mlops-lab handoff` child reported (under the child's type name and status,
# with one subclass per status made at run time). It is private to that relay: nothing
# raises or catches it by name. errors.py's docstring says so too.
ALLOWED_ELSEWHERE = {"mlops_lab.handoff.contract._RelayedError"}


def _modules() -> list[ModuleType]:
    found = [mlops_lab]
    for info in pkgutil.walk_packages(mlops_lab.__path__, "mlops_lab."):
        if not info.name.endswith("__main__"):  # running it would start the CLI
            found.append(importlib.import_module(info.name))
    return found


def _error_classes() -> dict[str, type[MlopsLabError]]:
    """Every MlopsLabError subclass a module of the package defines or imports, by full name."""
    classes: dict[str, type[MlopsLabError]] = {}
    for module in _modules():
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, MlopsLabError):
                classes[f"{value.__module__}.{value.__qualname__}"] = value
    return classes


def _tree() -> dict[str, tuple[int, int]]:
    """The docstring's tree: name -> (depth, status)."""
    assert errors.__doc__ is not None
    drawn = {}
    for line in errors.__doc__.splitlines():
        match = re.fullmatch(r"\s*([│ ]*)([├└]── )?(\w+Error) \((\d{3})\)", line)
        if match:  # the root has depth 0, its children 1, theirs 2...
            depth = len(match[1]) // 4 + (match[2] is not None)
            drawn[match[3]] = (depth, int(match[4]))
    return drawn


def test_every_error_class_is_defined_in_errors_py() -> None:
    classes = _error_classes()
    assert "mlops_lab.errors.MlopsLabError" in classes and len(classes) > 30
    elsewhere = {name for name in classes if not name.startswith("mlops_lab.errors.")}
    assert elsewhere == ALLOWED_ELSEWHERE


def test_the_docstring_tree_names_every_error_with_its_parent_and_status() -> None:
    defined = {
        cls.__name__: cls
        for name, cls in _error_classes().items()
        if name.startswith("mlops_lab.errors.")
    }
    drawn = _tree()
    assert set(drawn) == set(defined)
    assert set(errors.__all__) == set(defined)
    lines = [line for line in (errors.__doc__ or "").splitlines() if "Error (" in line]
    stack: list[str] = []
    for line in lines:
        name = re.search(r"(\w+Error) \(", line)[1]  # type: ignore[index]
        depth, status = drawn[name]
        del stack[depth:]
        cls = defined[name]
        assert cls.http_status == status, name
        if stack:
            assert cls.__bases__ == (defined[stack[-1]],), name
        stack.append(name)


def test_error_names_are_unique_and_end_in_error() -> None:
    names = [cls.__name__ for cls in _error_classes().values()]
    assert len(names) == len(set(names))
    assert all(name.endswith("Error") for name in names)
