"""Errors raised by mlops-lab.

Every error derives from :class:`MlopsLabError`, carries the HTTP status the
REST API answers with, and says what went wrong and what to do next::

    MlopsLabError (500)
    ├── InvalidInputError (400)
    │   ├── InvalidArtifactIdError (400)
    │   ├── PayloadTooLargeError (413)
    │   ├── RequestBodyError (422)
    │   ├── KernelNotFoundError (400)
    │   ├── FeatureTransformError (400)
    │   ├── SignatureMismatchError (400)
    │   ├── UnsafeModelError (400)
    │   ├── MalformedBodyError (400)
    │   └── InvalidFieldError (422)
    ├── NotFoundError (404)
    │   ├── WorkspaceNotFoundError (404)
    │   ├── ArtifactNotFoundError (404)
    │   ├── PipelineNotFoundError (404)
    │   ├── RunNotFoundError (404)
    │   ├── DatasetNotFoundError (404)
    │   ├── FeatureNotFoundError (404)
    │   └── UnknownEntityError (404)
    ├── ConflictError (409)
    │   ├── StageTakenError (409)
    │   └── PortUnavailableError (409)
    ├── WorkspaceConfigError (422)
    ├── PipelineSpecError (422)
    ├── DataCheckError (422)
    ├── CatalogError (500)
    │   ├── NotACatalogError (500)
    │   ├── SchemaVersionError (409)
    │   ├── CatalogBusyError (503)
    │   ├── CatalogDamagedError (500)
    │   ├── CatalogMissingError (409)
    │   ├── ReadOnlyCatalogError (409)
    │   └── DiskFullError (507)
    ├── ArtifactCorruptError (500)
    ├── BundleIntegrityError (500)
    ├── OnlineStoreUnavailableError (503)
    ├── StreamUnavailableError (503)
    ├── ServerUnreachableError (502)
    └── ServerStoppingError (503)

The model server (``mlops-lab serve``) answers an ``InvalidInputError`` of
status 400 with 422 (a field it cannot use), except ``MalformedBodyError``
(400: the body is not strict JSON).

Every subclass is defined here (``tests/test_errors_home.py`` checks it), with
one exception: ``mlops_lab.handoff.contract._RelayedError`` re-raises, in the
parent process, an error the ``mlops-lab handoff`` child reported, under the
child's type name and status. It is private to that relay: nothing raises or
catches it by name.

Services raise these; the server's base handler and the CLI turn them into
an HTTP error body or a message and exit code, once, in one place each.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "ArtifactCorruptError",
    "ArtifactNotFoundError",
    "BundleIntegrityError",
    "CatalogBusyError",
    "CatalogDamagedError",
    "CatalogError",
    "CatalogMissingError",
    "ConflictError",
    "DataCheckError",
    "DatasetNotFoundError",
    "DiskFullError",
    "FeatureNotFoundError",
    "FeatureTransformError",
    "InvalidArtifactIdError",
    "InvalidFieldError",
    "InvalidInputError",
    "KernelNotFoundError",
    "MalformedBodyError",
    "MlopsLabError",
    "NotACatalogError",
    "NotFoundError",
    "OnlineStoreUnavailableError",
    "PayloadTooLargeError",
    "PipelineNotFoundError",
    "PipelineSpecError",
    "PortUnavailableError",
    "ReadOnlyCatalogError",
    "RequestBodyError",
    "RunNotFoundError",
    "SchemaVersionError",
    "ServerStoppingError",
    "ServerUnreachableError",
    "SignatureMismatchError",
    "StageTakenError",
    "StreamUnavailableError",
    "UnknownEntityError",
    "UnsafeModelError",
    "WorkspaceConfigError",
    "WorkspaceNotFoundError",
]


def _rebuild(cls: type[MlopsLabError], message: str, state: dict[str, Any]) -> MlopsLabError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class MlopsLabError(Exception):
    """Base class of every mlops-lab error."""

    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take their own arguments; rebuild from the attributes instead, so an
        # error crosses process boundaries (multiprocessing, dask workers) intact.
        return (_rebuild, (type(self), self.message, self.__dict__))

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body used by the REST API and ``--json`` output."""
        return {
            "type": type(self).__name__,
            "status": self.http_status,
            "message": self.message,
        }


