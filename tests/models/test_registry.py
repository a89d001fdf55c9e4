from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_lab import Workspace
from mlops_lab.errors import (
    ArtifactCorruptError,
    InvalidInputError,
    NotFoundError,
    SignatureMismatchError,
)
from mlops_lab.models import (
    alias_history,
    get_model_version,
    list_models,
    load_model,
    promote,
    register_model,
)


def _data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"tenure": rng.integers(1, 60, 200), "spend": rng.gamma(2.0, 20.0, 200)})
    return frame, (frame.spend > 40).astype(int)


def _pipeline(c: float = 1.0):  # type: ignore[no-untyped-def]
    X, y = _data()
    return make_pipeline(StandardScaler(), LogisticRegression(C=c)).fit(X, y)


def test_register_load_and_predict_with_a_safe_format(workspace: Workspace) -> None:
    X, _ = _data()
    first = register_model(
        workspace,
        "churn",
        _pipeline(),
        X_sample=X.head(),
        description="v1",
        training_dataset="train@1",
        parameters={"C": 1.0},
    )
    second = register_model(workspace, "churn", _pipeline(0.1), X_sample=X.head())
    assert (first.version, second.version) == (1, 2)
    assert first.flavor == "sklearn-skops" and not first.trusted
    assert first.signature == {
        "inputs": [
            {"name": "tenure", "kind": "int", "dtype": "int64"},
            {"name": "spend", "kind": "float", "dtype": "float64"},
        ],
        "output": {"kind": "classification", "classes": [0, 1]},
    }
    loaded = load_model(workspace, "churn/1")
    expected = _pipeline().predict_proba(X)
    np.testing.assert_allclose(loaded.predict_proba(X), expected)
    assert get_model_version(workspace, "churn").version == 2
    assert get_model_version(workspace, "churn/1").training_dataset == "train@1"
    assert list_models(workspace) == [
        {"name": "churn", "latest": 2, "versions": 2, "aliases": None}
    ]


def test_aliases_move_with_an_append_only_history(workspace: Workspace) -> None:
    X, _ = _data()
    for c in (1.0, 0.5):
        register_model(workspace, "churn", _pipeline(c), X_sample=X)
    first = promote(workspace, "churn", 1, alias="champion", reason="first model", by="ana")
    assert first == {"name": "churn", "alias": "champion", "from": None, "to": 1, "by": "ana"}
    promote(workspace, "churn", 2, alias="challenger", reason="try C=0.5", by="ana")
    promote(workspace, "churn", 2, alias="champion", reason="won the A/B test", by="ben")
    assert get_model_version(workspace, "churn@champion").version == 2
    assert get_model_version(workspace, "churn@champion").aliases == ("challenger", "champion")
    history = alias_history(workspace, "churn")
    assert [
        (h["alias"], h["from_version"], h["to_version"], h["changed_by"], h["reason"])
        for h in history
    ] == [
        ("champion", None, 1, "ana", "first model"),
        ("challenger", None, 2, "ana", "try C=0.5"),
        ("champion", 1, 2, "ben", "won the A/B test"),
    ]
    assert load_model(workspace, "churn@champion").version.version == 2


def test_predict_names_missing_and_mistyped_columns(workspace: Workspace) -> None:
    X, _ = _data()
    register_model(workspace, "churn", _pipeline(), X_sample=X)
    model = load_model(workspace, "churn")
    with pytest.raises(SignatureMismatchError, match=r"missing column 'spend' \(float64\)"):
        model.predict(X.drop(columns="spend"))
    with pytest.raises(
        SignatureMismatchError, match=r"column 'tenure' is (object|str), expected int64"
    ):
        model.predict(X.assign(tenure=X.tenure.astype(str)))
    assert len(model.predict(X[["spend", "tenure"]].assign(extra=1))) == len(X)  # order, extras


def test_unknown_models_versions_and_aliases_list_what_exists(workspace: Workspace) -> None:
    X, _ = _data()
    register_model(workspace, "churn", _pipeline(), X_sample=X)
    promote(workspace, "churn", 1, alias="champion", reason="r")
    with pytest.raises(NotFoundError, match=r"No model 'chrn'.*Did you mean 'churn'"):
        get_model_version(workspace, "chrn")
    with pytest.raises(NotFoundError, match=r"no version 7 \(versions: 1\)"):
        get_model_version(workspace, "churn/7")
    with pytest.raises(NotFoundError, match=r"no alias 'prod' \(aliases: champion -> 1\)"):
        get_model_version(workspace, "churn@prod")
    for bad in ("churn/x", "../churn", "churn@@a"):
        with pytest.raises(InvalidInputError, match="Invalid model reference"):
            get_model_version(workspace, bad)
    with pytest.raises(InvalidInputError, match="Give a reason"):
        promote(workspace, "churn", 1, alias="champion", reason=" ")
    with pytest.raises(NotFoundError):
        promote(workspace, "churn", 9, alias="champion", reason="nope")
    assert len(alias_history(workspace, "churn")) == 1


class _Custom:
    def predict(self, frame: pd.DataFrame) -> list[int]:
        return [0] * len(frame)


def test_objects_without_a_safe_flavor_need_trusted(workspace: Workspace) -> None:
    with pytest.raises(InvalidInputError, match="register it with trusted=True"):
        register_model(workspace, "custom", _Custom())
    assert workspace.catalog.read_value("SELECT count(*) FROM model_versions") == 0
    version = register_model(workspace, "custom", _Custom(), trusted=True)
    assert version.flavor == "pickle" and version.trusted
    assert load_model(workspace, "custom").predict(pd.DataFrame({"a": [1, 2]})) == [0, 0]
    # With a sample: the inputs are recorded; the output kind is what the model says.
    sample = pd.DataFrame({"a": [1.0, 2.0]})
    second = register_model(workspace, "custom", _Custom(), trusted=True, X_sample=sample)
    assert second.signature is not None
    assert second.signature["output"] == {"kind": "unknown"}
    assert second.signature["inputs"] == [{"name": "a", "kind": "float", "dtype": "float64"}]
    regressor = _Custom()
    regressor._estimator_type = "regressor"  # type: ignore[attr-defined]
    third = register_model(workspace, "custom", regressor, trusted=True, X_sample=sample)
    assert third.signature is not None and third.signature["output"] == {"kind": "regression"}


def test_a_corrupted_model_artifact_is_refused(workspace: Workspace) -> None:
    X, _ = _data()
    version = register_model(workspace, "churn", _pipeline(), X_sample=X)
    blob = workspace.state_dir / "artifacts" / version.artifact_hash[:2] / version.artifact_hash
    blob.write_bytes(blob.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ArtifactCorruptError):
        load_model(workspace, "churn")


def test_models_cli(workspace: Workspace) -> None:
    import json

    from click.testing import CliRunner

    from mlops_lab.cli import cli

    X, _ = _data()
    register_model(workspace, "churn", _pipeline(), X_sample=X)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--workspace", str(workspace.root), "models", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    moved = run("promote", "churn", "1", "--alias", "champion", "--reason", "first")
    assert moved.strip() == "churn@champion: - -> 1"
    assert json.loads(run("list", "--json"))["models"][0]["aliases"] == ["champion=1"]
    shown = json.loads(run("show", "churn@champion", "--json"))
    assert shown["version"] == 1 and shown["alias_history"][0]["reason"] == "first"
    assert "tenure:int64" in run("show", "churn")
    failed = runner.invoke(cli, ["--workspace", str(workspace.root), "models", "show", "nope"])
    assert failed.exit_code == 1 and "No model 'nope'" in failed.stderr
