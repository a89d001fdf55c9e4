"""``mlops-lab package``: a model version as a deployable bundle (folder + archive).

A bundle holds everything needed to serve one model version without the
workspace it came from (like a BentoML bento, or what MLflow's
``models build-docker`` builds from)::

    churn-v3/
      bundle.json         the manifest: model (name, version, the reference it was built
                          from), flavor, signature, the online features and how to read
                          them (views, versions, join keys, windows, TTLs), the online
                          store URL, every file's sha256, created_at, mlops-lab version
      model.skops         the model in its safe format (model.pkl only for a version
                          registered trusted)
      requirements.lock   the serving environment pinned (see bundle_env)
      wheels/             mlops-lab's serving wheel (no JupyterLab frontend)
      Dockerfile          an OCI build context: python:3.x-slim, the lock, the bundle
      .dockerignore

and ``churn-v3.tar.gz`` beside it, stored as an artifact (content-addressed) and
recorded in the catalog against the model version
(:mod:`mlops_lab.models.bundles`). ``python -m mlops_lab.serving churn-v3``
serves it (:mod:`mlops_lab.serving.bundle_load`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlops_lab._version import __version__
from mlops_lab.artifacts.verified import hash_file
from mlops_lab.models.bundles import ModelBundle, record_bundle
from mlops_lab.models.formats import PICKLE
from mlops_lab.models.lookup import get_model_version, load_model
from mlops_lab.serving.bundle_env import (
    DOCKERIGNORE,
    SERVING_VERSION,
    build_serving_wheel,
    dockerfile,
    lock_text,
    pinned_closure,
    serving_roots,
)
from mlops_lab.serving.bundle_load import FORMAT, MANIFEST, ONLINE_STORE_ENV, without_password
from mlops_lab.serving.inputs import inputs_plan, model_inputs
from mlops_lab.workspace import Workspace

__all__ = ["DEFAULT_PORT", "build_bundle"]

DEFAULT_PORT = 8000
_CHUNK = 1 << 20


def _manifest(workspace: Workspace, ref: str) -> tuple[dict[str, Any], bytes]:
    version = get_model_version(workspace, ref)
    loaded = load_model(workspace, version.ref)
    inputs = model_inputs(workspace, loaded)
    model = {
        "name": version.name,
        "version": version.version,
        "ref": ref,
        "alias": ref.partition("@")[2] or None,
        "aliases": list(version.aliases),
        "flavor": version.flavor,
        "trusted": version.trusted,
        "artifact_hash": version.artifact_hash,
        "file": "model.pkl" if version.flavor == PICKLE else "model.skops",
        "signature": version.signature,
        "training_dataset": version.training_dataset,
        "feature_views": version.feature_views,
        "run_id": version.run_id,
        "created_at": version.created_at.isoformat(),
    }
    online = {
        **inputs_plan(inputs),
        "store": without_password(workspace.config.online_store or "embedded"),
        "override": ONLINE_STORE_ENV,
    }
    manifest = {
        "format": FORMAT,
        "model": model,
        "online": online,
        "serving": {
            "command": "python -m mlops_lab.serving BUNDLE [--online-store URL] [--port N]",
            "port": DEFAULT_PORT,
        },
        "mlops_lab_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
        "files": {},
    }
    return manifest, workspace.artifacts.get_bytes(version.artifact_hash)


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> bytes:
    raw = (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode()
    (folder / MANIFEST).write_bytes(raw)
    return raw


def _archive(folder: Path, target: Path) -> None:
    """``folder`` as a .tar.gz, entries sorted, times and owners fixed (same files, same
    bytes)."""
    top = Path(target.name.removesuffix(".tar.gz"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in [folder, *sorted(folder.rglob("*"))]:
            info = tar.gettarinfo(str(path), arcname=str(top / path.relative_to(folder)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            info.mode = 0o755 if path.is_dir() else 0o644
            if path.is_file():
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(buffer.getvalue())


def build_bundle(
    workspace: Workspace, ref: str, *, out: Path | None = None, by: str | None = None
) -> dict[str, Any]:
    """Package ``ref`` (``churn@champion``, ``churn/3``) into ``out`` (default
    ``.mlops_lab/bundles``): the folder, its archive, stored and recorded. A bundle that
    does not load in a fresh Python is not written."""
    manifest, model_bytes = _manifest(workspace, ref)
    model = manifest["model"]
    name = f"{model['name']}-v{model['version']}"
    target_dir = Path(out) if out is not None else workspace.state_dir / "bundles"
    target_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target_dir))
    try:
        (work / model["file"]).write_bytes(model_bytes)
        manifest["files"] = {model["file"]: hash_file(work / model["file"])}
        _write_manifest(work, manifest)
        roots = serving_roots(work)  # also proves the bundle loads without the workspace
        pins = pinned_closure(roots)
        wheel = build_serving_wheel(work / "wheels", roots)
        about = f"Serving environment of {model['name']} v{model['version']} ({ref})"
        (work / "requirements.lock").write_text(lock_text(pins, wheel=wheel.name, about=about))
        (work / "Dockerfile").write_text(dockerfile(port=DEFAULT_PORT))
        (work / ".dockerignore").write_text(DOCKERIGNORE)
        manifest["requirements"] = {"lock": "requirements.lock", "mlops_lab": SERVING_VERSION}
        manifest["files"] = {
            path.relative_to(work).as_posix(): hash_file(path)
            for path in sorted(work.rglob("*"))
            if path.is_file() and path.name != MANIFEST
        }
        raw = _write_manifest(work, manifest)
        folder = target_dir / name
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    archive = target_dir / f"{name}.tar.gz"
    _archive(folder, archive)
    with archive.open("rb") as handle:
        digest, size = workspace.artifacts.write_blob(iter(lambda: handle.read(_CHUNK), b""))
    recorded: ModelBundle = record_bundle(
        workspace,
        model=model["name"],
        version=int(model["version"]),
        ref=ref,
        artifact_hash=digest,
        size=size,
        manifest_hash=hashlib.sha256(raw).hexdigest(),
        path=str(folder),
        online_store=manifest["online"]["store"],
        mlops_lab_version=__version__,
        created_by=by,
    )
    return {
        **recorded.to_dict(),
        "folder": str(folder),
        "archive": str(archive),
        "packages": len(pins) + 1,
        "docker_build": f"docker build -t {model['name']}:{model['version']} {folder}",
        "serve": f"python -m mlops_lab.serving {folder}",
    }
