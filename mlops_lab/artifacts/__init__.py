"""Content-addressed artifact store (local folder by default; any fsspec URL)."""

from mlops_lab.artifacts.location import BlobLocation
from mlops_lab.artifacts.store import (
    PARQUET,
    Artifact,
    ArtifactStore,
    dataframe_to_parquet,
    register_artifact,
    validate_hash,
)

__all__ = [
    "PARQUET",
    "Artifact",
    "ArtifactStore",
    "BlobLocation",
    "dataframe_to_parquet",
    "register_artifact",
    "validate_hash",
]
