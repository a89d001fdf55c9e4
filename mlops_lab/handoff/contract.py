"""``check_notebook``: every handoff check in order, then the contract.

A notebook whose checks have no failure is *ready*: its contract (content
hash, parameters, pinned inputs, outputs, environment, findings, who and
when) is stored with a Markdown report, and, when asked (``write_pipeline``),
its stage is added to (or updated in) ``mlops_lab.yaml``, comments kept.
Warnings are listed but do not block. A later edit of the notebook's code
makes the handoff *stale* until checked again.
"""

from __future__ import annotations

import ast
import getpass
import json
import re
import secrets
from pathlib import Path
from typing import Any

from mlops_lab.datasets import get_dataset_version
from mlops_lab.errors import InvalidInputError, MlopsLabError, NotFoundError
from mlops_lab.handoff import clean_run as dynamic
from mlops_lab.handoff import reproduce
from mlops_lab.handoff.determinism import (
    DEFAULT_REPEAT,
    check_determinism,
    check_repeat,
    clean_runs,
)
from mlops_lab.handoff.findings import CHECKS, Finding
from mlops_lab.handoff.imports import check_imports, kernel_name
from mlops_lab.handoff.kernel import handoff_kernel
from mlops_lab.handoff.observed import with_observed_reads
from mlops_lab.handoff.paths import check_paths
from mlops_lab.handoff.pipeline_file import write_stage
from mlops_lab.handoff.report import render_report
from mlops_lab.handoff.stage_names import check_stage_free, declared_stage_of
from mlops_lab.handoff.static import (
    CellCode,
    check_execution_order,
    check_parameters,
    parse_cells,
)
from mlops_lab.pipelines.notebook import cells_of, read_notebook
from mlops_lab.pipelines.service import notebook_path_problem, notebook_pipeline
from mlops_lab.workspace import Workspace

__all__ = [
    "DEFAULT_PIPELINE",
    "NAME_PATTERN",
    "check_in_subprocess",
    "check_notebook",
    "relative_notebook",
]

DEFAULT_PIPELINE = "handoff"
_ORDER = {check: position for position, check in enumerate(CHECKS)}
#: Pipeline and stage names of a handoff: an ASCII identifier of at most 64 characters.
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def relative_notebook(workspace: Workspace, notebook: str | Path) -> str:
    """``notebook`` as a path relative to the workspace root; outside paths are refused."""
    path = Path(notebook)
    path = (path if path.is_absolute() else workspace.root / path).resolve()
    problem = notebook_path_problem(path, notebook, workspace.root)
    if problem:
        raise InvalidInputError(problem)
    return path.relative_to(workspace.root.resolve()).as_posix()


def _loaded_datasets(cells: list[CellCode]) -> tuple[dict[str, int | None], list[Finding]]:
    """``ctx.load_dataset('name'[, version])`` calls with literal names."""
    found: dict[str, int | None] = {}
    findings = []
    for cell in cells:
        for node in ast.walk(cell.tree) if cell.tree is not None else ():
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("load_dataset", "dataset_version")
                and node.args
            ):
                continue
            name = node.args[0]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                findings.append(
                    Finding(
                        check="inputs",
                        status="warn",
                        cell=cell.index,
                        message=f"Cell {cell.index + 1} loads a dataset whose name "
                        "is computed: it cannot be pinned.",
                    )
                )
                continue
            version = node.args[1] if len(node.args) > 1 else None
            pinned = version.value if isinstance(version, ast.Constant) else None
            found.setdefault(name.value, pinned if isinstance(pinned, int) else None)
    return found, findings


def _check_inputs(
    workspace: Workspace, loaded: dict[str, int | None], declared: dict[str, tuple[str, ...]]
) -> tuple[list[Finding], dict[str, Any]]:
    pinned: dict[str, Any] = {"datasets": {}, "feature_views": {}}
    findings = []
    for name in sorted(set(loaded) | set(declared.get("datasets", ()))):
        try:
            version = get_dataset_version(workspace, name, loaded.get(name))
        except NotFoundError as exc:
            findings.append(Finding(check="inputs", status="fail", message=str(exc)))
            continue
        pinned["datasets"][name] = {"version": version.version, "hash": version.artifact_hash}
    for name in declared.get("feature_views", ()):
        try:
            view = workspace.features.get_feature_view(name)
        except MlopsLabError as exc:
            findings.append(Finding(check="inputs", status="fail", message=str(exc)))
            continue
        pinned["feature_views"][name] = {"version": view.version}
    listed = ", ".join(f"{n}@{v['version']}" for kind in pinned.values() for n, v in kind.items())
    if not findings:
        findings.append(
            Finding(
                check="inputs",
                status="pass",
                message=f"Inputs pinned: {listed or 'none'}.",
                details={"pinned": pinned},
            )
        )
    return findings, pinned


