"""Opening a model bundle to serve it, without the workspace it came from.

:func:`open_bundle` reads ``bundle.json``, checks every file against the hash
the manifest records (and the model file against the model version's artifact
hash; a damaged or changed file is a :class:`BundleIntegrityError`, nothing is
served), loads the model through the same safe formats as the model store
(skops; pickle only when the version was registered trusted), and resolves the
online store: ``--online-store``, else ``MLOPS_LAB_ONLINE_STORE``, else the URL
the bundle was built with. The workspace's embedded online store is a file
inside the workspace, not in the bundle: such a bundle is served with a Redis
URL or the path of an ``online.duckdb`` file, or is refused with that advice.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mlops_lab.artifacts.verified import hash_file
from mlops_lab.errors import BundleIntegrityError, InvalidInputError
from mlops_lab.features.online import EmbeddedOnlineStore, RedisOnlineStore
from mlops_lab.models.formats import load_model_bytes
from mlops_lab.models.lookup import LoadedModel
from mlops_lab.models.version import ModelVersion
from mlops_lab.serving.inputs import ModelInputs, inputs_from_plan
from mlops_lab.serving.models import ModelSlot
from mlops_lab.serving.predictor import Predictor
from mlops_lab.serving.predlog import PredictionLog

__all__ = ["MANIFEST", "ONLINE_STORE_ENV", "OpenBundle", "open_bundle", "without_password"]

MANIFEST = "bundle.json"
ONLINE_STORE_ENV = "MLOPS_LAB_ONLINE_STORE"
FORMAT = 1


@dataclass(frozen=True, kw_only=True)
class OpenBundle:
    """A bundle checked and loaded: its folder, manifest (and hash), model and inputs."""

    folder: Path
    manifest: dict[str, Any]
    manifest_hash: str
    loaded: LoadedModel
    inputs: ModelInputs
    store_url: str | None

    def predictor(self, *, log: PredictionLog | None = None) -> Predictor:
        """The model server's predictor for this bundle (the same one ``mlops-lab serve``
        uses; the version is fixed)."""
        model = self.manifest["model"]
        slot = ModelSlot(None, model["ref"], variant="champion", loaded=self.loaded)
        key = (str(model["name"]), int(model["version"]))
        about = {
            "bundle": {
                "manifest_hash": self.manifest_hash,
                "built_from": model["ref"],
                "created_at": self.manifest["created_at"],
                "online_store": without_password(self.store_url),
            }
        }
        return Predictor(None, slot, log=log, inputs={key: self.inputs}, about=about)


def without_password(url: str | None) -> str | None:
    """A store URL as the manifest and /metadata show it: without its password."""
    if not url or "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host
    netloc += f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=netloc))


def _unpacked(path: Path) -> Path:
    """A bundle folder: ``path`` itself, or the archive unpacked into a temporary folder."""
    if path.is_dir():
        return path
    if path.is_file() and tarfile.is_tarfile(path):
        target = Path(tempfile.mkdtemp(prefix="mlops-lab-bundle-"))
        atexit.register(shutil.rmtree, target, ignore_errors=True)  # served from it till exit
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(target, filter="data")
        inner = [p for p in target.iterdir() if p.is_dir()]
        return inner[0] if len(inner) == 1 and not (target / MANIFEST).exists() else target
    raise InvalidInputError(
        f"No model bundle at {path}: give the folder or the .tar.gz `mlops-lab package` wrote."
    )


def _manifest(folder: Path) -> tuple[dict[str, Any], str]:
    source = folder / MANIFEST
    if not source.is_file():
        raise InvalidInputError(
            f"{folder} is not a model bundle: it has no {MANIFEST} (`mlops-lab package` makes one)."
        )
    raw = source.read_bytes()
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise BundleIntegrityError(str(folder), [f"{MANIFEST} is not JSON ({exc})"]) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInputError(
            f"{folder}/{MANIFEST} is not a bundle manifest of format {FORMAT} "
            f"(found {manifest.get('format') if isinstance(manifest, dict) else manifest!r})."
        )
    return manifest, hashlib.sha256(raw).hexdigest()


def _verify(folder: Path, manifest: dict[str, Any], expect: str | None, digest: str) -> None:
    problems = []
    if expect is not None and expect != digest:
        problems.append(f"{MANIFEST} hashes to {digest}, expected {expect}")
    for name, wanted in sorted(manifest["files"].items()):
        path = folder / name
        if not path.resolve().is_relative_to(folder.resolve()):
            problems.append(f"{name} is outside the bundle")
        elif not path.is_file():
            problems.append(f"{name} is missing")
        elif (actual := hash_file(path)) != wanted:
            problems.append(f"{name} hashes to {actual}, the manifest records {wanted}")
    model = manifest["model"]
    if manifest["files"].get(model["file"]) != model["artifact_hash"]:
        problems.append(f"{model['file']} is not the model version's artifact")
    if problems:
        raise BundleIntegrityError(str(folder), problems)


def _store(
    manifest: dict[str, Any], url: str | None
) -> tuple[EmbeddedOnlineStore | RedisOnlineStore | None, str | None]:
    online = manifest["online"]
    if not online["features"]:
        return None, None
    chosen = url or os.environ.get(ONLINE_STORE_ENV) or online["store"]
    views = ", ".join(online["features"])
    if not chosen or chosen == "embedded":
        raise InvalidInputError(
            f"This model reads online features ({views}) and was packaged from a workspace "
            "whose online store is embedded (a file in the workspace, not in the bundle). "
            f"Give the online store: --online-store redis://host:6379/0 (or {ONLINE_STORE_ENV}), "
            "or the path of that workspace's .mlops_lab/online.duckdb."
        )
    if chosen.startswith(("redis://", "rediss://", "unix://")):
        return RedisOnlineStore(chosen), chosen  # connects on its first read
    path = Path(chosen.removeprefix("duckdb://"))
    if path.suffix == ".duckdb" and path.is_file():
        return EmbeddedOnlineStore(path), str(path)
    raise InvalidInputError(
        f"Unknown online store {chosen!r}: give a redis:// URL or the path of an existing "
        "online.duckdb file."
    )


def open_bundle(
    path: Path | str,
    *,
    store_url: str | None = None,
    expect_hash: str | None = None,
    connect: bool = True,
) -> OpenBundle:
    """Check and load the bundle at ``path`` (a folder or its .tar.gz); ``expect_hash`` is
    the manifest hash the catalog records. ``connect=False`` (checking a bundle) opens no
    embedded store and needs no online store given."""
    folder = _unpacked(Path(path))
    manifest, digest = _manifest(folder)
    _verify(folder, manifest, expect_hash, digest)
    model = manifest["model"]
    data = (folder / model["file"]).read_bytes()
    version = ModelVersion(
        name=model["name"],
        version=int(model["version"]),
        flavor=model["flavor"],
        artifact_hash=model["artifact_hash"],
        trusted=bool(model["trusted"]),
        signature=model["signature"],
        run_id=model.get("run_id"),
        stage=None,
        training_dataset=model.get("training_dataset"),
        feature_views=list(model.get("feature_views", [])),
        parameters={},
        description="",
        tags=[],
        created_at=_time(model["created_at"]),
        aliases=tuple(model.get("aliases", [])),
    )
    loaded = LoadedModel(version, load_model_bytes(version.flavor, data, trusted=version.trusted))
    online = manifest["online"]
    if connect:
        store, url = _store(manifest, store_url)
    elif str(online["store"] or "").startswith(("redis://", "rediss://", "unix://")):
        store, url = RedisOnlineStore(online["store"]), online["store"]  # not connected
    else:  # checking the bundle only: no online store is opened
        store, url, online = None, None, {**online, "features": {}}
    inputs = inputs_from_plan(online, version.signature, store)
    return OpenBundle(
        folder=folder,
        manifest=manifest,
        manifest_hash=digest,
        loaded=loaded,
        inputs=inputs,
        store_url=url,
    )


def _time(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)