class InvalidInputError(MlopsLabError):
    """The caller passed a value that cannot be used."""

    http_status = 400


class InvalidArtifactIdError(InvalidInputError):
    """An artifact id that is not a lowercase hex SHA-256 digest."""

    def __init__(self, value: str) -> None:
        shown = value if len(value) <= 80 else value[:77] + "..."
        super().__init__(
            f"Invalid artifact id {shown!r}: expected 64 lowercase hexadecimal characters "
            "(a SHA-256 digest), e.g. the 'hash' field of `mlops-lab artifacts list --json`."
        )
        self.value = value


class NotFoundError(MlopsLabError):
    """Something that was asked for does not exist."""

    http_status = 404


class WorkspaceNotFoundError(NotFoundError):
    """No ``mlops_lab.yaml`` was found."""

    def __init__(self, start: Path, *, from_env: bool = False) -> None:
        if from_env:
            where = f"MLOPS_LAB_HOME points at {start}, which has no mlops_lab.yaml"
        else:
            where = f"no mlops_lab.yaml in {start} or any parent folder"
        super().__init__(
            f"No mlops-lab workspace found: {where}. "
            "Create one with `mlops-lab init [DIR]`, or set MLOPS_LAB_HOME to a workspace folder."
        )
        self.start = start


class ArtifactNotFoundError(NotFoundError):
    """No artifact with that hash is stored."""

    def __init__(self, digest: str) -> None:
        super().__init__(
            f"No artifact {digest} in this workspace. "
            "List what is stored with `mlops-lab artifacts list`."
        )
        self.digest = digest


class ConflictError(MlopsLabError):
    """The request is valid but not possible in the current state (e.g. cancel a finished run)."""

    http_status = 409


class WorkspaceConfigError(MlopsLabError):
    """``mlops_lab.yaml`` cannot be read or is not valid."""

    http_status = 422

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"Invalid workspace file {path}: {problem}")
        self.path = path
        self.problem = problem


class PipelineSpecError(MlopsLabError):
    """A pipeline in ``mlops_lab.yaml`` (or one of its notebooks) is not valid.

    Every problem found is listed, each naming the pipeline, stage and field.
    """

    http_status = 422

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        if len(problems) == 1:
            text = f"Invalid pipeline: {problems[0]}."
        else:
            text = "Invalid pipelines:\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(text)


class DataCheckError(MlopsLabError):
    """A dataset version breaks checks declared for it in ``mlops_lab.yaml``.

    ``failed`` holds each failing check (name, message, failing rows, sample rows).
    """

    http_status = 422

    def __init__(self, message: str, *, dataset: str, failed: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.failed = failed

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "dataset": self.dataset, "failed": self.failed}


class PipelineNotFoundError(NotFoundError):
    def __init__(self, name: str, known: list[str]) -> None:
        listed = ", ".join(sorted(known)) if known else "none are defined"
        super().__init__(
            f"No pipeline {name!r} in mlops_lab.yaml (pipelines: {listed}). "
            "Add it under 'pipelines:' or run one of those."
        )
        self.name = name


class RunNotFoundError(NotFoundError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"No run {run_id!r}. List runs with `mlops-lab runs list`.")
        self.run_id = run_id


class CatalogError(MlopsLabError):
    """The catalog database cannot be used."""


class NotACatalogError(CatalogError):
    """The catalog path holds a file that is not a DuckDB database."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"{path} is not a DuckDB catalog ({detail}). It was left untouched: "
            "move it aside (e.g. to catalog.duckdb.bad) and run `mlops-lab init` to create "
            "a new catalog, or restore it from a backup."
        )
        self.path = path


class SchemaVersionError(CatalogError):
    """The catalog was written by a newer mlops-lab."""

    http_status = 409

    def __init__(self, path: Path, found: int, supported: int) -> None:
        super().__init__(
            f"The catalog {path} has schema version {found}, but this mlops-lab "
            f"understands versions up to {supported}. It was written by a newer mlops-lab: "
            "upgrade with `pip install -U mlops_lab`. The catalog was not modified."
        )
        self.path = path
        self.found = found
        self.supported = supported


class CatalogBusyError(CatalogError):
    """Another process kept the catalog locked past every retry."""

    http_status = 503

    def __init__(self, path: Path, waited: float, detail: str) -> None:
        super().__init__(
            f"The catalog {path} stayed locked by another process for {waited:.1f} s "
            f"({detail}). Nothing was written. Close long-running sessions that hold it "
            "open (a DuckDB connection in a notebook, for example) and try again."
        )
        self.path = path
        self.waited = waited


class CatalogDamagedError(CatalogError):
    """The catalog file is a DuckDB database but cannot be read (truncated, damaged)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"The catalog {path} is damaged and cannot be read ({detail}). Nothing was written. "
            "Restore it from a backup, or move it aside and run `mlops-lab init --repair` to "
            "start a new catalog that keeps the artifacts on disk."
        )
        self.path = path


