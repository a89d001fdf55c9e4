"""A model bundle's serving environment: the pinned lock, mlops-lab's serving wheel, the
Dockerfile.

What the server needs is measured, not listed by hand: a fresh Python opens the
bundle the way ``python -m mlops_lab.serving`` does (:func:`serving_imports`,
run as ``python -m mlops_lab.serving.bundle_env FOLDER``) and reports the
third-party packages that the mlops-lab modules it loaded import. Those are
the roots; :func:`pinned_closure` adds what they require (their declared
dependencies, markers evaluated, extras not taken) at the exact versions
installed here. Optional imports of libraries (scikit-learn loads pytest when
it is installed) are left out: nothing requires them.

mlops-lab itself is carried as a wheel built from the installed package
without its JupyterLab frontend (:func:`build_serving_wheel`), versioned
``<version>+serving`` and requiring only the roots, so the lock installs with
plain ``pip install -r requirements.lock`` in a fresh environment.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.metadata as metadata
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

from mlops_lab._version import __version__
from mlops_lab.errors import InvalidInputError

__all__ = [
    "SERVING_VERSION",
    "build_serving_wheel",
    "dockerfile",
    "lock_text",
    "pinned_closure",
    "serving_imports",
    "serving_roots",
]

SERVING_VERSION = f"{__version__}+serving"
# The package's parts a server never reads: the built frontend and the demo's notebooks.
_LEFT_OUT = ("mlops_lab/labextension/", "mlops_lab/demo/notebooks/")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same package gives the same wheel


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def serving_imports(folder: Path) -> list[str]:
    """The third-party top-level modules the mlops-lab modules loaded to serve the bundle
    at ``folder`` import (run in a fresh Python: see the module docstring)."""
    import mlops_lab.serving.__main__
    import mlops_lab.serving.lifecycle  # what the entry point runs: the HTTP server
    from mlops_lab.serving.bundle_load import open_bundle

    assert mlops_lab.serving.__main__ and mlops_lab.serving.lifecycle
    bundle = open_bundle(folder, store_url=None, connect=False)
    # A trusted pickle's class comes from its own library (or from local code: refused).
    names: set[str] = {type(bundle.loaded.model).__module__.split(".")[0]}
    loaded = set(sys.modules)
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        path = getattr(module, "__file__", None)
        if not name.startswith("mlops_lab") or not path or not path.endswith(".py"):
            continue
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    stdlib = set(sys.stdlib_module_names) | {"__main__", "builtins"}
    return sorted(n for n in names if n in loaded and n not in stdlib)


def serving_roots(folder: Path) -> list[str]:
    """The distributions the server needs directly (measured in a fresh Python)."""
    # Run in the bundle's folder: `python -m` puts the working directory on sys.path, and a
    # served bundle has no workspace or project code beside it either.
    done = subprocess.run(
        [sys.executable, "-m", "mlops_lab.serving.bundle_env", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=folder,
    )
    owners = metadata.packages_distributions()
    if done.returncode != 0:
        missing = re.findall(r"ModuleNotFoundError: No module named '([\w.]+)'", done.stderr)
        local = [m.split(".")[0] for m in missing if m.split(".")[0] not in owners]
        if local:
            raise _local_code(local)
        raise InvalidInputError(
            f"The bundle at {folder} does not load in a fresh Python, so it was not packaged: "
            f"{done.stderr.strip()[-2000:]}"
        )
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    unowned = [m for m in modules if m not in owners and m != "mlops_lab"]
    if unowned:
        raise _local_code(unowned)
    roots = {_normal(d) for m in modules for d in owners.get(m, [])}
    roots.discard("mlops-lab")
    return sorted(roots | _extras_with(roots))


def _local_code(modules: list[str]) -> InvalidInputError:
    return InvalidInputError(
        f"The model needs {', '.join(dict.fromkeys(modules))}, which no installed package "
        "provides (local code): a bundle carries no code but mlops-lab's. Make it an "
        "installable package, install it, and package again."
    )


def _extras_with(roots: set[str]) -> set[str]:
    """mlops-lab's extras a root belongs to bring the rest of that extra (redis brings
    hiredis, its fast parser), when installed here."""
    from packaging.requirements import Requirement

    groups: dict[str, set[str]] = {}
    for line in metadata.requires("mlops_lab") or []:
        requirement = Requirement(line)
        match = re.search(r"extra\s*==\s*['\"]([\w-]+)['\"]", str(requirement.marker or ""))
        if match and match.group(1) != "test":
            groups.setdefault(match.group(1), set()).add(_normal(requirement.name))
    added: set[str] = set()
    for members in groups.values():
        if members & roots:
            added |= {m for m in members if _installed(m) is not None}
    return added


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def pinned_closure(roots: Iterable[str]) -> dict[str, str]:
    """``roots`` and everything they require, at the versions installed here."""
    from packaging.requirements import Requirement

    pins: dict[str, str] = {}
    pending = [_normal(r) for r in roots]
    while pending:
        name = pending.pop()
        if name in pins:
            continue
        version = _installed(name)
        if version is None:
            raise InvalidInputError(
                f"The serving environment needs {name}, which is not installed here."
            )
        pins[name] = version
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            pending.append(_normal(requirement.name))
    return dict(sorted(pins.items()))


def lock_text(pins: dict[str, str], *, wheel: str, about: str) -> str:
    """requirements.lock: mlops-lab's serving wheel from ``wheels/``, every other package
    pinned to its exact version."""
    lines = [
        f"# {about}",
        f"# Python {sys.version_info.major}.{sys.version_info.minor}; install with:",
        "#   pip install -r requirements.lock",
        "--find-links wheels",
        f"mlops-lab=={SERVING_VERSION}  # {wheel}",
        *(f"{name}=={version}" for name, version in pins.items()),
    ]
    return "\n".join(lines) + "\n"


def build_serving_wheel(out: Path, requires: Iterable[str]) -> Path:
    """A wheel of the installed mlops-lab package without its frontend, requiring only
    ``requires``; the same package gives the same bytes."""
    package = Path(__file__).resolve().parent.parent
    tag = "py3-none-any"
    dist_info = f"mlops_lab-{SERVING_VERSION}.dist-info"
    files: list[tuple[str, bytes]] = []
    for path in sorted(package.rglob("*")):
        relative = "mlops_lab/" + path.relative_to(package).as_posix()
        if (
            not path.is_file()
            or "__pycache__" in relative
            or path.suffix in (".pyc", ".pyo")
            or relative.startswith(_LEFT_OUT)
        ):
            continue
        files.append((relative, path.read_bytes()))
    meta = [
        "Metadata-Version: 2.1",
        "Name: mlops_lab",
        f"Version: {SERVING_VERSION}",
        "Summary: mlops-lab's model server (a serving build: no JupyterLab frontend)",
        "Requires-Python: >=3.11",
        *(f"Requires-Dist: {name}" for name in sorted(requires)),
    ]
    files.append((f"{dist_info}/METADATA", ("\n".join(meta) + "\n").encode()))
    wheel_file = f"Wheel-Version: 1.0\nGenerator: mlops-lab\nRoot-Is-Purelib: true\nTag: {tag}\n"
    files.append((f"{dist_info}/WHEEL", wheel_file.encode()))
    record = [f"{name},sha256={_b64_digest(data)},{len(data)}" for name, data in files]
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"mlops_lab-{SERVING_VERSION}-{tag}.whl"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    return target


def _b64_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def dockerfile(*, port: int) -> str:
    """An OCI build context's Dockerfile: the lock installed, the bundle copied, served."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (
        f"# mlops-lab model bundle: docker build -t NAME . && docker run -p {port}:{port} NAME\n"
        f"FROM python:{python}-slim\n"
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n"
        "WORKDIR /bundle\n"
        "COPY requirements.lock ./\n"
        "COPY wheels/ ./wheels/\n"
        "RUN pip install --no-cache-dir -r requirements.lock\n"
        "COPY . /bundle\n"
        "RUN useradd --system --no-create-home mlops && chown -R mlops /bundle\n"
        "USER mlops\n"
        f"EXPOSE {port}\n"
        "# The online store: MLOPS_LAB_ONLINE_STORE=redis://host:6379/0 (docker run -e ...)\n"
        'CMD ["python", "-m", "mlops_lab.serving", "/bundle", "--host", "0.0.0.0", '
        f'"--port", "{port}"]\n'
    )


DOCKERIGNORE = "*.tar.gz\n__pycache__/\n*.pyc\n"

if __name__ == "__main__":  # serving_roots runs this in a fresh Python
    print(json.dumps(serving_imports(Path(sys.argv[1]))))
