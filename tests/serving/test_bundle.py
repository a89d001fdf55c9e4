"""Model bundles: packaged from the workspace, installed into a fresh virtualenv from the
bundle alone (plus the package index), served with the workspace moved away."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tornado.httpclient import HTTPClientError

from mlops_lab.datasets import save_dataset
from mlops_lab.errors import BundleIntegrityError, InvalidInputError
from mlops_lab.models import promote, register_model
from mlops_lab.models.bundles import list_bundles
from mlops_lab.serving.app import make_app
from mlops_lab.serving.bundle import build_bundle
from mlops_lab.serving.bundle_load import open_bundle, without_password
from mlops_lab.serving.predictor import Predictor
from mlops_lab.serving.predlog import read_predictions
from mlops_lab.workspace import Workspace, init_workspace
from tests.cli_runner import run_cli
from tests.serving.inprocess import call, listening

CUSTOMERS = [f"c{i:03d}" for i in range(60)]
ASKED = ["c001", "c007", "c023", "c042", "c059"]
# The venv is built once per machine state: pip's cache keeps the wheels it downloads.
_VENV_TIMEOUT = 600


def _workspace(root: Path, online_store: str | None) -> Workspace:
    """A small workspace: purchases, a plain and a window feature view materialized into
    the online store, a model on their features promoted to champion."""
    ws = init_workspace(root, name="bundle")
    if online_store:
        config = ws.root / "mlops_lab.yaml"
        config.write_text(config.read_text() + f"online_store: {online_store}\n")
        ws = Workspace(ws.root)
    rng = np.random.default_rng(7)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    events = pd.DataFrame(
        {
            "customer_id": rng.choice(CUSTOMERS, 600),
            "at": [now - pd.Timedelta(minutes=int(m)) for m in rng.integers(1, 20 * 24 * 60, 600)],
            "amount": rng.gamma(2.0, 30.0, 600).round(2),
        }
    )
    save_dataset(ws, "tx", events)
    store = ws.features
    store.register_entity("customer", ["customer_id"])
    store.register_feature_view(
        "last_purchase", entity="customer", source="tx", timestamp="at", features=["amount"]
    )
    store.register_feature_view(
        "spend",
        entity="customer",
        source="tx",
        timestamp="at",
        aggregations=[{"column": "amount", "functions": ["sum", "count"], "windows": ["7d"]}],
    )
    store.materialize("last_purchase")
    store.materialize("spend")
    frame = store.get_training_frame(
        pd.DataFrame({"customer_id": CUSTOMERS, "event_timestamp": [now] * len(CUSTOMERS)}),
        ["last_purchase:amount", "spend:amount_sum_7d", "spend:amount_count_7d"],
    )
    X = frame[["amount", "amount_sum_7d", "amount_count_7d"]].astype(float)
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    label = X.amount_sum_7d.fillna(0) > X.amount_sum_7d.median()
    model = make_pipeline(SimpleImputer(), LogisticRegression()).fit(X, label)
    version = register_model(
        ws,
        "churn",
        model,
        X_sample=X.head(),
        feature_views={
            "last_purchase@1": ["amount"],
            "spend@1": ["amount_count_7d", "amount_sum_7d"],
        },
    )
    promote(ws, "churn", int(version.version or 0), alias="champion", reason="test", by="test")
    return ws


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fresh_venv(folder: Path, lock: Path) -> Path:
    """A new virtualenv with the bundle's lock installed (pip's cache makes it quick)."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-compile", "-r", str(lock)],
        capture_output=True,
        text=True,
        timeout=_VENV_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def _serve(python: Path, bundle: Path, port: int, cwd: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MLOPS_LAB"))}
    return subprocess.Popen(
        [str(python), "-m", "mlops_lab.serving", str(bundle), "--port", str(port), *extra],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_healthy(process: subprocess.Popen[str], base: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the bundle server exited: {process.stdout.read()}")  # type: ignore[union-attr]
        try:
            status, body = call(base + "/health")
            if status == 200:
                return dict(body)
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the bundle server did not answer /health within 60 s")


def _predictions(base: str) -> dict[str, float]:
    out = {}
    for customer in ASKED:
        status, answer = call(base + "/predict", {"entity": {"customer_id": customer}})
        assert status == 200, answer
        out[customer] = answer["score"]
    return out


def test_a_bundle_serves_from_a_fresh_venv_with_the_workspace_moved_away(
    tmp_path: Path, redis_url: str
) -> None:
    ws = _workspace(tmp_path / "ws", redis_url)
    with listening(make_app(Predictor(ws, "churn@champion"))) as base:  # `mlops-lab serve`
        expected = _predictions(base)

    code, out, err = run_cli(
        "--workspace",
        str(ws.root),
        "package",
        "churn@champion",
        "--out",
        str(tmp_path / "out"),
        "--json",
    )
    assert code == 0, err
    built = json.loads(out)
    folder, archive = Path(built["folder"]), Path(built["archive"])
    assert folder == tmp_path / "out" / "churn-v1" and archive.name == "churn-v1.tar.gz"
    manifest = json.loads((folder / "bundle.json").read_text())
    assert manifest["model"] | {} == manifest["model"] and manifest["model"]["version"] == 1
    assert (
        manifest["model"]["alias"] == "champion" and manifest["model"]["flavor"] == "sklearn-skops"
    )
    assert manifest["online"]["store"] == redis_url
    assert manifest["online"]["features"] == {
        "last_purchase": ["amount"],
        "spend": ["amount_count_7d", "amount_sum_7d"],
    }
    assert sorted(manifest["files"]) == [
        ".dockerignore",
        "Dockerfile",
        "model.skops",
        "requirements.lock",
        f"wheels/mlops_lab-{manifest['requirements']['mlops_lab']}-py3-none-any.whl",
    ]
    lock = (folder / "requirements.lock").read_text()
    pinned = {line.split("==")[0] for line in lock.splitlines() if "==" in line}
    assert {"tornado", "pandas", "scikit-learn", "skops", "redis"} <= pinned
    assert not pinned & {"jupyterlab", "papermill", "jupyter-server", "pytest", "ipykernel"}
    dockerfile = (folder / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.lock" in dockerfile
    assert '"-m", "mlops_lab.serving", "/bundle"' in dockerfile

    # The catalog's record: the archive is the artifact, its hash the archive's.
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (recorded,) = list_bundles(ws, "churn", 1)
    assert recorded["artifact_hash"] == digest == built["artifact_hash"]
    assert (
        recorded["manifest_hash"]
        == hashlib.sha256((folder / "bundle.json").read_bytes()).hexdigest()
    )
    assert ws.artifacts.verify(digest).size == archive.stat().st_size
    with tarfile.open(archive) as tar:
        assert "churn-v1/bundle.json" in tar.getnames()

    started = time.monotonic()
    python = _fresh_venv(tmp_path / "venv", folder / "requirements.lock")
    installed = time.monotonic() - started
    shutil.move(ws.root, tmp_path / "moved-away")  # the workspace is gone
    port = _free_port()
    logs = tmp_path / "predictions"
    server = _serve(
        python,
        archive,
        port,
        tmp_path,
        *("--expect-hash", recorded["manifest_hash"], "--log-dir", str(logs)),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_healthy(server, base)["versions"] == {"champion": 1}
        assert _predictions(base) == pytest.approx(expected, abs=1e-12)
        _, metadata = call(base + "/metadata")
        assert metadata["bundle"]["manifest_hash"] == recorded["manifest_hash"]
        assert metadata["served"]["champion"]["online_features"] == manifest["online"]["features"]
        # As the workspace's server: a customer without a last purchase lacks that feature.
        status, answer = call(base + "/predict", {"entity": {"customer_id": "nobody"}})
        assert status == 422 and "Missing feature(s)" in answer["error"]["message"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    print(f"fresh venv installed in {installed:.1f} s")
    assert server.returncode == 0
    logged = read_predictions(logs)  # flushed at the stop: every answered prediction
    assert sorted(logged.entity.map(lambda e: json.loads(e)["customer_id"])) == sorted(ASKED)
    assert set(logged.model) == {"churn"} and set(logged.version) == {1}

    # A changed model file is refused, naming it.
    tampered = tmp_path / "tampered"
    shutil.copytree(folder, tampered)
    data = bytearray((tampered / "model.skops").read_bytes())
    data[-10] ^= 0xFF
    (tampered / "model.skops").write_bytes(bytes(data))
    refused = _serve(python, tampered, _free_port(), tmp_path)
    output, _ = refused.communicate(timeout=120)
    assert refused.returncode == 1
    assert "damaged or was changed after it was built: model.skops hashes to" in output


async def test_a_bundle_from_an_embedded_store_needs_a_store_given(
    jp_fetch: Any, jp_root_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _workspace(jp_root_dir, None)
    code, out, err = run_cli(
        "--workspace", str(ws.root), "package", "churn/1", "--out", str(tmp_path / "out")
    )
    assert code == 0, err
    folder = tmp_path / "out" / "churn-v1"
    assert out.splitlines()[0] == f"Packaged churn v1 (churn/1) into {folder}"
    assert f"image     docker build -t churn:1 {folder}" in out
    assert f"serve     python -m mlops_lab.serving {folder}" in out
    assert json.loads((folder / "bundle.json").read_text())["online"]["store"] == "embedded"
    with pytest.raises(InvalidInputError, match="online store is embedded"):
        open_bundle(folder)
    # Given the workspace's online store file, it serves what the workspace serves.
    monkeypatch.setenv("MLOPS_LAB_ONLINE_STORE", str(ws.state_dir / "online.duckdb"))
    bundle = open_bundle(folder)
    entity = {"customer_id": "c007"}
    got = bundle.predictor().predict(entity)["score"]
    assert got == pytest.approx(Predictor(ws, "churn@champion").predict(entity)["score"])
    monkeypatch.delenv("MLOPS_LAB_ONLINE_STORE")
    with pytest.raises(BundleIntegrityError, match=r"bundle\.json hashes to"):
        open_bundle(folder, store_url="redis://127.0.0.1:1/0", expect_hash="0" * 64)
    code, _, err = run_cli("--workspace", str(ws.root), "package", "nope@champion")
    assert code != 0 and "No model 'nope'" in err

    # The artifact repository over REST: the version's bundles, and in its detail.
    response = await jp_fetch("mlops-lab", "api", "models", "churn", "versions", "1", "bundles")
    (listed,) = json.loads(response.body)["bundles"]
    archive = (tmp_path / "out" / "churn-v1.tar.gz").read_bytes()
    assert listed["artifact_hash"] == hashlib.sha256(archive).hexdigest()
    assert listed["ref"] == "churn/1" and listed["size"] == len(archive)
    assert listed["created_by"] and listed["path"] == str(folder)
    response = await jp_fetch("mlops-lab", "api", "models", "churn", "versions", "1")
    assert json.loads(response.body)["bundles"] == [listed]
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("mlops-lab", "api", "models", "churn", "versions", "9", "bundles")
    assert missing.value.code == 404


def test_a_trusted_pickle_of_local_code_is_not_packaged(tmp_path: Path) -> None:
    from tests.serving.sleepy import SleepyModel

    ws = init_workspace(tmp_path / "ws", name="local")
    sample = pd.DataFrame({"x": [1.0, 2.0]})
    version = register_model(ws, "sleepy", SleepyModel(0.0), X_sample=sample, trusted=True)
    with pytest.raises(InvalidInputError, match="tests, which no installed package provides"):
        build_bundle(ws, f"sleepy/{version.version}", out=tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # nothing half-written
    assert ws.catalog.read("SELECT count(*) FROM model_bundles") == [(0,)]


def test_the_manifest_keeps_no_store_password() -> None:
    assert without_password("redis://:s3cret@cache:6379/0") == "redis://cache:6379/0"
    assert without_password("redis://app:s3cret@cache/1") == "redis://app@cache/1"
    assert without_password("redis://cache:6379/0") == "redis://cache:6379/0"
    assert without_password("embedded") == "embedded"