class CatalogMissingError(CatalogError):
    """The catalog file is gone although the workspace still holds artifacts."""

    http_status = 409

    def __init__(self, path: Path, blobs: int) -> None:
        super().__init__(
            f"The catalog {path} is missing, but the workspace still holds {blobs} stored "
            "artifact(s). It was not recreated empty: restore it from a backup, or run "
            "`mlops-lab init --repair` to start a new catalog that keeps those artifacts."
        )
        self.path = path
        self.blobs = blobs


class ReadOnlyCatalogError(CatalogError):
    """A write to a catalog this process may only read."""

    http_status = 409

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"The catalog {path} is read-only here ({detail}). Reading works; to write, "
            "use an account that may write to the workspace folder, or copy the workspace."
        )
        self.path = path


class DiskFullError(CatalogError):
    """The disk holding the workspace has no space left."""

    http_status = 507

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"The disk holding {path} is full ({detail}). Nothing was written. Free some "
            "space (`mlops-lab gc` removes unused artifacts) and try again."
        )
        self.path = path


class ArtifactCorruptError(MlopsLabError):
    """A stored blob no longer matches its content hash."""

    def __init__(
        self,
        digest: str,
        actual: str,
        *,
        path: str | None = None,
        references: list[tuple[str, str, str]] | None = None,  # kind, name, how to re-create
    ) -> None:
        used = references or []
        what = "; ".join(f"{kind} {name}" for kind, name, _ in used)
        where = path or "`.mlops_lab/artifacts`"
        redo = "; ".join(dict.fromkeys(how for *_, how in used)) or "re-create it from its run"
        super().__init__(
            f"Artifact {digest}{f' ({what})' if what else ''} is corrupted: its stored bytes "
            f"at {where} hash to {actual}. The blob was left in place for inspection. "
            f"To recover, restore it from a backup, or {redo} (storing the same bytes again "
            "repairs the blob); `mlops-lab artifacts verify` checks every blob."
        )
        self.digest = digest
        self.actual = actual
        self.path = path
        self.references = used

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["artifact"] = {
            "hash": self.digest,
            "path": self.path,
            "used_by": [{"kind": k, "name": n} for k, n, _ in self.references],
        }
        return body


class BundleIntegrityError(MlopsLabError):
    """A model bundle's file does not match the hash its manifest records (or is missing)."""

    def __init__(self, bundle: str, problems: list[str]) -> None:
        super().__init__(
            f"The model bundle {bundle} is damaged or was changed after it was built: "
            f"{'; '.join(problems)}. It was not served. Build it again (`mlops-lab package`) "
            "or unpack the archive the catalog records."
        )
        self.bundle = bundle
        self.problems = problems


class PayloadTooLargeError(InvalidInputError):
    """A request body, or the batch in it, larger than the API or the model server accepts.

    ``size`` and ``limit`` count bytes, or instances for a batch that holds too many;
    ``message`` replaces the default text where the caller can say more.
    """

    http_status = 413

    def __init__(self, size: int, limit: int, *, message: str | None = None) -> None:
        super().__init__(
            message
            or f"The request body is {size} bytes; at most {limit} bytes are accepted. "
            "Send less at once (for example, fewer instances per request)."
        )
        self.size = size
        self.limit = limit


class RequestBodyError(InvalidInputError):
    """A request body that does not match its schema in the API's spec (``openapi.yaml``).

    ``fields`` names each wrong field (``split``, ``instances[2].features.x``) with the
    reason; the REST error body carries them as ``fields: [{"field", "reason"}]``.
    """

    http_status = 422

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self.fields = fields
        listed = "; ".join(f"{field}: {reason.rstrip('.')}" for field, reason in fields[:10])
        more = f" (and {len(fields) - 10} more)" if len(fields) > 10 else ""
        super().__init__(f"The request body is not valid: {listed}{more}.")

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "fields": [{"field": field, "reason": reason} for field, reason in self.fields],
        }


