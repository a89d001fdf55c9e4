"""Content-addressed artifact store (local folder by default; any fsspec URL)."""

from mlops_lab.artifacts.location import BlobLocation
from mlops_lab.artifacts.records import PARQUET, Artifact, register_artifact, validate_hash
from mlops_lab.artifacts.store import ArtifactStore, dataframe_to_parquet

__all__ = [
    "PARQUET",
    "Artifact",
    "ArtifactStore",
    "BlobLocation",
    "dataframe_to_parquet",
    "register_artifact",
    "validate_hash",
]
