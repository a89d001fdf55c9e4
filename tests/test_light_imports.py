"""The package imports its public names on first use: a stage kernel's observer stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import mlops_lab
import mlops_lab.pipelines
from tests.paths import REPO

HEAVY = ("pandas", "duckdb", "pyarrow", "sklearn", "plotly", "numpy", "scipy", "papermill")
ROOT = REPO


def _in_a_fresh_python(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_observer_imports_none_of_the_heavy_libraries() -> None:
    loaded = _in_a_fresh_python(
        "import json, sys\n"
        "import mlops_lab.pipelines.observe\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))"
    )
    assert loaded == []


def test_importing_the_package_imports_nothing_of_it_yet() -> None:
    loaded = _in_a_fresh_python(
        "import json, sys\nimport mlops_lab, mlops_lab.pipelines\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('mlops_lab.'))))"
    )
    assert loaded == ["mlops_lab._lazy", "mlops_lab.pipelines"]


def test_every_public_name_imports_in_a_fresh_python() -> None:
    for package in ("mlops_lab", "mlops_lab.pipelines"):
        names = _in_a_fresh_python(
            "import importlib, json\n"
            f"package = importlib.import_module({package!r})\n"
            "names = list(package.__all__)\n"
            "for name in names:\n"
            f"    exec(f'from {package} import {{name}}')\n"
            "    assert getattr(package, name) is not None, name\n"
            "print(json.dumps(names))"
        )
        assert isinstance(names, list) and names


def test_every_public_name_is_the_object_its_module_defines() -> None:
    import importlib

    for package in (mlops_lab, mlops_lab.pipelines):
        assert sorted(package.__all__) == sorted(package._LAZY)
        for name in package.__all__:
            home = importlib.import_module(package._LAZY[name])
            assert getattr(package, name) is getattr(home, name), name
            assert name in dir(package)