class StageTakenError(ConflictError):
    """A handoff would take over a stage that already runs another notebook."""

    def __init__(self, *, pipeline: str, stage: str, taken_by: str, notebook: str, suggested: str):
        super().__init__(
            f"Stage {stage!r} of pipeline {pipeline!r} already runs {taken_by}; checking "
            f"{notebook} under that name would take it over. Give it another name: "
            f"--stage {suggested} (or choose your own with --stage)."
        )
        self.pipeline = pipeline
        self.stage = stage
        self.taken_by = taken_by
        self.notebook = notebook
        self.suggested = suggested

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "stage": self.stage,
            "taken_by": self.taken_by,
            "suggested_stage": self.suggested,
        }


class KernelNotFoundError(InvalidInputError):
    """The kernel a notebook should run in is not installed (and none can stand in)."""

    def __init__(self, name: str | None, installed: list[str], *, problem: str) -> None:
        listed = ", ".join(installed) or "none"
        super().__init__(
            f"{problem} (installed kernels: {listed}). Pass one of those with --kernel (or a "
            "stage's 'kernel:' in mlops_lab.yaml), or install the kernel; "
            "`jupyter kernelspec list` shows what is installed."
        )
        self.name = name
        self.installed = installed


class MalformedBodyError(InvalidInputError):
    """400: the body is not strict JSON, or it is nested too deeply."""


class InvalidFieldError(InvalidInputError):
    """422: one field of the body cannot be used; ``field`` names it."""

    http_status = 422

    def __init__(self, field: str, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.problems = problems

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.problems is not None:  # each problem of the field, naming its path
            body["problems"] = list(self.problems)
        return body


class FeatureTransformError(InvalidInputError):
    """A feature view's transform failed when it was computed."""

    def __init__(self, view: str, detail: str) -> None:
        super().__init__(f"The transform of feature view {view!r} failed in DuckDB: {detail}")
        self.view = view


class SignatureMismatchError(InvalidInputError):
    """A frame that does not match the columns and kinds a model was registered with."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The frame does not match the model's signature: " + "; ".join(problems))
        self.problems = problems


class UnsafeModelError(InvalidInputError):
    """A model with no safe format to store it in, or stored needing unsafe types to load."""


class DatasetNotFoundError(NotFoundError):
    """No dataset (or no such version of it) in this workspace."""

    def __init__(self, name: str, version: int | None, known: list[str]) -> None:
        what = f"{name!r}" if version is None else f"{name!r} version {version}"
        listed = ", ".join(known) if known else "none"
        super().__init__(
            f"No dataset {what} (known {'versions' if version is not None else 'datasets'}: "
            f"{listed}). Save one with ctx.save_dataset(name, df)."
        )


class FeatureNotFoundError(NotFoundError):
    """No entity or feature view of that name (close names are suggested)."""

    def __init__(self, what: str, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listed = ", ".join(sorted(known)[:20]) if known else "none registered"
        super().__init__(f"No {what} {name!r}.{hint} (known: {listed})")
        self.name = name


class UnknownEntityError(NotFoundError):
    """The model server knows no such entity (no online features for its key)."""


class PortUnavailableError(ConflictError):
    """The model server cannot listen on the host and port asked for."""


class OnlineStoreUnavailableError(MlopsLabError):
    """The online store cannot be reached (feature lookups and the model server answer 503)."""

    http_status = 503

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(
            f"The online store {url} cannot be reached ({detail}). The offline store and "
            "training frames still work; start the server or fix online_store in mlops_lab.yaml."
        )
        self.url = url


class StreamUnavailableError(MlopsLabError):
    """A message broker (a feature view's stream source) cannot be reached."""

    http_status = 503

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(
            f"The stream {url} cannot be reached ({detail}). Start the broker or fix the "
            "view's stream source; the consumer retries with backoff and loses nothing."
        )
        self.url = url


class ServerUnreachableError(MlopsLabError):
    """A model server this workspace started does not answer."""

    http_status = 502


class ServerStoppingError(MlopsLabError):
    """The model server is shutting down and takes no more requests."""

    http_status = 503