def _imports(cells: list[CellCode]) -> set[str]:
    names: set[str] = set()
    for cell in cells:
        for node in ast.walk(cell.tree) if cell.tree is not None else ():
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names


def _declared_stage(workspace: Workspace, pipeline: str, stage: str) -> dict[str, Any] | None:
    stages = (workspace.config.pipelines.get(pipeline) or {}).get("stages") or []
    return next((s for s in stages if isinstance(s, dict) and s.get("name") == stage), None)


def check_notebook(
    workspace: Workspace,
    notebook: str | Path,
    *,
    pipeline: str | None = None,
    stage: str | None = None,
    timeout: float = 600.0,
    cell_timeout: float | None = None,
    kernel: str | None = None,
    rel_tol: float = 1e-6,
    repeat: int = DEFAULT_REPEAT,
    by: str | None = None,
    write_pipeline: bool = True,
) -> dict[str, Any]:
    """Run every check on ``notebook`` and store the handoff (ready or failing).

    ``timeout``: seconds for the whole clean run (from its first cell's start);
    ``cell_timeout``: seconds any one cell may take. ``kernel``: run the clean
    run in this kernelspec (it must be installed), not the notebook's own.
    ``write_pipeline``: add a ready notebook's stage to ``mlops_lab.yaml`` (the
    answer's ``pipeline_written`` says whether it was). ``repeat``: clean runs in
    fresh kernels (2: the determinism check; 1 skips it).
    """
    relative = relative_notebook(workspace, notebook)
    check_repeat(repeat)
    path = workspace.root / relative
    document = json.loads(path.read_text(encoding="utf-8"))
    chosen, kernel_finding = handoff_kernel(document, kernel)  # a bad --kernel: 4xx at once
    raw_cells = cells_of(path)
    info = read_notebook(path)
    if stage is None:  # already a stage of mlops_lab.yaml: check it as that stage
        declared = declared_stage_of(workspace, relative, pipeline=pipeline)
        if declared is not None:
            pipeline, stage = declared
    pipeline = pipeline or DEFAULT_PIPELINE
    default = re.sub(r"[^A-Za-z0-9_]", "_", path.stem).lstrip("0123456789_")[:64]
    stage = stage or default or "notebook"
    for what, name in (("pipeline", pipeline), ("stage", stage)):
        if not NAME_PATTERN.fullmatch(name):
            shown = name if len(name) <= 60 else name[:57] + "..."
            raise InvalidInputError(
                f"The {what} name {shown!r} must be an identifier (ASCII letters, digits, _; "
                "not starting with a digit) of at most 64 characters."
            )
    check_stage_free(workspace, pipeline, stage, relative)  # never take over another's stage
    existing = _declared_stage(workspace, pipeline, stage)
    declared_in = {k: tuple(v) for k, v in ((existing or {}).get("inputs") or {}).items()}
    declared_out = {k: tuple(v) for k, v in ((existing or {}).get("outputs") or {}).items()}

    cells = parse_cells(raw_cells)
    findings = [check_parameters(info), *check_execution_order(cells)]
    findings += check_paths(cells, path, workspace.root)
    loaded, computed = _loaded_datasets(cells)
    input_findings, pinned = _check_inputs(workspace, loaded, declared_in)
    findings += computed + input_findings
    environment: dict[str, Any] = {}
    run_id = None
    if kernel_finding is not None:
        findings.append(kernel_finding)
    before_run, to_install = check_imports(
        cells,
        notebook=path,
        root=workspace.root,
        document=document,
        kernel=chosen.name if chosen is not None else kernel_name(document),
    )
    findings += before_run
    if chosen is None:
        pass  # no kernel can run it: the finding says so
    elif findings[0].status == "fail":
        findings.append(
            Finding(
                check="clean_run", status="fail", message="Not run: fix the parameters cell first."
            )
        )
    elif to_install:
        findings.append(
            Finding(
                check="clean_run",
                status="fail",
                message=f"Not run: install {', '.join(to_install)} first.",
            )
        )
    else:
        runs = clean_runs(
            workspace,
            notebook_pipeline(workspace, relative),
            repeat=repeat,
            timeout=timeout,
            cell_timeout=cell_timeout,
            kernel=chosen.name,
            kernel_note=chosen.note,
        )
        run, finding = runs[0]
        run_id = run.run_id
        findings.append(finding)
        findings = with_observed_reads(findings, run, raw_cells, notebook=relative)
        if run.outcome.ok:
            findings.append(dynamic.check_outputs(run, declared_out))
            interactive = dynamic.last_interactive_metrics(workspace, relative)
            findings.append(
                reproduce.check_reproduction(raw_cells, run, interactive, rel_tol=rel_tol)
            )
            env_finding, environment = dynamic.check_environment(
                run, interactive[2], _imports(cells)
            )
            findings.append(env_finding)
            findings.append(check_determinism(raw_cells, runs, rel_tol=rel_tol))
            if not any(declared_out.values()):
                declared_out = {k: tuple(v) for k, v in run.produced.items() if v}
    findings.sort(key=lambda f: _ORDER[f.check])  # as reported and shown: in check order
    status = "failing" if any(f.status == "fail" for f in findings) else "ready"
    contract = {
        "notebook": relative,
        "notebook_hash": info.source_hash,
        "pipeline": pipeline,
        "stage": stage,
        "parameters": findings[0].details.get("contract", {}),
        "inputs": pinned,
        "outputs": {k: list(v) for k, v in declared_out.items()},
        "environment": environment,
        "timeout": timeout,
        "cell_timeout": cell_timeout,
        "kernel": kernel,
        "rel_tol": rel_tol,
        "repeat": repeat,
    }
    return _record(
        workspace,
        contract,
        findings,
        status,
        run_id,
        by or getpass.getuser(),
        write_pipeline=write_pipeline,
    )


def check_in_subprocess(
    workspace: Workspace, notebook: str, *, by: str, **options: Any
) -> dict[str, Any]:
    """:func:`check_notebook` in a child process (``mlops-lab handoff --json``).

    The Jupyter server uses this: the clean run's kernel and papermill's event
    loop stay out of the server's process.
    """
    import subprocess
    import sys

    relative = relative_notebook(workspace, notebook)  # bad input is a 4xx before starting anything
    command = [
        sys.executable,
        "-m",
        "mlops_lab",
        "--workspace",
        str(workspace.root),
        "handoff",
        relative,
        "--json",
        "--by",
        by,
    ]
    for name, value in options.items():
        flag = name.replace("_", "-")
        if value is None:
            continue
        if isinstance(value, bool):
            command.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            command += [f"--{flag}", str(value)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=workspace.root,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    try:
        found: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise MlopsLabError(
            f"The handoff check stopped (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-2000:]}"
        ) from None
    if "error" in found and "id" not in found:
        raise _relayed(found["error"])
    return found


class _RelayedError(MlopsLabError):
    """An error the ``mlops-lab handoff`` child reported, with its type, status and message."""

    kind = "MlopsLabError"
    extra: dict[str, Any] | None = None  # the child's other fields (e.g. suggested_stage)

    def to_dict(self) -> dict[str, Any]:
        return {**(self.extra or {}), **super().to_dict(), "type": self.kind}


def _relayed(error: Any) -> MlopsLabError:
    """The child's error as the parent's: a bad name stays a 4xx, not a 500."""
    error = error if isinstance(error, dict) else {}
    status = error.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        status = 500
    relayed = type(f"Relayed{status}Error", (_RelayedError,), {"http_status": status})
    exc: _RelayedError = relayed(str(error.get("message") or "The handoff check failed."))
    exc.kind = str(error.get("type") or "MlopsLabError")
    exc.extra = {k: v for k, v in error.items() if k not in ("type", "status", "message")}
    return exc


def _record(
    workspace: Workspace,
    contract: dict[str, Any],
    findings: list[Finding],
    status: str,
    run_id: str | None,
    by: str,
    *,
    write_pipeline: bool,
) -> dict[str, Any]:
    handoff_id = f"ho{secrets.token_hex(5)}"
    listed = [f.to_dict() for f in findings]
    report = render_report(contract, listed, status=status, by=by, handoff_id=handoff_id)
    digest, size = workspace.artifacts.write_blob([report.encode()])
    written = status == "ready" and write_pipeline
    if written:
        write_stage(workspace, contract)

    def write(con: Any) -> None:
        from mlops_lab.artifacts import register_artifact

        register_artifact(con, digest, size=size, media_type="text/markdown", run_id=run_id)
        con.execute(
            "INSERT INTO handoffs (id, notebook, notebook_hash, pipeline, stage, status, "
            "contract, findings, report_artifact, check_run, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                handoff_id,
                contract["notebook"],
                contract["notebook_hash"],
                contract["pipeline"],
                contract["stage"],
                status,
                json.dumps(contract, default=str),
                json.dumps(listed),
                digest,
                run_id,
                by,
            ],
        )

    workspace.catalog.transaction(write)
    from mlops_lab.handoff.store import get_handoff

    found = get_handoff(workspace, handoff_id)
    found["pipeline_written"] = written
    return found
